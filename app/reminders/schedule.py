"""When each SMS reminder for dispensed medicine goes out: dose times, quiet hours, refills (pure)."""

# No database and no Flask: the caller turns a Plan into outbox rows and message texts. Frequencies
# are plain strings (app.prescribing.models.Frequency is a StrEnum, so its members work as keys) so
# this module does not import the models. Local wall times are naive datetimes until _instant()
# pins them to UTC; instants are compared in UTC, never as aware datetimes of one zone (Python
# compares those by wall time and ignores the DST offset).

import re
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from app.limits import DAYS_SUPPLY

DAILY_DOSES = {"QD": 1, "BID": 2, "TID": 3, "QID": 4, "Q8H": 3, "Q12H": 2, "QN": 1}
# Weekly frequencies: the days, counted from the dispense day, a dose falls on in each week.
WEEKLY_DAYS = {"QW": (0,), "BIW": (0, 3)}
FREQUENCIES = frozenset(DAILY_DOSES) | frozenset(WEEKLY_DAYS) | {"PRN"}

DEFAULT_DOSE_TIMES: dict[str, tuple[str, ...]] = {
    "QD": ("08:00",), "BID": ("08:00", "20:00"), "TID": ("08:00", "14:00", "20:00"),
    "QID": ("08:00", "12:00", "16:00", "20:00"),
    # Eight- and twelve-hourly rhythms cannot fit the default waking window (08:00–21:00); a default
    # at night would be moved to 08:00 onto the morning dose. Waking hours by default, and a patient
    # who wants the strict rhythm chooses night times, which are then kept.
    "Q8H": ("08:00", "14:00", "20:00"), "Q12H": ("08:00", "20:00"),
    # Bedtime, but before default quiet hours: moved out of them it would come the next morning.
    "QN": ("20:00",), "QW": ("08:00",), "BIW": ("08:00",), "PRN": (),
}

_HHMM = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")  # [0-9], not \d: no other scripts' digits


def _hhmm(text: object) -> time | None:
    match = _HHMM.fullmatch(text) if isinstance(text, str) else None
    return time(int(match[1]), int(match[2])) if match else None


def times_per_day(frequency: str) -> int:
    """How many dose times a frequency takes: its daily doses, one for weekly ones, none for PRN."""
    return DAILY_DOSES.get(frequency, 1 if frequency in WEEKLY_DAYS else 0)


def dose_times_problem(frequency: str, times: Sequence[str]) -> str | None:
    """Why these can't be the patient's dose times for the frequency, or None; any order is fine."""
    if frequency not in FREQUENCIES:
        return f"Unknown frequency {str(frequency)[:20]!r}."
    if isinstance(times, str) or not isinstance(times, Sequence):
        return "Dose times must be a list of times as HH:MM."
    expected = times_per_day(frequency)
    if len(times) != expected:
        return f"{frequency} takes {expected} dose time(s), not {len(times)}."
    for text in times:
        if _hhmm(text) is None:
            return f"{str(text)[:20]!r} is not a time of day as HH:MM (00:00 to 23:59)."
    if len(set(times)) != len(times):
        return f"{next(t for t in times if times.count(t) > 1)} is given more than once."
    return None


def normalise_dose_times(frequency: str, times: Sequence[str]) -> list[str]:
    """The times as stored: checked (ValueError with the problem) and sorted."""
    problem = dose_times_problem(frequency, times)
    if problem:
        raise ValueError(problem)
    return sorted(times)


def _zone(name: object) -> ZoneInfo:
    try:
        if isinstance(name, str) and len(name) <= 64:
            return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        pass
    raise ValueError(f"Unknown time zone {str(name)[:64]!r}; use an IANA name such as 'Asia/Shanghai'.")


