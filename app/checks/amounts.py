"""What a prescribed line takes in a day, in the strength's own unit, and numbers as messages print them."""

import math
from decimal import Decimal
from fractions import Fraction

from app.errors import DomainError
from app.prescribing import quantity
from app.prescribing.models import Frequency


def daily_amount(line) -> tuple[Fraction, str] | None:
    """What one dosing day takes, in the strength's substance unit (mg, µg, IU); None if not countable."""
    drug = line.drug
    base_unit = str(drug.strength_unit).split("/")[0]
    if str(drug.strength_unit).endswith("/h"):
        return None  # a patch's strength is a rate, not an amount per unit
    try:
        # Unrounded: 7.5 mg from ½ a 15 mg tablet is 7.5 mg, however the pack count is rounded.
        units = quantity.exact_units_per_dose(drug, Decimal(line.dose), line.dose_unit)
    except DomainError:
        return None  # the prescribing services refuse such a line; nothing to measure here
    per_dose = units * Fraction(drug.strength)
    # Doses on a dosing day: a weekly drug takes its whole dose on that one day, not a seventh of it.
    per_day = quantity.doses_per_day(Frequency(line.frequency), line.max_doses_per_day)
    return per_dose * max(math.ceil(per_day), 1), base_unit


def in_unit(amount: Fraction, unit: str, target: str) -> Fraction | None:
    """`amount` of `unit` in `target` (mg ↔ µg ↔ g); None when they measure different things."""
    if unit == target:
        return amount
    if unit in quantity.MICROGRAMS and target in quantity.MICROGRAMS:
        return amount * quantity.MICROGRAMS[unit] / quantity.MICROGRAMS[target]
    return None


def daily_in(line, unit: str) -> Fraction | None:
    """The line's daily amount in `unit`, or None if it cannot be counted in it."""
    measured = daily_amount(line)
    return in_unit(measured[0], measured[1], unit) if measured else None


def number(value: Fraction) -> str:
    """At most three decimals, no trailing zeros: 7.5, 0.125 (digoxin's limits), 0.333, 1000."""
    text = format(Decimal(value.numerator) / Decimal(value.denominator), "f")
    rounded = Decimal(text).quantize(Decimal("0.001")).normalize()
    return format(rounded, "f")
