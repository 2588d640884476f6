"""Plain-language directions for a prescription line ("Take 1 tablet by mouth twice a day …"), en + zh."""

# Built from the structured sig, never typed by the doctor: what the patient reads is exactly what was
# signed. Each route has a whole-sentence message so that the Chinese word order can differ.

from decimal import Decimal
from fractions import Fraction

from flask_babel import gettext as _
from flask_babel import ngettext

from app.drugs import labels
from app.drugs.models import PackUnit, Route, format_decimal
from app.errors import DomainError
from app.prescribing import quantity
from app.prescribing.models import Frequency, PrescribedUnit, PrescriptionItem

# Glyphs for the parts of a tablet a patient can measure.
FRACTIONS = {Fraction(1, 2): "½", Fraction(1, 4): "¼", Fraction(3, 4): "¾"}
# Pack units a dose in mg or IU is worth restating in ("10 mg, that is 2 tablets").
COUNTABLE = {PackUnit.TABLET: PrescribedUnit.TABLET, PackUnit.CAPSULE: PrescribedUnit.CAPSULE,
             PackUnit.DOSE: PrescribedUnit.DOSE, PackUnit.PATCH: PrescribedUnit.PATCH,
             PackUnit.ML: PrescribedUnit.ML}


def _count(value: Fraction) -> str:
    """1½, ½, 2 — or a plain decimal when a patient could not measure the fraction anyway."""
    whole, part = divmod(value, 1)
    if part == 0:
        return str(int(whole))
    if part in FRACTIONS:
        return f"{int(whole) or ''}{FRACTIONS[part]}"
    return _decimal(value)


def _decimal(value: Fraction) -> str:
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return format_decimal(exact.quantize(Decimal("0.01")) if value.denominator not in (1, 2, 4, 5, 8, 10)
                          else exact)


def amount(value: Fraction | Decimal, unit: PrescribedUnit) -> str:
    """'1 tablet', '2 puffs', '10 units', '5 mg' in the reader's language."""
    value = Fraction(value)
    many = 1 if value <= 1 else 2
    # "½ tablet" is how a patient counts tablets; a measured amount stays a decimal: "2.5 mg".
    text = _count(value) if unit == PrescribedUnit.TABLET else _decimal(value)
    if unit == PrescribedUnit.TABLET:
        return ngettext("%(amount)s tablet", "%(amount)s tablets", many, amount=text)
    if unit == PrescribedUnit.CAPSULE:
        return ngettext("%(amount)s capsule", "%(amount)s capsules", many, amount=text)
    if unit == PrescribedUnit.DOSE:
        return ngettext("%(amount)s puff", "%(amount)s puffs", many, amount=text)
    if unit == PrescribedUnit.PATCH:
        return ngettext("%(amount)s patch", "%(amount)s patches", many, amount=text)
    if unit == PrescribedUnit.IU:
        return ngettext("%(amount)s unit", "%(amount)s units", many, amount=text)
    if unit == PrescribedUnit.ML:
        return _("%(amount)s mL", amount=text)
    if unit == PrescribedUnit.G:
        return _("%(amount)s g", amount=text)
    if unit == PrescribedUnit.MICROGRAM:
        return _("%(amount)s µg", amount=text)
    return _("%(amount)s mg", amount=text)


def dose_amount(item: PrescriptionItem) -> str:
    """The dose as written, restated in tablets (or mL, puffs…) when it was written in mg or units."""
    written = amount(item.dose, item.dose_unit)
    counted_in = COUNTABLE.get(item.drug.pack_unit)
    if counted_in is None or counted_in == item.dose_unit:
        return written
    try:
        units = quantity.exact_units_per_dose(item.drug, item.dose, item.dose_unit)
    except DomainError:
        return written
    if counted_in != PrescribedUnit.ML and units.denominator not in (1, 2, 4):
        return written  # a dose the patient cannot count out in tablets: say it in mg only
    return _("%(dose)s (%(count)s)", dose=written, count=amount(units, counted_in))


def _action(route: Route, dose: str) -> str:
    if route == Route.SUBLINGUAL:
        return _("Dissolve %(dose)s under the tongue", dose=dose)
    if route == Route.SUBCUTANEOUS:
        return _("Inject %(dose)s under the skin", dose=dose)
    if route == Route.INTRAMUSCULAR:
        return _("Have %(dose)s injected into a muscle", dose=dose)
    if route == Route.INTRAVENOUS:
        return _("Have %(dose)s given into a vein", dose=dose)
    if route == Route.INHALATION:
        return _("Inhale %(dose)s", dose=dose)
    if route == Route.TRANSDERMAL:
        return _("Stick %(dose)s on clean, dry skin", dose=dose)
    if route == Route.TOPICAL:
        return _("Apply %(dose)s to the affected area", dose=dose)
    return _("Take %(dose)s by mouth", dose=dose)


def frequency_label(frequency: str) -> str:
    """'Twice a day': a frequency as a heading (the reminders page groups dose times by it)."""
    text = how_often(Frequency(frequency))
    return text[:1].upper() + text[1:]


def how_often(frequency: Frequency, max_doses_per_day: int | None = None) -> str:
    return {
        Frequency.QD: lambda: _("once a day"),
        Frequency.BID: lambda: _("twice a day"),
        Frequency.TID: lambda: _("three times a day"),
        Frequency.QID: lambda: _("four times a day"),
        Frequency.Q8H: lambda: _("every 8 hours"),
        Frequency.Q12H: lambda: _("every 12 hours"),
        Frequency.QN: lambda: _("once a day at bedtime"),
        Frequency.QW: lambda: _("once a week, on the same day each week"),
        Frequency.BIW: lambda: _("twice a week"),
        Frequency.PRN: lambda: ngettext("only when needed, at most %(num)d time a day",
                                        "only when needed, at most %(num)d times a day",
                                        max_doses_per_day or 1),
    }[frequency]()


def at_times(times_of_day: str) -> str:
    times = [t for t in (times_of_day or "").split(",") if t]
    if not times:
        return ""
    return _(" at %(times)s", times=_(", ").join(times))


def directions(item: PrescriptionItem) -> str:
    """One sentence a patient can follow, in the current request's language."""
    sentence = _("%(action)s, %(how_often)s%(times)s, for %(duration)s.",
                 action=_action(item.route, dose_amount(item)),
                 how_often=how_often(item.frequency, item.max_doses_per_day),
                 times=at_times(item.times_of_day),
                 duration=ngettext("%(num)d day", "%(num)d days", item.duration_days))
    return f"{sentence} {item.instructions}".strip() if item.instructions else sentence


def supply_text(drug, packs: int, days_supply: int) -> str:
    """'2 packs of 28 tablets, enough for 56 days'."""
    return ngettext("%(num)d pack of %(pack)s, enough for %(days)s",
                    "%(num)d packs of %(pack)s, enough for %(days)s",
                    packs, pack=labels.pack(drug), days=ngettext("%(num)d day", "%(num)d days", days_supply))


def supply(item: PrescriptionItem) -> str:
    return supply_text(item.drug, item.quantity_packs, item.days_supply)


def code(item: PrescriptionItem) -> str:
    """The sig in prescribers' shorthand, as the doctor wrote it: '5 mg QD ×28d', '2 dose PRN ≤4/d ×7d'."""
    most = f" ≤{item.max_doses_per_day}/d" if item.max_doses_per_day else ""
    return f"{format_decimal(item.dose)} {item.dose_unit} {item.frequency}{most} ×{item.duration_days}d"
