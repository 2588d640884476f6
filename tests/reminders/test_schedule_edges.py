"""The reminder plan at its edges: the same plan whatever the server's own time zone, the exact second a
spring-forward gap ends, the limits of a line's supply, and the problems worded for the person fixing them."""

import time as clock
from datetime import UTC, date, datetime, timedelta, tzinfo

import pytest

from app.limits import DAYS_SUPPLY
from app.reminders.schedule import Line, Preferences, dose_times_problem, end_of_quiet, plan
from tests.reminders.test_schedule import IN_SHANGHAI, MONDAY_15H, NEW_YORK, SHANGHAI, line


@pytest.fixture
def server_in_honolulu(monkeypatch):
    """The server's own zone 10 hours behind UTC, so a date taken in the server's zone is another day."""
    monkeypatch.setenv("TZ", "Pacific/Honolulu")
    clock.tzset()
    yield
    monkeypatch.undo()
    clock.tzset()


def test_the_plan_is_the_same_whatever_zone_the_server_runs_in(server_in_honolulu):
    # QD at 08:00 Shanghai (00:00 UTC, 14:00 the day before in Honolulu) for 7 days from Monday 4 May 15:00:
    # doses Tue 5 to Mon 11 May; the supply ends on the patient's Monday 11 May.
    result = plan([line(1, "QD", 7), line(2, "PRN", 7)], MONDAY_15H, IN_SHANGHAI)
    expected = [datetime(2026, 5, day, 0, 0, tzinfo=UTC) for day in range(5, 12)]
    assert [r.due_at_utc for r in result.doses] == expected
    assert all(r.due_at_utc.utcoffset() == timedelta(0) for r in result.doses + result.refills)
    # The PRN supply lasts its 7 days from the patient's dispense day, Monday 4 May: to Sunday 10 May.
    # Each refill reminder comes 5 days before its supply ends, at 10:00 Shanghai time.
    refills = [(r.line_key, r.kind, r.supply_ends_on, f"{r.local:%m-%d %H:%M}") for r in result.refills]
    assert refills == [
        (2, "refill", date(2026, 5, 10), "05-05 10:00"), (1, "refill", date(2026, 5, 11), "05-06 10:00"),
        (2, "last_day", date(2026, 5, 10), "05-10 10:00"), (1, "last_day", date(2026, 5, 11), "05-11 10:00")]


@pytest.mark.parametrize("in_the_gap", ["02:00", "02:17", "02:30", "02:59"])
def test_a_time_in_the_spring_forward_gap_becomes_the_first_second_after_it(server_in_honolulu, in_the_gap):
    # 02:00–02:59 do not exist in New York on 8 March 2026: the clocks go from 01:59:59 EST to 03:00:00 EDT.
    prefs = Preferences(zone="America/New_York", dose_times={"QD": [in_the_gap]}, quiet_start="00:00",
                        quiet_end=in_the_gap)
    result = plan([line(1, "QD", 1)], datetime(2026, 3, 7, 12, 0, tzinfo=NEW_YORK), prefs)
    assert [r.due_at_utc for r in result.doses] == [datetime(2026, 3, 8, 7, 0, 0, tzinfo=UTC)]
    moved = end_of_quiet(datetime(2026, 3, 8, 1, 0, tzinfo=NEW_YORK), prefs)
    assert moved.astimezone(UTC) == datetime(2026, 3, 8, 7, 0, 0, tzinfo=UTC)
    assert (moved.second, moved.microsecond) == (0, 0)


class _NoOffset(tzinfo):
    """A zone that does not know its offset: Python treats such a time as naive."""

    def utcoffset(self, moment):
        return None