@dataclass(frozen=True)
class Preferences:
    zone: str  # IANA name
    dose_times: dict[str, list[str]] = field(default_factory=dict)  # only the frequencies the patient chose
    quiet_start: str = "21:00"  # quiet from here (inclusive) …
    quiet_end: str = "08:00"  # … to here (exclusive); equal to quiet_start: no quiet hours
    refill_days_before: int = 5
    refill_time: str = "10:00"

    def __post_init__(self):
        _zone(self.zone)
        for name in ("quiet_start", "quiet_end", "refill_time"):
            if _hhmm(getattr(self, name)) is None:
                raise ValueError(f"{name} {getattr(self, name)!r} is not a time of day as HH:MM.")
        for frequency, times in self.dose_times.items():
            normalise_dose_times(frequency, times)
        if type(self.refill_days_before) is not int or not 0 <= self.refill_days_before <= DAYS_SUPPLY.high:
            raise ValueError(f"refill_days_before must be a whole number from 0 to {DAYS_SUPPLY.high}.")

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.zone)  # ZoneInfo caches by key


@dataclass(frozen=True)
class Line:
    key: Hashable  # the caller's dispense-line id; keys of one plan must be unique and sortable
    frequency: str
    doses_per_day: int  # must match a daily frequency; not used for QW, BIW and PRN
    days_supply: int

    def __post_init__(self):
        if self.frequency not in FREQUENCIES:
            raise ValueError(f"Unknown frequency {self.frequency!r}.")
        if type(self.days_supply) is not int or not 0 <= self.days_supply <= DAYS_SUPPLY.high:
            raise ValueError(f"days_supply must be a whole number from 0 to {DAYS_SUPPLY.high}.")
        if self.frequency in DAILY_DOSES and self.doses_per_day != DAILY_DOSES[self.frequency]:
            raise ValueError(f"{self.frequency} is {DAILY_DOSES[self.frequency]} dose(s) a day, "
                             f"not {self.doses_per_day}.")

    @property
    def doses(self) -> int:
        """Doses in the supply: daily doses × days, or the weekly dose days that fall within it."""
        if self.frequency in DAILY_DOSES:
            return DAILY_DOSES[self.frequency] * self.days_supply
        days = WEEKLY_DAYS.get(self.frequency, ())
        return sum(1 for day in range(self.days_supply) if day % 7 in days)


@dataclass(frozen=True)
class DoseReminder:
    due_at_utc: datetime
    local: datetime  # aware, in the patient's zone
    line_keys: tuple  # sorted; every line with a dose due at this minute


@dataclass(frozen=True)
class RefillReminder:
    due_at_utc: datetime
    local: datetime
    line_key: Hashable
    kind: Literal["refill", "last_day"]
    supply_ends_on: date  # local date of the line's last dose


@dataclass(frozen=True)
class Plan:
    doses: list[DoseReminder]
    refills: list[RefillReminder]


def quiet(local_time: time, prefs: Preferences) -> bool:
    """Whether a local time of day falls in the patient's quiet hours (start inclusive, end exclusive)."""
    start, end = _hhmm(prefs.quiet_start), _hhmm(prefs.quiet_end)
    if start <= end:  # equal: no quiet hours at all
        return start <= local_time < end
    return local_time >= start or local_time < end  # the window wraps midnight


def _quiet_end_wall(wall: datetime, prefs: Preferences) -> datetime:
    """The wall time at which the quiet hours holding `wall` end: the same day, or the next if
    `wall` is before midnight in a window that wraps it."""
    end = _hhmm(prefs.quiet_end)
    return datetime.combine(wall.date() + timedelta(days=1 if wall.time() >= end else 0), end)


def _instant(wall: datetime, zone: ZoneInfo) -> datetime:
    """A local wall time as a UTC instant: an ambiguous one (the hour repeated at fall back) is its
    first occurrence; a nonexistent one (in the spring-forward gap) the first instant after the gap."""
    instant = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) == wall:
        return instant
    # In the gap fold=0 reads the wall time with the offset before the change (an instant after
    # it) and fold=1 with the offset after (an instant before it); search the change to the second.
    low, high = int(wall.replace(tzinfo=zone, fold=1).timestamp()), int(instant.timestamp())
    while high - low > 1:
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, zone).replace(tzinfo=None) > wall:
            high = middle
        else:
            low = middle
    return datetime.fromtimestamp(high, UTC)


