"""Proportion of Days Covered (PQA method): pure functions over fills, no database, no Flask."""

# The rules, as the Pharmacy Quality Alliance measures them:
# - Each drug is measured on its own. Within one drug, fills are walked in date order and a refill
#   made while the previous supply still lasts starts the day after that supply ends: the supply
#   carries forward, and no day is counted twice. Different drugs never shift each other.
# - The period runs from `start` to `end`, both inclusive. Supply past `end` is cut off; supply
#   before `start` does not count, but a fill before `start` whose (shifted) supply reaches into the
#   period covers those days, which a rolling window needs. A fill dated after `end` is ignored.
# - A patient is in the measure (eligible) with at least two fills on different dates of service
#   within the period; adherent at PDC >= 0.80.
# Days are counted as date ordinals (plain ints), so a long chain of shifted supplies cannot
# overflow `date` before it is cut off at the end of the period.

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

ADHERENT_PDC = 0.80
WINDOWS = (90, 180)  # the rolling windows the app shows
# A year's supply (plus a leap day) is the most one fill can carry; more is a data error, and an
# unbounded number would also push the shifted supplies past the last representable date.
MAX_DAYS_SUPPLY = 366


@dataclass(frozen=True)
class Fill:
    """One dispensing of a drug: `drug` is the key fills are grouped by (a name, a code, an id)."""

    drug: str
    filled_on: date
    days_supply: int

    def __post_init__(self):
        if not isinstance(self.filled_on, date) or isinstance(self.filled_on, datetime):
            raise ValueError(f"{self.drug} fill: filled_on must be a date, not {self.filled_on!r}.")
        supply = self.days_supply
        if isinstance(supply, bool) or not isinstance(supply, int) or not 1 <= supply <= MAX_DAYS_SUPPLY:
            raise ValueError(f"{self.drug} filled on {self.filled_on.isoformat()}: days supply must be a "
                             f"whole number of days from 1 to {MAX_DAYS_SUPPLY}, not {supply!r}.")


@dataclass(frozen=True)
class Result:
    """One drug over one period. `pdc` is exact (covered_days / period_days); to_dict() rounds it.

    A drug with fewer than two fills on different dates is not eligible for the measure, but its
    figures are still given, so a pharmacist sees the coverage of a patient who has just started.
    """

    eligible: bool
    covered_days: int
    period_days: int
    pdc: float

    def to_dict(self) -> dict:
        return {"eligible": self.eligible, "covered_days": self.covered_days,
                "period_days": self.period_days, "pdc": round(self.pdc, 4)}


def is_adherent(pdc: float) -> bool:
    """PQA's threshold: 0.80 and above is adherent (exactly 0.80 is)."""
    return pdc >= ADHERENT_PDC


def _one_drug(fills: Iterable[Fill]) -> list[Fill]:
    fills = list(fills)
    drugs = {fill.drug for fill in fills}
    if len(drugs) > 1:
        raise ValueError(f"fills of one drug expected, got {sorted(map(str, drugs))}; use pdc_by_drug().")
    return fills


def _spans(fills: list[Fill]) -> list[tuple[int, int]]:
    """(first, last) day ordinal of each fill's supply in date order, early refills shifted forward."""
    spans: list[tuple[int, int]] = []
    last = None
    for fill in sorted(fills, key=lambda fill: fill.filled_on):
        first = fill.filled_on.toordinal()
        if last is not None and first <= last:
            first = last + 1  # filled while the previous supply lasts: it starts when that runs out
        last = first + fill.days_supply - 1
        spans.append((first, last))
    return spans


def coverage_intervals(fills: Iterable[Fill], end: date | None = None) -> list[tuple[date, date]]:
    """One drug's supply as (first day, last day) per fill, both inclusive, after shifting; in date
    order and never overlapping (adjacent when a refill was early). With `end`, fills after it are
    left out and the last supply is cut off at it. For a chart of the days a patient had the drug."""
    fills = _one_drug(fills)
    if end is not None:
        fills = [fill for fill in fills if fill.filled_on <= end]
    limit = end.toordinal() if end is not None else None
    return [(date.fromordinal(first), date.fromordinal(last if limit is None else min(last, limit)))
            for first, last in _spans(fills)]


def _period(start: date, end: date) -> int:
    if start > end:
        raise ValueError(f"the period starts ({start.isoformat()}) after it ends ({end.isoformat()}).")
    return (end - start).days + 1


def covered_days(fills: Iterable[Fill], start: date, end: date) -> int:
    """Days from `start` to `end` (inclusive) on which one drug's shifted supply lasts."""
    _period(start, end)
    fills = [fill for fill in _one_drug(fills) if fill.filled_on <= end]
    low, high = start.toordinal(), end.toordinal()
    # The spans never overlap, so adding up their parts inside the period counts each day once.
    return sum(max(0, min(last, high) - max(first, low) + 1) for first, last in _spans(fills))


def pdc(fills: Iterable[Fill], start: date, end: date) -> Result:
    """One drug's PDC from `start` to `end`, both inclusive.

    Eligible with at least two fills on different dates of service inside the period; a fill before
    `start` adds its carried-over supply but does not count towards eligibility.
    """
    period_days = _period(start, end)
    fills = _one_drug(fills)
    covered = covered_days(fills, start, end)
    dates_of_service = {fill.filled_on for fill in fills if start <= fill.filled_on <= end}
    return Result(eligible=len(dates_of_service) >= 2, covered_days=covered,
                  period_days=period_days, pdc=covered / period_days)


def _by_drug(fills: Iterable[Fill], end: date) -> dict[str, list[Fill]]:
    groups: dict[str, list[Fill]] = defaultdict(list)
    for fill in fills:
        if fill.filled_on <= end:
            groups[fill.drug].append(fill)
    return groups


def pdc_by_drug(fills: Iterable[Fill], end: date, start: date | None = None) -> dict[str, Result]:
    """Each drug measured on its own, up to `end`.

    `start=None` measures each drug from its own first fill (what `flask adherence pdc` prints);
    a drug whose only fills are after `end` is left out.
    """
    return {drug: pdc(group, min(fill.filled_on for fill in group) if start is None else start, end)
            for drug, group in _by_drug(fills, end).items()}


def window(fills: Iterable[Fill], end: date, days: int) -> Result:
    """One drug over the rolling `days` (90 or 180) ending on `end`.

    The window starts `days - 1` days before `end`, but never before the drug's first fill: a
    patient who started 30 days ago is measured over those 30 days, not penalised for the days
    before they had the drug. A fill before the window whose supply runs into it covers those days.
    With no fill up to `end`, the whole window is uncovered.
    """
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise ValueError(f"a window is a whole number of days, at least 1, not {days!r}.")
    fills = [fill for fill in _one_drug(fills) if fill.filled_on <= end]
    first = end.toordinal() - days + 1
    if fills:
        first = max(first, min(fill.filled_on for fill in fills).toordinal())
    return pdc(fills, date.fromordinal(max(first, 1)), end)
