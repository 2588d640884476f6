"""The PDC rules (PQA method), pinned with figures worked out by hand in each test's comments."""

from datetime import date

import pytest

from app.adherence.pdc import (
    ADHERENT_PDC,
    Fill,
    Result,
    coverage_intervals,
    covered_days,
    is_adherent,
    pdc,
    pdc_by_drug,
    window,
)

D = date.fromisoformat
END = D("2026-03-31")  # 1 Jan – 31 Mar 2026 is 31 + 28 + 31 = 90 days


def fill(day: str, days_supply: int, drug: str = "amlodipine") -> Fill:
    return Fill(drug, D(day), days_supply)


def test_the_issue_example_covers_81_of_90_days():
    fills = [fill("2026-01-01", 30), fill("2026-02-09", 30), fill("2026-03-11", 30)]
    # Jan 1–30 = 30; Feb 9–Mar 10 = 20 + 10 = 30; Mar 11–Apr 9 cut at Mar 31 = 21.
    # 30 + 30 + 21 = 81 covered; the gap Jan 31–Feb 8 is the other 9 days. 81 / 90 = 0.9.
    result = pdc(fills, D("2026-01-01"), END)
    assert result == Result(eligible=True, covered_days=81, period_days=90, pdc=0.9)
    assert result.to_dict() == {"eligible": True, "covered_days": 81, "period_days": 90, "pdc": 0.9}
    assert is_adherent(result.pdc)
    assert pdc_by_drug(fills, END) == {"amlodipine": result}


def test_an_early_refill_starts_when_the_previous_supply_runs_out():
    fills = [fill("2026-01-01", 30), fill("2026-01-21", 30)]
    # Jan 1–30, then the refill 10 days early is shifted to Jan 31–Mar 1 (1 + 28 + 1 = 30 days).
    assert coverage_intervals(fills) == [
        (D("2026-01-01"), D("2026-01-30")), (D("2026-01-31"), D("2026-03-01"))]
    # Period Jan 1–Mar 15 = 31 + 28 + 15 = 74 days; covered Jan 1–Mar 1 = 30 + 30 = 60; 60 / 74 = 0.8108.
    # Without the shift the two supplies would overlap and cover only Jan 1–Feb 19 = 50 days (0.6757).
    result = pdc(fills, D("2026-01-01"), D("2026-03-15"))
    assert (result.covered_days, result.period_days, result.to_dict()["pdc"]) == (60, 74, 0.8108)
    assert is_adherent(result.pdc)


def test_a_shifted_supply_is_cut_off_at_the_end_of_the_period():
    fills = [fill("2026-01-01", 30), fill("2026-01-21", 30)]
    # Shifted supply Jan 31–Mar 1; the period ends Feb 28, so Mar 1 falls outside.
    # Period Jan 1–Feb 28 = 59 days, every one covered: 59 / 59 = 1.0 (never above 1).
    assert pdc(fills, D("2026-01-01"), D("2026-02-28")) == Result(True, 59, 59, 1.0)
    assert coverage_intervals(fills, end=D("2026-02-28"))[-1] == (D("2026-01-31"), D("2026-02-28"))


def test_several_early_refills_carry_supply_forward_without_losing_any():
    fills = [fill("2026-01-01", 30), fill("2026-01-21", 30), fill("2026-02-20", 30)]
    # Jan 1–30; Jan 21 shifted to Jan 31–Mar 1; Feb 20 shifted to Mar 2–Mar 31: every day of the 90.
    # Unshifted they would end Mar 21 (Feb 20 + 29), covering 31 + 28 + 21 = 80.
    assert pdc(fills, D("2026-01-01"), END) == Result(True, 90, 90, 1.0)


def test_a_gap_leaves_days_uncovered():
    fills = [fill("2026-01-01", 30), fill("2026-03-01", 30)]
    # Jan 1–30 = 30 and Mar 1–30 = 30: 60 covered; Jan 31–Feb 28 (29) and Mar 31 (1) are not.
    # 60 / 90 = 0.6667: not adherent.
    result = pdc(fills, D("2026-01-01"), END)
    assert (result.covered_days, result.period_days, result.to_dict()["pdc"]) == (60, 90, 0.6667)
    assert not is_adherent(result.pdc)


def test_different_drugs_overlap_without_shifting_each_other():
    amlodipine = [fill("2026-01-01", 30), fill("2026-01-31", 30)]
    metformin = [fill("2026-01-15", 30, "metformin"), fill("2026-02-10", 30, "metformin")]
    results = pdc_by_drug(amlodipine + metformin, END)
    # Amlodipine Jan 1–Mar 1 = 60 of Jan 1–Mar 31 (90): 0.6667, untouched by metformin taken alongside.
    assert results["amlodipine"].to_dict() == {
        "eligible": True, "covered_days": 60, "period_days": 90, "pdc": 0.6667}
    # Metformin from its first fill: Jan 15–Mar 31 = 17 + 28 + 31 = 76 days. Jan 15–Feb 13, then the
    # Feb 10 refill shifted by its own earlier supply only, to Feb 14–Mar 15: 17 + 28 + 15 = 60 covered.
    # 60 / 76 = 0.7895.
    assert results["metformin"].to_dict() == {
        "eligible": True, "covered_days": 60, "period_days": 76, "pdc": 0.7895}
    assert results["amlodipine"] == pdc(amlodipine, D("2026-01-01"), END)
    assert results["metformin"] == pdc(metformin, D("2026-01-15"), END)


