"""Acceptance 2: packs and days' supply, computed by hand from the shipped catalogue's packs."""

import pytest

from app.prescribing import services as rx
from tests.prescribing.conftest import item


def test_tablets_amlodipine_5_mg_once_daily_for_28_days(visit, draft):
    # 5 mg tablets, 28 per pack: 1 tablet × 1 a day × 28 days = 28 tablets = 1 pack;
    # 1 pack × 28 tablets / 1 a day = 28 days.
    rx.set_supply(draft, visit.doctor, "chronic", reason="Stable hypertension.")
    line = item(draft, visit.doctor, visit.drugs, dose="5", dose_unit="mg", frequency="QD", duration_days=28)
    assert (line.quantity_packs, line.days_supply) == (1, 28)


def test_a_plain_tablet_dose_is_counted_in_half_tablets(visit, draft):
    # 7.5 mg from 5 mg plain tablets is 1½ tablets a dose: 1.5 × 7 = 10.5 tablets → 1 pack of 28;
    # 28 tablets / 1.5 a day = 18.67 → 18 whole days.
    line = item(draft, visit.doctor, visit.drugs, dose="7.5", dose_unit="mg", frequency="QD", duration_days=7)
    assert (line.quantity_packs, line.days_supply) == (1, 18)


def test_a_dose_between_half_tablets_is_rounded_up_to_the_next_half(visit, draft):
    # 6 mg from 5 mg tablets cannot be measured: 1½ tablets a dose, as for 7.5 mg.
    line = item(draft, visit.doctor, visit.drugs, dose="6", dose_unit="mg", frequency="QD", duration_days=7)
    assert (line.quantity_packs, line.days_supply) == (1, 18)


def test_a_controlled_release_tablet_is_never_split(visit, draft):
    # Nifedipine 30 mg controlled-release, 7 per pack: 45 mg is 2 whole tablets a dose (1½ would break
    # the release mechanism): 2 × 7 = 14 tablets = 2 packs; 14 / 2 a day = 7 days.
    line = item(draft, visit.doctor, visit.drugs, "NIFEDIPINE-30MG-CRTAB", dose="45", dose_unit="mg",
                frequency="QD", duration_days=7)
    assert (line.quantity_packs, line.days_supply) == (2, 7)


def test_a_dose_in_grams_counts_against_a_strength_in_mg(visit, draft):
    # Metformin 1 g = 2 × 500 mg tablets, twice a day for 7 days: 2 × 2 × 7 = 28 tablets;
    # packs of 20 → ceil(28 / 20) = 2 packs = 40 tablets; 40 / 4 a day = 10 days.
    line = item(draft, visit.doctor, visit.drugs, "METFORMIN-500MG-TAB", dose="1", dose_unit="g",
                frequency="BID", duration_days=7)
    assert (line.quantity_packs, line.days_supply) == (2, 10)


def test_weekly_dosing_methotrexate_10_mg_once_weekly_for_28_days(visit, draft):
    # 10 mg = 4 × 2.5 mg tablets, once a week: 28 days hold 4 doses → 16 tablets;
    # the catalogue's pack is 16 tablets → 1 pack; 16 tablets / (4/7 a day) = 28 days.
    rx.set_supply(draft, visit.doctor, "chronic", reason="Rheumatoid arthritis on a stable dose.")
    line = item(draft, visit.doctor, visit.drugs, "METHOTREXATE-2.5MG-TAB", dose="10", dose_unit="mg",
                frequency="QW", duration_days=28)
    assert visit.drugs["METHOTREXATE-2.5MG-TAB"].pack_size == 16
    assert (line.quantity_packs, line.days_supply) == (1, 28)


def test_weekly_dosing_counts_whole_doses(visit, draft):
    # 10 days of a weekly drug is 2 doses (days 1 and 8), not 10/7 of one: 2 × 4 tablets = 8 tablets
    # → 1 pack of 16, which covers 16 / (4/7 a day) = 28 days.
    rx.set_supply(draft, visit.doctor, "chronic", reason="Rheumatoid arthritis.")
    line = item(draft, visit.doctor, visit.drugs, "METHOTREXATE-2.5MG-TAB", dose="4", dose_unit="tablet",
                frequency="QW", duration_days=10)
    assert (line.quantity_packs, line.days_supply) == (1, 28)


def test_as_needed_with_a_daily_maximum_salbutamol(visit, draft):
    # 200 µg = 2 puffs of 100 µg, at most 4 times a day, for 7 days: 2 × 4 × 7 = 56 puffs;
    # 200 puffs an inhaler → 1 inhaler; 200 / (2 × 4 a day) = 25 days at the maximum use.
    line = item(draft, visit.doctor, visit.drugs, "SALBUTAMOL-100UG-INH", dose="200", dose_unit="µg",
                frequency="PRN", max_doses_per_day=4, duration_days=7)
    assert (line.quantity_packs, line.days_supply) == (1, 25)


def test_injectable_pen_insulin_glargine_20_iu_daily_for_28_days(visit, draft):
    # 20 IU a day × 28 days = 560 IU; a pen holds 300 IU and the catalogue's pack is 1 pen:
    # 560 / 300 = 1.87 → 2 packs (600 IU); 600 IU / 20 IU a day = 30 days.
    rx.set_supply(draft, visit.doctor, "chronic", reason="Insulin-treated type 2 diabetes.")
    glargine = visit.drugs["INSULIN-GLARGINE-300IU-PEN"]
    assert (glargine.strength, glargine.pack_size) == (300, 1)
    line = item(draft, visit.doctor, visit.drugs, "INSULIN-GLARGINE-300IU-PEN", dose="20", dose_unit="IU",
                frequency="QN", duration_days=28)
    assert (line.quantity_packs, line.days_supply) == (2, 30)


def test_injectable_pen_dosed_in_mg_liraglutide(visit, draft):
    # 1.2 mg a day × 28 days = 33.6 mg; an 18 mg pen per pack: 33.6 / 18 = 1.87 → 2 pens (36 mg);
    # 36 / 1.2 = 30 days.
    rx.set_supply(draft, visit.doctor, "chronic", reason="Type 2 diabetes, stable on liraglutide.")
    line = item(draft, visit.doctor, visit.drugs, "LIRAGLUTIDE-18MG-PEN", dose="1.2", dose_unit="mg",
                frequency="QD", duration_days=28)
    assert (line.quantity_packs, line.days_supply) == (2, 30)


@pytest.mark.parametrize(("frequency", "per_day"), [("QD", 1), ("BID", 2), ("TID", 3), ("QID", 4),
                                                    ("Q8H", 3), ("Q12H", 2), ("QN", 1)])
def test_daily_frequencies(visit, draft, frequency, per_day):
    # 1 tablet per dose for 7 days: 7 × per_day tablets ≤ 28 → 1 pack, covering 28 / per_day days.
    line = item(draft, visit.doctor, visit.drugs, frequency=frequency, duration_days=7)
    assert (line.quantity_packs, line.days_supply) == (1, 28 // per_day)