def test_a_time_without_a_known_offset_is_refused_like_a_naive_one():
    vague = datetime(2026, 5, 4, 15, 0, tzinfo=_NoOffset())
    with pytest.raises(ValueError, match=r"^end_of_quiet needs a timezone-aware datetime\.$"):
        end_of_quiet(vague, IN_SHANGHAI)
    with pytest.raises(ValueError, match=r"^dispensed_at must be timezone-aware\.$"):
        plan([line(1, "QD", 7)], vague, IN_SHANGHAI)
    with pytest.raises(ValueError, match=r"^Each line needs its own key\.$"):
        plan([line(1, "QD", 7), line(1, "BID", 7)], MONDAY_15H, IN_SHANGHAI)


def test_a_line_with_nothing_left_to_take_does_not_stop_the_lines_after_it():
    result = plan([line(1, "QD", 0), line(2, "QD", 2)], MONDAY_15H, IN_SHANGHAI)
    assert [r.line_keys for r in result.doses] == [(2,), (2,)]
    assert {r.line_key for r in result.refills} == {2}


@pytest.mark.parametrize("days", [0, 1, DAYS_SUPPLY.high])
def test_a_supply_from_nothing_to_the_longest_is_a_line(days):
    assert Line(1, "QD", 1, days).doses == days


@pytest.mark.parametrize("days", [-1, DAYS_SUPPLY.high + 1])
def test_a_supply_outside_those_is_refused(days):
    with pytest.raises(ValueError, match=f"days_supply must be a whole number from 0 to {DAYS_SUPPLY.high}"):
        Line(1, "QD", 1, days)


def test_refill_reminders_may_come_as_early_as_the_longest_supply():
    assert Preferences(zone="Asia/Shanghai", refill_days_before=DAYS_SUPPLY.high).refill_days_before == 366
    with pytest.raises(ValueError, match="refill_days_before"):
        Preferences(zone="Asia/Shanghai", refill_days_before=DAYS_SUPPLY.high + 1)


def test_a_long_unknown_value_is_quoted_only_in_part():
    assert dose_times_problem("Q" * 30, ["08:00"]) == f"Unknown frequency {'Q' * 20!r}."
    assert dose_times_problem("QD", ["8" * 30]) == (
        f"{'8' * 20!r} is not a time of day as HH:MM (00:00 to 23:59).")
    with pytest.raises(ValueError) as error:
        Preferences(zone="Z" * 100)
    assert str(error.value) == f"Unknown time zone {'Z' * 64!r}; use an IANA name such as 'Asia/Shanghai'."


def test_the_dose_times_problems_are_worded_for_the_person_fixing_them():
    assert dose_times_problem("QD", "08:00") == "Dose times must be a list of times as HH:MM."
    assert dose_times_problem("TID", ["08:00", "20:00", "20:00"]) == "20:00 is given more than once."


def test_the_date_of_the_last_dose_is_the_patients_date(server_in_honolulu):
    # Dispensed Monday 15:00 in Shanghai, 7 days QD at 08:00: the last dose is Monday 11 May, 08:00
    # (Sunday 10 May 14:00 in Honolulu); refill reminders 5 days before it, on Wednesday 6 May.
    result = plan([line(1, "QD", 7)], MONDAY_15H, IN_SHANGHAI)
    assert [(r.kind, r.supply_ends_on, r.local.date()) for r in result.refills] == [
        ("refill", date(2026, 5, 11), date(2026, 5, 6)), ("last_day", date(2026, 5, 11), date(2026, 5, 11))]
    assert all(r.local.tzinfo is SHANGHAI for r in result.refills)


def test_a_prn_supply_runs_its_days_from_the_patients_dispense_day(server_in_honolulu):
    # Dispensed Tuesday 5 May 09:00 in Shanghai (Monday 4 May 15:00 in Honolulu): 3 days to Thursday 7 May.
    result = plan([line(1, "PRN", 3)], datetime(2026, 5, 5, 9, 0, tzinfo=SHANGHAI), IN_SHANGHAI)
    assert [(r.kind, r.supply_ends_on, r.local.strftime("%Y-%m-%d %H:%M")) for r in result.refills] == [
        ("last_day", date(2026, 5, 7), "2026-05-07 10:00")]