def test_the_one_drug_functions_refuse_a_mixture_of_drugs():
    mixed = [fill("2026-01-01", 30), fill("2026-01-15", 30, "metformin")]
    start = D("2026-01-01")
    for measure in (lambda: pdc(mixed, start, END), lambda: covered_days(mixed, start, END),
                    lambda: coverage_intervals(mixed), lambda: window(mixed, END, 90)):
        with pytest.raises(ValueError, match="one drug"):
            measure()


def test_a_single_fill_is_not_eligible_but_its_figures_are_shown():
    # Jan 1–30 = 30 of 90: 0.3333, but one date of service is not enough for the measure.
    assert pdc_by_drug([fill("2026-01-01", 30)], END)["amlodipine"].to_dict() == {
        "eligible": False, "covered_days": 30, "period_days": 90, "pdc": 0.3333}


def test_two_fills_on_the_same_date_are_one_date_of_service():
    fills = [fill("2026-01-01", 30), fill("2026-01-01", 30)]
    # The second supply is shifted to Jan 31–Mar 1: 60 covered of 90 (0.6667), still one date: not eligible.
    assert pdc(fills, D("2026-01-01"), END) == Result(False, 60, 90, 60 / 90)


def test_exactly_80_percent_is_adherent_and_one_day_fewer_is_not():
    # Jan 1–30 (30) + Jan 31–Mar 13 (42 = 1 + 28 + 13) = 72 covered; 72 / 90 = 0.80 exactly.
    exact = pdc([fill("2026-01-01", 30), fill("2026-01-31", 42)], D("2026-01-01"), END)
    assert (exact.covered_days, exact.pdc) == (72, ADHERENT_PDC)
    assert is_adherent(exact.pdc)
    # 41 days instead of 42: 71 / 90 = 0.7889.
    short = pdc([fill("2026-01-01", 30), fill("2026-01-31", 41)], D("2026-01-01"), END)
    assert (short.covered_days, short.to_dict()["pdc"]) == (71, 0.7889)
    assert not is_adherent(short.pdc)
    assert is_adherent(0.80) and not is_adherent(0.7999)


def test_a_fill_on_the_last_day_of_the_period_counts_one_day():
    # Jan 1–30 = 30, plus Mar 31 alone (the rest is past the end): 31 of 90; two dates of service.
    result = pdc([fill("2026-01-01", 30), fill("2026-03-31", 30)], D("2026-01-01"), END)
    assert result == Result(True, 31, 90, 31 / 90)


def test_a_fill_the_day_after_the_period_is_ignored():
    # Apr 1 is outside: Jan 1–30 = 30 of 90, and only one date of service inside the period.
    result = pdc([fill("2026-01-01", 30), fill("2026-04-01", 30)], D("2026-01-01"), END)
    assert result == Result(False, 30, 90, 30 / 90)
    # A drug whose only fill is after the end has nothing to report.
    assert pdc_by_drug([fill("2026-04-01", 30, "metformin")], END) == {}


def test_a_refill_the_day_after_the_supply_ends_is_not_shifted():
    # Jan 1 + 30 days supply lasts to Jan 30; a refill on Jan 31 starts that day.
    intervals = coverage_intervals([fill("2026-01-01", 30), fill("2026-01-31", 30)])
    assert intervals == [(D("2026-01-01"), D("2026-01-30")), (D("2026-01-31"), D("2026-03-01"))]


def test_a_refill_on_the_last_day_of_the_supply_is_shifted_by_one_day():
    # The supply lasts to Jan 30; a refill that same day starts on Jan 31, the day after.
    intervals = coverage_intervals([fill("2026-01-01", 30), fill("2026-01-30", 30)])
    assert intervals == [(D("2026-01-01"), D("2026-01-30")), (D("2026-01-31"), D("2026-03-01"))]
    # Jan 1–Mar 1 = 60 covered either way, never 59 + a day counted twice.
    assert covered_days([fill("2026-01-01", 30), fill("2026-01-30", 30)], D("2026-01-01"), END) == 60


def test_supply_from_before_the_period_covers_the_days_it_reaches_into():
    fills = [fill("2025-12-20", 30), fill("2026-01-25", 30)]
    # Dec 20–Jan 18 reaches 18 days into January; Jan 25–Feb 23 is 7 + 23 = 30. Period Jan 1–Mar 31:
    # 18 + 30 = 48 of 90. Only the Jan 25 fill is inside the period: one date of service, not eligible.
    assert covered_days(fills, D("2026-01-01"), END) == 48
    assert pdc_by_drug(fills, END, start=D("2026-01-01")) == {"amlodipine": Result(False, 48, 90, 48 / 90)}


