"""Several rows of one family for one drug: a row that does not apply (another age, weight band or
condition, a dose within its limit) never stops the rows after it, and what replaces the adult maximum
for a child is decided row by row. On a knowledge base holding only these rows."""

from datetime import timedelta

import pytest

from app.checks.engine import Kind
from tests.checks.test_dose_rules import TODAY, fact, run, rx
from tests.checks.test_family_files import build_kb, older, paediatric

METFORMIN = "ingredient:metformin"  # the catalogue's adult maximum is 2,550 mg a day
AMLODIPINE = "ingredient:amlodipine"


@pytest.fixture(scope="module")
def kb(tmp_path_factory):
    return build_kb(tmp_path_factory.mktemp("order"), older_adults=[
        older("old-85", METFORMIN, min_age="85"),
        older("old-heart", METFORMIN, min_age="65", conditions="I50"),
        older("old-dose", METFORMIN, min_age="65", dose_above="2000", unit="mg"),
        older("old-65", METFORMIN, min_age="65"),
    ], paediatric=[
        # Metformin: an age-only warning, a maximum for heavier children, then one for any child.
        paediatric("kid-heavy-max", METFORMIN, from_age="6", below_age="18", from_weight="35",
                   action="max_daily", dose="1000", unit="mg"),
        paediatric("kid-avoid", METFORMIN, from_age="6", below_age="18"),
        paediatric("kid-light-max", METFORMIN, from_age="6", below_age="18", from_weight="10",
                   below_weight="35", action="max_daily", dose="3000", unit="mg"),
        # Amlodipine: a maximum in units it is not measured in, a maximum not reached, one exceeded.
        *(paediatric(rule_id, AMLODIPINE, from_age="6", below_age="18", action="max_daily", dose=dose,
                     unit=unit)
          for rule_id, dose, unit in (("kid-iu", "5", "IU"), ("kid-high", "20", "mg"),
                                      ("kid-low", "5", "mg"))),
    ])


def patient_ids(findings) -> list[str]:
    return [f.rule_id for f in findings if f.kind in (Kind.OLDER_ADULT, Kind.PAEDIATRIC)]


def test_an_older_adult_row_applies_after_rows_for_older_ages_conditions_and_higher_doses(kb):
    assert patient_ids(run(kb, rx("METFORMIN-500MG-TAB", 500, "mg", "BID"), age=70)) == ["old-65"]
    assert patient_ids(run(kb, rx("METFORMIN-500MG-TAB", 500, "mg", "BID"), age=70,
                           condition_codes=("I50.9",))) == ["old-65", "old-heart"]


def test_without_the_weight_the_age_rows_still_apply_and_the_weight_is_asked_for(kb):
    findings = run(kb, rx("METFORMIN-500MG-TAB", 500, "mg", "BID"), age=10)
    assert sorted(patient_ids(findings)) == ["kid-avoid", "paediatric-weight-unknown"]


def test_a_band_for_other_weights_does_not_stop_the_band_for_this_child(kb):
    # 30 kg: not in the 35 kg+ band; 3,500 mg a day is above the 10–35 kg band's 3,000 mg.
    findings = run(kb, rx("METFORMIN-500MG-TAB", 1750, "mg", "BID"), age=10, facts=(fact("weight", 30, 5),))
    assert sorted(patient_ids(findings)) == ["kid-avoid", "kid-light-max"]
    # A weight measured 5 days ago: the finding says nothing about its age.
    [dose] = [f for f in findings if f.rule_id == "kid-light-max"]
    assert dose.message_en == "Metformin, child aged 10: 3500 mg a day, above 3000 mg."
    assert dose.message_zh == "二甲双胍，儿童10岁：每日3500 mg，超过3000 mg。"


def test_a_child_maximum_replaces_the_adult_one_only_for_a_child_it_fits(kb):
    # 2,600 mg a day is above the adult 2,550 mg. At 30 kg the 10–35 kg row (3,000 mg) replaces the adult
    # maximum, although an age-only row and a row for 35 kg and over come first.
    light = run(kb, rx("METFORMIN-500MG-TAB", 1300, "mg", "BID"), age=10, facts=(fact("weight", 30, 5),))
    assert Kind.MAX_DOSE not in {f.kind for f in light}
    # At 9 kg no band fits: the adult maximum stays.
    tiny = run(kb, rx("METFORMIN-500MG-TAB", 1300, "mg", "BID"), age=10, facts=(fact("weight", 9, 5),))
    assert Kind.MAX_DOSE in {f.kind for f in tiny}


def test_a_maximum_in_other_units_or_not_reached_does_not_stop_the_one_exceeded(kb):
    findings = run(kb, rx("AMLODIPINE-5MG-TAB", 10, "mg", "QD"), age=10, facts=(fact("weight", 30, 5),))
    assert patient_ids(findings) == ["kid-low"]


def test_an_old_weight_is_noted_on_a_dose_finding_but_not_on_an_age_warning(kb):
    stale_weight = fact("weight", 30, 100)  # a child's weight is stale after 90 days
    findings = {f.rule_id: f for f in run(kb, rx("METFORMIN-500MG-TAB", 1750, "mg", "BID"), age=10,
                                          facts=(stale_weight,))}
    when = (TODAY - timedelta(days=100)).isoformat()
    assert findings["kid-avoid"].message_en == "Metformin, child aged 10."
    assert findings["kid-avoid"].message_zh == "二甲双胍，儿童10岁。"
    assert findings["kid-light-max"].message_en == (
        f"Metformin, child aged 10: 3500 mg a day, above 3000 mg. Based on weight 30 kg ({when}), more than "
        "90 days old: confirm it is still current.")
    assert findings["kid-light-max"].message_zh.endswith(
        f"（依据体重 30 kg ({when})，已超过90天，请确认是否仍然准确。）")