def end_of_quiet(moment: datetime, prefs: Preferences) -> datetime:
    """The moment itself if not in quiet hours, else when they end; aware, in the patient's zone."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("end_of_quiet needs a timezone-aware datetime.")
    local = moment.astimezone(prefs.tz)
    if not quiet(local.time(), prefs):
        return local
    return _instant(_quiet_end_wall(local.replace(tzinfo=None), prefs), prefs.tz).astimezone(prefs.tz)


def _dose_instants(line: Line, dispensed_at: datetime, prefs: Preferences) -> list[datetime]:
    """The line's doses as UTC instants: from the first dose time strictly after the dispense, each
    default time in quiet hours moved to their end (chosen times stay)."""
    zone, count = prefs.tz, line.doses
    chosen = line.frequency in prefs.dose_times
    times = sorted(_hhmm(t) for t in (prefs.dose_times[line.frequency] if chosen
                                      else DEFAULT_DOSE_TIMES[line.frequency]))
    weekly_days = WEEKLY_DAYS.get(line.frequency)
    first_day = day = dispensed_at.astimezone(zone).date()
    instants: list[datetime] = []
    while len(instants) < count:
        if weekly_days is None or (day - first_day).days % 7 in weekly_days:
            for at in times:
                wall = datetime.combine(day, at)
                if len(instants) < count and _instant(wall, zone) > dispensed_at:
                    moved = not chosen and quiet(at, prefs)
                    instants.append(_instant(_quiet_end_wall(wall, prefs) if moved else wall, zone))
        day += timedelta(days=1)
    return instants


def _refills(line: Line, last_day: date, dispensed_at: datetime, prefs: Preferences) -> list[RefillReminder]:
    zone, at = prefs.tz, _hhmm(prefs.refill_time)
    planned, refill_day = [], last_day - timedelta(days=prefs.refill_days_before)
    for kind, day in (("refill", refill_day), ("last_day", last_day)):
        wall = datetime.combine(day, at)
        if quiet(at, prefs):
            wall = _quiet_end_wall(wall, prefs)
        instant = _instant(wall, zone)
        if instant > dispensed_at:  # a short supply: the refill day was before it was dispensed
            planned.append(RefillReminder(instant, instant.astimezone(zone), line.key, kind, last_day))
    if len(planned) == 2 and planned[0].local.date() == planned[1].local.date():
        del planned[0]
    return planned


def plan(lines: Iterable[Line], dispensed_at: datetime, prefs: Preferences) -> Plan:
    """Every dose and refill reminder for lines dispensed together, each list sorted by due time."""
    if dispensed_at.tzinfo is None or dispensed_at.utcoffset() is None:
        raise ValueError("dispensed_at must be timezone-aware.")
    lines = list(lines)
    if len({line.key for line in lines}) != len(lines):
        raise ValueError("Each line needs its own key.")
    zone, dispensed_at = prefs.tz, dispensed_at.astimezone(UTC)
    due: dict[datetime, set] = {}
    refills: list[RefillReminder] = []
    for line in lines:
        if line.days_supply == 0:
            continue
        instants = _dose_instants(line, dispensed_at, prefs)
        for instant in instants:
            due.setdefault(instant, set()).add(line.key)
        if instants:
            last_day = max(instants).astimezone(zone).date()
        else:  # PRN: the supply lasts its days from the dispense day
            last_day = dispensed_at.astimezone(zone).date() + timedelta(days=line.days_supply - 1)
        refills += _refills(line, last_day, dispensed_at, prefs)
    doses = [DoseReminder(instant, instant.astimezone(zone), tuple(sorted(keys)))
             for instant, keys in sorted(due.items())]
    refills.sort(key=lambda r: (r.due_at_utc, r.line_key, r.kind))
    return Plan(doses, refills)