def test_a_rolling_window_counts_a_fill_from_before_it():
    fills = [fill("2026-03-15", 30), fill("2026-04-14", 30), fill("2026-05-20", 30)]
    end = D("2026-06-30")
    # 90 days to Jun 30 start Apr 2 (29 days of April + 31 + 30 = 90). Mar 15–Apr 13 covers Apr 2–13 = 12;
    # Apr 14–May 13 = 17 + 13 = 30; May 20–Jun 18 = 12 + 18 = 30. 12 + 30 + 30 = 72; 72 / 90 = 0.80.
    # Fills inside the window: Apr 14 and May 20, so eligible.
    assert window(fills, end, 90) == Result(True, 72, 90, 0.8)
    # 180 days would start Jan 2, before the first fill: measured from Mar 15 instead,
    # 17 + 30 + 31 + 30 = 108 days. Covered Mar 15–May 13 (17 + 30 + 13 = 60) + 30 = 90; 90 / 108 = 0.8333.
    assert window(fills, end, 180).to_dict() == {
        "eligible": True, "covered_days": 90, "period_days": 108, "pdc": 0.8333}


def test_a_rolling_window_is_shorter_when_the_first_fill_is_recent():
    # First fill Jun 1: the 90-day window to Jun 30 is Jun 1–30 = 30 days, all covered (15 + 15).
    fills = [fill("2026-06-01", 15), fill("2026-06-16", 15)]
    assert window(fills, D("2026-06-30"), 90) == Result(True, 30, 30, 1.0)


def test_a_rolling_window_with_no_fill_is_all_gap():
    # Nothing up to Jun 30 (the Jul 1 fill is after it): the whole 90 days uncovered.
    assert window([fill("2026-07-01", 30)], D("2026-06-30"), 90) == Result(False, 0, 90, 0.0)
    assert window([], D("2026-06-30"), 180) == Result(False, 0, 180, 0.0)


@pytest.mark.parametrize("days_supply", [0, -30, 1.5, "30", True, None, 367])
def test_a_fill_without_a_positive_whole_days_supply_is_refused_by_name(days_supply):
    with pytest.raises(ValueError, match="amlodipine filled on 2026-01-01: days supply must be a whole"):
        fill("2026-01-01", days_supply)


def test_periods_and_windows_must_make_sense():
    fills = [fill("2026-01-01", 30)]
    with pytest.raises(ValueError, match=r"starts \(2026-04-01\) after it ends \(2026-03-31\)"):
        pdc(fills, D("2026-04-01"), END)
    with pytest.raises(ValueError, match="window"):
        window(fills, END, 0)
    with pytest.raises(ValueError, match="must be a date"):
        Fill("amlodipine", "2026-01-01", 30)


def test_a_fill_on_the_last_day_is_measured_by_every_entry_point():
    fills = [fill("2026-01-01", 30), fill("2026-03-31", 30)]
    # Jan 1–30 and Mar 31 alone: 31 of 90 from the drug's first fill, as `flask adherence pdc` prints it.
    assert pdc_by_drug(fills, END) == {"amlodipine": Result(True, 31, 90, 31 / 90)}
    assert pdc_by_drug([fill("2026-03-31", 30)], END) == {"amlodipine": Result(False, 1, 1, 1.0)}
    assert coverage_intervals(fills, END) == [(D("2026-01-01"), D("2026-01-30")), (END, END)]
    assert window(fills, END, 90) == Result(True, 31, 90, 31 / 90)


def test_a_period_of_one_day_is_measured():
    assert pdc([fill("2026-03-31", 30)], END, END) == Result(False, 1, 1, 1.0)
    assert window([fill("2026-03-31", 30)], END, 1) == Result(False, 1, 1, 1.0)
    assert window([fill("2026-03-30", 1)], END, 1) == Result(False, 0, 1, 0.0)


def test_a_supply_that_ran_out_before_the_period_covers_nothing():
    # Dec 1–30 ends the day before the period starts: no day of it counts, nor does it make a day up.
    assert covered_days([fill("2025-12-01", 30)], D("2025-12-31"), END) == 0
    assert covered_days([fill("2025-12-01", 30)], D("2025-12-30"), END) == 1


@pytest.mark.parametrize("days", [True, 90.0, "90", None, -1])
def test_a_window_is_a_whole_number_of_days(days):
    with pytest.raises(ValueError, match="a window is a whole number of days, at least 1"):
        window([fill("2026-01-01", 30)], END, days)


@pytest.mark.parametrize("days_supply", [1, 366])
def test_a_fill_from_one_day_to_a_year_and_a_leap_day_is_accepted(days_supply):
    assert fill("2026-01-01", days_supply).days_supply == days_supply


def test_a_window_reaching_before_the_first_calendar_day_starts_on_it():
    # date.min is 0001-01-01: the 90 days to 5 January of year 1 can only begin there, 5 days long.
    assert window([], date(1, 1, 5), 90) == Result(False, 0, 5, 0.0)
