"""A dose that cannot be measured out: no whole (or, for plain tablets, half) unit, or a combination
product dosed in one component's milligrams."""

from fractions import Fraction

from app.checks import amounts
from app.errors import DomainError
from app.prescribing import quantity

UNIT_WORDS = {"tablet": ("tablet", "片"), "capsule": ("capsule", "粒"), "dose": ("actuation", "揿"),
              "patch": ("patch", "贴"), "implant": ("implant", "支")}
MASS_UNITS = frozenset(quantity.MICROGRAMS)


def check(kb, line, found) -> None:
    drug = line.drug
    if drug.pack_unit not in quantity.WHOLE_UNITS:
        return  # solutions, pens and vials are measured in any amount
    try:
        units = quantity.exact_units_per_dose(drug, line.dose, line.dose_unit)
    except DomainError:
        return  # the prescribing services refuse a unit that does not fit; nothing to measure
    step = Fraction(1, 2) if drug.dosage_form in quantity.SPLITTABLE_FORMS else Fraction(1)
    if (units / step).denominator == 1:
        return
    unit_en, unit_zh = UNIT_WORDS[str(drug.pack_unit)]  # every unit taken whole has its words
    count = amounts.number(units)
    dose = f"{amounts.number(Fraction(line.dose))} {line.dose_unit}"
    en = {"drug": drug.name_en, "dose": dose, "units": f"{count} {unit_en}"}
    zh = {"drug": drug.name_zh, "dose": dose, "units": f"{count}{unit_zh}"}
    if len(drug.ingredients) > 1 and str(line.dose_unit) in MASS_UNITS:
        strength = f"{amounts.number(Fraction(drug.strength))} {drug.strength_unit}"
        found.add(kb.rules["combination-dose-in-mass"], line, en | {"strength": strength},
                  zh | {"strength": strength})
        return
    form_en, form_zh = ("scored plain tablet", "普通片") if step < 1 else (unit_en, unit_zh)
    found.add(kb.rules["dose-not-whole-unit"], line, en | {"form": form_en}, zh | {"form": form_zh})
