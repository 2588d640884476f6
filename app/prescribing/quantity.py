"""Quantity in whole packs and days' supply, computed from the sig and the drug's pack."""

# Exact arithmetic with Fraction: weekly dosing (1/7 a day) and per-container strengths would
# otherwise round in floating point, and a pack more or less is a real dispensing error.

import math
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from flask_babel import lazy_gettext as _l

from app.drugs.models import DosageForm, Drug, PackUnit, StrengthUnit
from app.errors import DomainError
from app.prescribing.models import Frequency, PrescribedUnit

DOSES_PER_DAY: dict[Frequency, Fraction] = {
    Frequency.QD: Fraction(1), Frequency.BID: Fraction(2), Frequency.TID: Fraction(3),
    Frequency.QID: Fraction(4), Frequency.Q8H: Fraction(3), Frequency.Q12H: Fraction(2),
    Frequency.QN: Fraction(1), Frequency.QW: Fraction(1, 7), Frequency.BIW: Fraction(2, 7),
}

# Mass units in micrograms, so a dose in mg can be counted against a strength in µg.
MICROGRAMS = {"µg": Fraction(1), "mg": Fraction(1000), "g": Fraction(1_000_000)}

# Units that are taken whole: a capsule, a patch or an inhaler puff cannot be divided, so a dose
# between two whole units is rounded up to the next one.
WHOLE_UNITS = frozenset({PackUnit.TABLET, PackUnit.CAPSULE, PackUnit.DOSE, PackUnit.PATCH, PackUnit.IMPLANT})
# Plain tablets may be halved (7.5 mg from 5 mg tablets is 1½); coated, sustained- and controlled-release
# tablets must be swallowed whole, so they stay in WHOLE_UNITS' rule.
SPLITTABLE_FORMS = frozenset({DosageForm.TABLET})


@dataclass(frozen=True)
class Quantity:
    packs: int
    days_supply: int


def doses_per_day(frequency: Frequency, max_doses_per_day: int | None) -> Fraction:
    if frequency == Frequency.PRN:
        return Fraction(max_doses_per_day or 0)
    return DOSES_PER_DAY[frequency]


def _ratio(dose: Fraction, dose_unit: str, strength: Fraction, strength_unit: str) -> Fraction | None:
    """Dose / strength when the units measure the same thing, else None."""
    if dose_unit == strength_unit:
        return dose / strength
    if dose_unit in MICROGRAMS and strength_unit in MICROGRAMS:
        return dose * MICROGRAMS[dose_unit] / (strength * MICROGRAMS[strength_unit])
    return None


def exact_units_per_dose(drug: Drug, dose: Decimal, dose_unit: PrescribedUnit) -> Fraction:
    """One dose in the drug's pack unit, unrounded (½ tablet); DomainError when the unit does not fit."""
    dose_f, strength = Fraction(dose), Fraction(drug.strength)
    if dose_unit == drug.pack_unit:  # "2 tablets", "1 patch", "10 mL" of a solution sold by the mL
        units = dose_f
    elif drug.strength_unit == StrengthUnit.MG_PER_ML:  # a solution: its strength is per mL
        units = _ratio(dose_f, dose_unit, strength, "mg")
    else:  # strength per tablet, per actuation, or per whole container (an insulin pen: 300 IU)
        units = _ratio(dose_f, dose_unit, strength, drug.strength_unit)
    if units is None:
        raise DomainError({"dose_unit": _l("This dose unit does not fit the drug's strength (%(unit)s).",
                                           unit=drug.strength_unit.value)})
    return units


def units_per_dose(drug: Drug, dose: Decimal, dose_unit: PrescribedUnit) -> Fraction:
    """What one dose takes from the pack: plain tablets in halves, capsules, patches and the rest whole."""
    units = exact_units_per_dose(drug, dose, dose_unit)
    if drug.dosage_form in SPLITTABLE_FORMS:
        return Fraction(math.ceil(units * 2), 2)
    if drug.pack_unit in WHOLE_UNITS:
        return Fraction(math.ceil(units))
    return units


def compute(drug: Drug, dose: Decimal, dose_unit: PrescribedUnit, frequency: Frequency,
            duration_days: int, max_doses_per_day: int | None = None) -> Quantity:
    """Packs = ceil(units needed / pack size); days' supply = what those packs cover, rounded down."""
    per_dose = units_per_dose(drug, dose, dose_unit)
    per_day = doses_per_day(frequency, max_doses_per_day)
    # Whole doses: a weekly drug for 10 days is 2 doses, not 10/7 of one.
    doses = math.ceil(per_day * duration_days)
    packs = max(math.ceil(per_dose * doses / drug.pack_size), 1)
    days_supply = math.floor(packs * drug.pack_size / (per_dose * per_day))
    return Quantity(packs=packs, days_supply=days_supply)
