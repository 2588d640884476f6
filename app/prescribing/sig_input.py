"""Reading the doctor's sig: the dose through the bounded parser, times of day, choices from a list,
and the packs one line may come to."""

from datetime import datetime
from decimal import Decimal

from flask_babel import lazy_gettext as _l

from app import limits, numbers
from app.drugs.models import format_decimal
from app.errors import DomainError
from app.prescribing import quantity
from app.prescribing.models import Frequency


def parse_dose(value, unit: str | None = None) -> Decimal:
    """The dose as typed, through the bounded parser (Decimal("1e999999") would hang the request);
    with its unit, also at most the largest single dose in that unit (app.limits)."""
    most = limits.MAX_DOSE_BY_UNIT.get(str(unit)) if unit else None
    if most is not None:
        too_large = _l("A single dose is at most %(max)s %(unit)s.", max=format_decimal(most), unit=str(unit))
    else:
        too_large = _l("Enter a dose of at most %(max)s.", max=format_decimal(limits.DOSE.high))
    try:
        # The column keeps 4 decimals; more would sign one number and store another.
        dose = numbers.parse_decimal(value, limits.DOSE)
    except numbers.NumberError as error:
        if error.kind == numbers.SHAPE:
            raise DomainError({"dose": _l("Enter the dose as a number.")}) from None
        if error.kind == numbers.TOO_LARGE:
            raise DomainError({"dose": too_large}) from None
        raise DomainError({"dose": _l("Enter a dose above zero with at most 4 decimals.")}) from None
    if most is not None and dose > most:
        raise DomainError({"dose": too_large})
    return dose


def check_amount(amount: quantity.Quantity) -> quantity.Quantity:
    """A line comes to at most MAX_PACKS_PER_LINE packs: more is a slip in the dose or the unit."""
    if amount.packs > limits.MAX_PACKS_PER_LINE:
        raise DomainError({"dose": _l(
            "This line comes to %(packs)d packs, more than the %(max)d a line may hold: check the dose, "
            "its unit and how often it is taken.", packs=amount.packs, max=limits.MAX_PACKS_PER_LINE)})
    return amount


def parse_times(text: str, frequency: Frequency, per_day) -> str:
    times = [t.strip() for t in (text or "").split(",") if t.strip()]
    for value in times:
        try:
            datetime.strptime(value, "%H:%M")
        except ValueError:
            raise DomainError({"times_of_day": _l("Write times as HH:MM, separated by commas.")}) from None
    if times and per_day.denominator == 1 and frequency != Frequency.PRN and len(times) != per_day:
        raise DomainError({"times_of_day": _l("Give one time for each daily dose (%(count)d).",
                                              count=int(per_day))})
    return ",".join(times)


def choice_of(enum_cls, value, field: str):
    try:
        return enum_cls(value)
    except ValueError:
        raise DomainError({field: _l("Choose one of the options listed.")}) from None
