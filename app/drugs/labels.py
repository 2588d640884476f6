"""What the catalogue's codes are called on screen, in the user's language."""

from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from app.drugs.models import (
    ControlledClass,
    DosageForm,
    DoseUnit,
    PackUnit,
    Route,
    StrengthUnit,
    format_decimal,
)
from app.i18n import current_language
from app.labels import in_language

STRENGTH_UNITS = {
    StrengthUnit.MG: "mg", StrengthUnit.MICROGRAM: "µg", StrengthUnit.G: "g",
    StrengthUnit.IU: _l("IU"), StrengthUnit.MG_PER_ML: "mg/mL", StrengthUnit.MICROGRAM_PER_HOUR: "µg/h",
}
DOSE_UNITS = {DoseUnit.MG: "mg", DoseUnit.MICROGRAM: "µg", DoseUnit.G: "g", DoseUnit.IU: _l("IU")}

DOSAGE_FORMS = {
    DosageForm.TABLET: _l("Tablet"),
    DosageForm.SUSTAINED_RELEASE_TABLET: _l("Sustained-release tablet"),
    DosageForm.CONTROLLED_RELEASE_TABLET: _l("Controlled-release tablet"),
    DosageForm.ENTERIC_COATED_TABLET: _l("Enteric-coated tablet"),
    DosageForm.SUBLINGUAL_TABLET: _l("Sublingual tablet"),
    DosageForm.CAPSULE: _l("Capsule"),
    DosageForm.SUSTAINED_RELEASE_CAPSULE: _l("Sustained-release capsule"),
    DosageForm.ENTERIC_COATED_CAPSULE: _l("Enteric-coated capsule"),
    DosageForm.ORAL_SOLUTION: _l("Oral solution"),
    DosageForm.INJECTION: _l("Injection"),
    DosageForm.POWDER_FOR_INJECTION: _l("Powder for injection"),
    DosageForm.PEN_INJECTOR: _l("Pen injector"),
    DosageForm.PREFILLED_SYRINGE: _l("Prefilled syringe"),
    DosageForm.IMPLANT: _l("Implant"),
    DosageForm.INHALATION_POWDER: _l("Inhalation powder"),
    DosageForm.INHALATION_AEROSOL: _l("Inhalation aerosol"),
    DosageForm.TRANSDERMAL_PATCH: _l("Transdermal patch"),
}

ROUTES = {
    Route.ORAL: _l("Oral"),
    Route.SUBLINGUAL: _l("Sublingual"),
    Route.SUBCUTANEOUS: _l("Subcutaneous"),
    Route.INTRAMUSCULAR: _l("Intramuscular"),
    Route.INTRAVENOUS: _l("Intravenous"),
    Route.INHALATION: _l("Inhalation"),
    Route.TRANSDERMAL: _l("Transdermal"),
    Route.TOPICAL: _l("Topical"),
}

PACK_UNITS = {
    PackUnit.TABLET: _l("tablets"),
    PackUnit.CAPSULE: _l("capsules"),
    PackUnit.PEN: _l("pens"),
    PackUnit.CARTRIDGE: _l("cartridges"),
    PackUnit.VIAL: _l("vials"),
    PackUnit.SYRINGE: _l("syringes"),
    PackUnit.IMPLANT: _l("implants"),
    PackUnit.PATCH: _l("patches"),
    PackUnit.DOSE: _l("doses"),
    PackUnit.ML: "mL",
}

CONTROLLED_CLASSES = {
    ControlledClass.NONE: _l("Not controlled"),
    ControlledClass.NARCOTIC: _l("Narcotic"),
    ControlledClass.PSYCHOTROPIC_1: _l("Psychotropic, class 1"),
    ControlledClass.PSYCHOTROPIC_2: _l("Psychotropic, class 2"),
    ControlledClass.TOXIC: _l("Toxic (medical use)"),
    ControlledClass.RADIOACTIVE: _l("Radioactive"),
    ControlledClass.PRECURSOR: _l("Precursor chemical"),
}


def number(value: Decimal | None) -> str:
    return format_decimal(value)


def strength(drug, language: str | None = None) -> str:
    units = in_language(STRENGTH_UNITS, language or current_language())
    return f"{number(drug.strength)} {units[drug.strength_unit]}"


def max_dose(drug) -> str:
    if drug.max_daily_dose is None:
        return "—"
    return f"{number(drug.max_daily_dose)} {DOSE_UNITS[drug.max_daily_dose_unit]}"


def pack(drug) -> str:
    """'28 tablets', '1 pen', '500 mL' — the pack as printed on the box."""
    unit = drug.pack_unit
    size = drug.pack_size
    if unit == PackUnit.TABLET:
        return ngettext("%(num)d tablet", "%(num)d tablets", size)
    if unit == PackUnit.CAPSULE:
        return ngettext("%(num)d capsule", "%(num)d capsules", size)
    if unit == PackUnit.PEN:
        return ngettext("%(num)d pen", "%(num)d pens", size)
    if unit == PackUnit.CARTRIDGE:
        return ngettext("%(num)d cartridge", "%(num)d cartridges", size)
    if unit == PackUnit.VIAL:
        return ngettext("%(num)d vial", "%(num)d vials", size)
    if unit == PackUnit.SYRINGE:
        return ngettext("%(num)d syringe", "%(num)d syringes", size)
    if unit == PackUnit.IMPLANT:
        return ngettext("%(num)d implant", "%(num)d implants", size)
    if unit == PackUnit.PATCH:
        return ngettext("%(num)d patch", "%(num)d patches", size)
    if unit == PackUnit.DOSE:
        return ngettext("%(num)d dose", "%(num)d doses", size)
    return f"{size} mL"


def price(fen: int) -> str:
    return f"¥{fen // 100:,}.{fen % 100:02d}"


TEMPLATE_HELPERS = {
    "drug_strength": strength,
    "drug_max_dose": max_dose,
    "drug_pack": pack,
    "drug_price": price,
    "dosage_form_names": DOSAGE_FORMS,
    "route_names": ROUTES,
    "controlled_names": CONTROLLED_CLASSES,
}
