"""When a patient's dose and refill reminders go out: dose times, quiet hours, time zones and DST."""

import re
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from app.prescribing.models import Frequency
from app.prescribing.quantity import DOSES_PER_DAY
from app.reminders.schedule import (
    DAILY_DOSES,
    DEFAULT_DOSE_TIMES,
    Line,
    Preferences,
    dose_times_problem,
    end_of_quiet,
    normalise_dose_times,
    plan,
    quiet,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")
IN_SHANGHAI = Preferences(zone="Asia/Shanghai")
IN_NEW_YORK = Preferences(zone="America/New_York")

# 2026-05-04 is a Monday; Shanghai is UTC+8 all year.
MONDAY_15H = datetime(2026, 5, 4, 15, 0, tzinfo=SHANGHAI)
MONDAY_07H = datetime(2026, 5, 4, 7, 0, tzinfo=SHANGHAI)


def line(key, frequency, days_supply):
    return Line(key, frequency, DAILY_DOSES.get(frequency, 1), days_supply)


def local(reminders) -> list[str]:
    return [r.local.strftime("%Y-%m-%d %H:%M %Z") for r in reminders]


def utc(reminders) -> list[str]:
    assert all(r.due_at_utc.utcoffset().total_seconds() == 0 for r in reminders)
    # Through astimezone: == across zones is always False for a time in the repeated hour (PEP 495).
    assert all(r.local.astimezone(UTC) == r.due_at_utc for r in reminders)
    return [r.due_at_utc.strftime("%m-%d %H:%M") for r in reminders]


def test_acceptance_bid_for_seven_days_with_a_qd_drug_in_shanghai():
    bid, qd = line(11, "BID", 7), line(12, "QD", 7)
    result = plan([qd, bid], MONDAY_15H.astimezone(UTC), IN_SHANGHAI)

    expected = [("05-04 20:00", (11,))]
    for day in range(5, 11):
        expected += [(f"05-{day:02} 08:00", (11, 12)), (f"05-{day:02} 20:00", (11,))]
    expected.append(("05-11 08:00", (11, 12)))
    assert [(r.local.strftime("%m-%d %H:%M"), r.line_keys) for r in result.doses] == expected
    assert sum(11 in r.line_keys for r in result.doses) == 14  # the BID supply, to the last tablet
    assert sum(12 in r.line_keys for r in result.doses) == 7
    assert utc(result.doses)[:3] == ["05-04 12:00", "05-05 00:00", "05-05 12:00"]
    assert utc(result.doses)[-1] == "05-11 00:00"
    assert not any(quiet(r.local.time(), IN_SHANGHAI) for r in result.doses)

    assert [(local([r])[0], r.line_key, r.kind, r.supply_ends_on) for r in result.refills] == [
        ("2026-05-06 10:00 CST", 11, "refill", date(2026, 5, 11)),
        ("2026-05-06 10:00 CST", 12, "refill", date(2026, 5, 11)),
        ("2026-05-11 10:00 CST", 11, "last_day", date(2026, 5, 11)),
        ("2026-05-11 10:00 CST", 12, "last_day", date(2026, 5, 11)),
    ]
    assert utc(result.refills) == ["05-06 02:00", "05-06 02:00", "05-11 02:00", "05-11 02:00"]


def test_the_dispense_moment_may_be_given_in_any_zone():
    in_utc = plan([line(1, "BID", 7)], MONDAY_15H.astimezone(UTC), IN_SHANGHAI)
    in_shanghai = plan([line(1, "BID", 7)], MONDAY_15H, IN_SHANGHAI)
    assert in_utc == in_shanghai


def test_a_daily_0800_reminder_stays_at_0800_across_spring_forward_in_new_york():
    result = plan([line(1, "QD", 4)], datetime(2026, 3, 6, 12, 0, tzinfo=NEW_YORK), IN_NEW_YORK)
    assert local(result.doses) == ["2026-03-07 08:00 EST", "2026-03-08 08:00 EDT",
                                   "2026-03-09 08:00 EDT", "2026-03-10 08:00 EDT"]
    assert utc(result.doses) == ["03-07 13:00", "03-08 12:00", "03-09 12:00", "03-10 12:00"]


def test_a_daily_0800_reminder_stays_at_0800_across_fall_back_in_new_york():
    result = plan([line(1, "QD", 4)], datetime(2026, 10, 30, 12, 0, tzinfo=NEW_YORK), IN_NEW_YORK)
    assert local(result.doses) == ["2026-10-31 08:00 EDT", "2026-11-01 08:00 EST",
                                   "2026-11-02 08:00 EST", "2026-11-03 08:00 EST"]
    assert utc(result.doses) == ["10-31 12:00", "11-01 13:00", "11-02 13:00", "11-03 13:00"]


def test_a_chosen_0230_on_the_spring_forward_day_comes_when_the_clocks_reach_0300():
    prefs = Preferences(zone="America/New_York", dose_times={"QD": ["02:30"]})
    result = plan([line(1, "QD", 3)], datetime(2026, 3, 7, 12, 0, tzinfo=NEW_YORK), prefs)
    assert local(result.doses) == ["2026-03-08 03:00 EDT", "2026-03-09 02:30 EDT", "2026-03-10 02:30 EDT"]
    assert utc(result.doses) == ["03-08 07:00", "03-09 06:30", "03-10 06:30"]


def test_a_chosen_0130_on_the_fall_back_day_comes_once_at_its_first_occurrence():
    prefs = Preferences(zone="America/New_York", dose_times={"QD": ["01:30"]})
    result = plan([line(1, "QD", 3)], datetime(2026, 10, 31, 12, 0, tzinfo=NEW_YORK), prefs)
    assert local(result.doses) == ["2026-11-01 01:30 EDT", "2026-11-02 01:30 EST", "2026-11-03 01:30 EST"]
    assert utc(result.doses) == ["11-01 05:30", "11-02 06:30", "11-03 06:30"]


def test_a_dispense_in_the_repeated_hour_plans_nothing_in_the_past():
    prefs = Preferences(zone="America/New_York", dose_times={"QD": ["01:30"]})
    # 01:15 EST, the second time the clocks show 01:15: the day's 01:30 (EDT) was an hour earlier.
    dispensed = datetime(2026, 11, 1, 6, 15, tzinfo=UTC)
    assert dispensed.astimezone(NEW_YORK).strftime("%H:%M %Z") == "01:15 EST"
    result = plan([line(1, "QD", 1)], dispensed, prefs)
    assert local(result.doses) == ["2026-11-02 01:30 EST"]


def test_a_default_time_in_the_spring_forward_gap_moves_past_it():
    prefs = Preferences(zone="America/New_York", quiet_start="00:00", quiet_end="02:30")
    assert end_of_quiet(datetime(2026, 3, 8, 1, 0, tzinfo=NEW_YORK), prefs).strftime(
        "%Y-%m-%d %H:%M %Z") == "2026-03-08 03:00 EDT"
    assert end_of_quiet(datetime(2026, 3, 9, 1, 0, tzinfo=NEW_YORK), prefs).strftime(
        "%Y-%m-%d %H:%M %Z") == "2026-03-09 02:30 EDT"


@pytest.mark.parametrize(("clock", "is_quiet"), [
    ((7, 59), True), ((8, 0), False), ((20, 59), False), ((21, 0), True), ((0, 0), True), ((23, 59), True),
    ((12, 0), False),
])
def test_default_quiet_hours_run_from_2100_to_0800(clock, is_quiet):
    assert quiet(time(*clock), IN_SHANGHAI) is is_quiet


@pytest.mark.parametrize(("clock", "is_quiet"), [
    ((11, 59), False), ((12, 0), True), ((14, 59), True), ((15, 0), False), ((23, 0), False), ((3, 0), False),
])
def test_a_quiet_window_that_does_not_wrap_midnight(clock, is_quiet):
    prefs = Preferences(zone="Asia/Shanghai", quiet_start="12:00", quiet_end="15:00")
    assert quiet(time(*clock), prefs) is is_quiet


def test_equal_start_and_end_mean_no_quiet_hours():
    prefs = Preferences(zone="Asia/Shanghai", quiet_start="08:00", quiet_end="08:00")
    assert not any(quiet(time(hour, minute), prefs) for hour in range(24) for minute in (0, 59))


def test_a_chosen_dose_time_in_quiet_hours_is_kept():
    prefs = Preferences(zone="Asia/Shanghai", dose_times={"BID": ["22:00", "07:00"]})
    result = plan([line(1, "BID", 1)], MONDAY_15H, prefs)
    assert local(result.doses) == ["2026-05-04 22:00 CST", "2026-05-05 07:00 CST"]
    assert utc(result.doses) == ["05-04 14:00", "05-04 23:00"]


def test_a_default_time_in_quiet_hours_moves_to_their_end():
    afternoon_nap = Preferences(zone="Asia/Shanghai", quiet_start="12:00", quiet_end="15:00")
    result = plan([line(1, "TID", 1)], MONDAY_07H, afternoon_nap)
    assert local(result.doses) == ["2026-05-04 08:00 CST", "2026-05-04 15:00 CST", "2026-05-04 20:00 CST"]


def test_a_default_evening_time_in_quiet_hours_moves_to_the_next_morning():
    early_nights = Preferences(zone="Asia/Shanghai", quiet_start="19:00", quiet_end="07:00")
    result = plan([line(1, "BID", 1)], MONDAY_15H, early_nights)
    assert local(result.doses) == ["2026-05-05 07:00 CST", "2026-05-05 08:00 CST"]
    assert result.refills[-1].supply_ends_on == date(2026, 5, 5)


def test_doses_of_one_line_pushed_onto_the_same_minute_make_one_reminder():
    late_mornings = Preferences(zone="Asia/Shanghai", quiet_start="06:00", quiet_end="13:00")
    result = plan([line(1, "QID", 1)], datetime(2026, 5, 4, 5, 0, tzinfo=SHANGHAI), late_mornings)
    assert [(r.local.strftime("%H:%M"), r.line_keys) for r in result.doses] == [
        ("13:00", (1,)), ("16:00", (1,)), ("20:00", (1,))]


def test_end_of_quiet():
    assert end_of_quiet(datetime(2026, 5, 4, 22, 30, tzinfo=SHANGHAI), IN_SHANGHAI) == datetime(
        2026, 5, 5, 8, 0, tzinfo=SHANGHAI)
    assert end_of_quiet(datetime(2026, 5, 4, 6, 0, tzinfo=SHANGHAI), IN_SHANGHAI) == datetime(
        2026, 5, 4, 8, 0, tzinfo=SHANGHAI)
    at_noon_utc = datetime(2026, 5, 4, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai: not quiet
    kept = end_of_quiet(at_noon_utc, IN_SHANGHAI)
    assert kept == at_noon_utc and kept.tzinfo is SHANGHAI and kept.hour == 12
    deferred = end_of_quiet(datetime(2026, 5, 4, 14, 0, tzinfo=UTC), IN_SHANGHAI)  # 22:00 local
    assert deferred.astimezone(UTC) == datetime(2026, 5, 5, 0, 0, tzinfo=UTC)
    with pytest.raises(ValueError, match="aware"):
        end_of_quiet(datetime(2026, 5, 4, 22, 30), IN_SHANGHAI)


def test_every_frequency_has_defaults_and_the_plan_uses_the_whole_supply():
    assert set(DEFAULT_DOSE_TIMES) == {f.value for f in Frequency}
    reminders = {f: len(plan([line(1, f, 14)], MONDAY_07H, IN_SHANGHAI).doses) for f in Frequency}
    assert reminders == {"QD": 14, "BID": 28, "TID": 42, "QID": 56, "Q8H": 42, "Q12H": 28, "QN": 14,
                         "QW": 2, "BIW": 4, "PRN": 0}
    # The same doses the quantity was dispensed for.
    assert all(reminders[f] == DOSES_PER_DAY[f] * 14 for f in DOSES_PER_DAY)


def test_tid_and_qid_remind_at_their_default_times():
    tid = plan([line(1, "TID", 2)], MONDAY_07H, IN_SHANGHAI)
    assert [r.local.strftime("%d %H:%M") for r in tid.doses] == [
        "04 08:00", "04 14:00", "04 20:00", "05 08:00", "05 14:00", "05 20:00"]
    qid = plan([line(1, "QID", 2)], MONDAY_07H, IN_SHANGHAI)
    assert [r.local.strftime("%d %H:%M") for r in qid.doses] == [
        "04 08:00", "04 12:00", "04 16:00", "04 20:00", "05 08:00", "05 12:00", "05 16:00", "05 20:00"]


def test_qw_falls_on_the_dispense_weekday():
    wednesday = datetime(2026, 5, 6, 7, 0, tzinfo=SHANGHAI)
    result = plan([line(1, "QW", 14)], wednesday, IN_SHANGHAI)
    assert local(result.doses) == ["2026-05-06 08:00 CST", "2026-05-13 08:00 CST"]
    assert {r.local.strftime("%A") for r in result.doses} == {"Wednesday"}
    # Dispensed after the day's 08:00: the first dose is a week later; ten days is two weekly doses.
    later = plan([line(1, "QW", 10)], wednesday.replace(hour=15), IN_SHANGHAI)
    assert local(later.doses) == ["2026-05-13 08:00 CST", "2026-05-20 08:00 CST"]
    assert later.refills[-1].supply_ends_on == date(2026, 5, 20)


def test_biw_falls_on_the_dispense_weekday_and_three_days_later():
    result = plan([line(1, "BIW", 7)], MONDAY_07H, IN_SHANGHAI)
    assert [r.local.strftime("%a %H:%M") for r in result.doses] == ["Mon 08:00", "Thu 08:00"]


def test_prn_has_no_dose_reminders_but_refill_reminders():
    result = plan([line(5, "PRN", 10)], MONDAY_15H, IN_SHANGHAI)
    assert result.doses == []
    assert [(local([r])[0], r.kind, r.supply_ends_on) for r in result.refills] == [
        ("2026-05-08 10:00 CST", "refill", date(2026, 5, 13)),
        ("2026-05-13 10:00 CST", "last_day", date(2026, 5, 13)),
    ]


def test_a_dose_time_equal_to_the_dispense_moment_is_not_the_first_reminder():
    at_eight = plan([line(1, "QD", 2)], datetime(2026, 5, 4, 8, 0, tzinfo=SHANGHAI), IN_SHANGHAI)
    assert local(at_eight.doses) == ["2026-05-05 08:00 CST", "2026-05-06 08:00 CST"]
    a_minute_before = plan([line(1, "QD", 2)], datetime(2026, 5, 4, 7, 59, tzinfo=SHANGHAI), IN_SHANGHAI)
    assert local(a_minute_before.doses) == ["2026-05-04 08:00 CST", "2026-05-05 08:00 CST"]


def test_a_one_day_supply_gets_only_the_last_day_reminder():
    result = plan([line(1, "BID", 1)], MONDAY_15H, IN_SHANGHAI)
    assert local(result.doses) == ["2026-05-04 20:00 CST", "2026-05-05 08:00 CST"]
    assert [(local([r])[0], r.kind) for r in result.refills] == [("2026-05-05 10:00 CST", "last_day")]


def test_a_last_day_already_over_at_dispense_gets_no_refill_reminder():
    result = plan([line(1, "PRN", 1)], MONDAY_15H, IN_SHANGHAI)
    assert result == plan([], MONDAY_15H, IN_SHANGHAI)
    assert result.refills == [] and result.doses == []


@pytest.mark.parametrize(("days_supply", "kinds"), [(6, ["refill", "last_day"]), (5, ["last_day"])])
def test_the_refill_reminder_needs_a_supply_longer_than_refill_days_before(days_supply, kinds):
    result = plan([line(1, "QD", days_supply)], MONDAY_07H, IN_SHANGHAI)
    assert [r.kind for r in result.refills] == kinds
    assert result.refills[-1].local == datetime(2026, 5, 3 + days_supply, 10, 0, tzinfo=SHANGHAI)
    if days_supply == 6:
        assert result.refills[0].local == datetime(2026, 5, 4, 10, 0, tzinfo=SHANGHAI)


def test_a_refill_reminder_at_the_dispense_moment_is_skipped():
    at_ten = plan([line(1, "PRN", 6)], datetime(2026, 5, 4, 10, 0, tzinfo=SHANGHAI), IN_SHANGHAI)
    assert [r.kind for r in at_ten.refills] == ["last_day"]
    a_minute_before = plan([line(1, "PRN", 6)], datetime(2026, 5, 4, 9, 59, tzinfo=SHANGHAI), IN_SHANGHAI)
    assert [r.kind for r in a_minute_before.refills] == ["refill", "last_day"]


def test_refill_reminders_on_the_same_day_keep_only_the_last_day_one():
    prefs = Preferences(zone="Asia/Shanghai", refill_days_before=0)
    assert [r.kind for r in plan([line(1, "QD", 10)], MONDAY_07H, prefs).refills] == ["last_day"]


def test_a_refill_time_in_quiet_hours_moves_to_their_end():
    prefs = Preferences(zone="Asia/Shanghai", refill_time="07:00")
    result = plan([line(1, "QD", 10)], MONDAY_07H, prefs)
    assert local(result.refills) == ["2026-05-08 08:00 CST", "2026-05-13 08:00 CST"]


@pytest.mark.parametrize(("frequency", "times"), [
    ("QD", ["08:00"]), ("BID", ["20:00", "07:30"]), ("QID", ["06:00", "11:00", "16:00", "22:00"]),
    ("QW", ["09:15"]), ("BIW", ["00:00"]), ("QN", ["23:59"]), ("PRN", []),
])
def test_valid_dose_times(frequency, times):
    assert dose_times_problem(frequency, times) is None
    assert normalise_dose_times(frequency, times) == sorted(times)


@pytest.mark.parametrize(("frequency", "times", "says"), [
    ("BID", ["08:00"], "BID takes 2 dose time(s), not 1"),
    ("QD", ["08:00", "20:00"], "QD takes 1 dose time(s), not 2"),
    ("QW", ["08:00", "20:00"], "QW takes 1 dose time(s), not 2"),
    ("PRN", ["08:00"], "PRN takes 0 dose time(s), not 1"),
    ("QD", "08:00", "must be a list"),
    ("QD", ["8:00"], "'8:00' is not a time of day"),
    ("QD", ["24:00"], "'24:00' is not a time of day"),
    ("QD", ["08:60"], "'08:60' is not a time of day"),
    ("QD", ["08:00:00"], "is not a time of day"),
    ("QD", [" 08:00"], "is not a time of day"),
    ("QD", ["０８:００"], "is not a time of day"),
    ("QD", [800], "'800' is not a time of day"),
    ("QD", [None], "is not a time of day"),
    ("BID", ["08:00", "08:00"], "08:00 is given more than once"),
    ("Q6H", ["08:00"], "Unknown frequency 'Q6H'"),
])
def test_invalid_dose_times(frequency, times, says):
    assert says in dose_times_problem(frequency, times)
    with pytest.raises(ValueError, match=re.escape(says)):
        normalise_dose_times(frequency, times)


def test_preferences_are_checked_when_made():
    with pytest.raises(ValueError, match="'Mars/Olympus'"):
        Preferences(zone="Mars/Olympus")
    for zone in ("", "/etc/localtime", "../zoneinfo", "a" * 5000, None):
        with pytest.raises(ValueError, match="Unknown time zone"):
            Preferences(zone=zone)
    with pytest.raises(ValueError, match="BID takes 2"):
        Preferences(zone="Asia/Shanghai", dose_times={"BID": ["08:00"]})
    with pytest.raises(ValueError, match="quiet_start"):
        Preferences(zone="Asia/Shanghai", quiet_start="25:00")
    with pytest.raises(ValueError, match="refill_days_before"):
        Preferences(zone="Asia/Shanghai", refill_days_before=-1)


def test_lines_are_checked_when_made():
    with pytest.raises(ValueError, match="Unknown frequency"):
        Line(1, "Q6H", 4, 7)
    with pytest.raises(ValueError, match="BID is 2 dose"):
        Line(1, "BID", 3, 7)
    for days in (-1, 367, 7.0, True):
        with pytest.raises(ValueError, match="days_supply"):
            Line(1, "QD", 1, days)
    assert Line(1, Frequency.BID, 2, 7).frequency == "BID"


def test_plan_refuses_a_naive_dispense_time_and_repeated_keys():
    with pytest.raises(ValueError, match="timezone-aware"):
        plan([line(1, "QD", 7)], datetime(2026, 5, 4, 15, 0), IN_SHANGHAI)
    with pytest.raises(ValueError, match="own key"):
        plan([line(1, "QD", 7), line(1, "BID", 7)], MONDAY_15H, IN_SHANGHAI)


def test_lines_due_at_the_same_minute_share_one_reminder_listing_their_keys_in_order():
    result = plan([line(40, "QD", 1), line(3, "BID", 1), line(7, "TID", 1)], MONDAY_07H, IN_SHANGHAI)
    assert [(r.local.strftime("%H:%M"), r.line_keys) for r in result.doses] == [
        ("08:00", (3, 7, 40)), ("14:00", (7,)), ("20:00", (3, 7))]
