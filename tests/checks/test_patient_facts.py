"""The patient as the checks see them: which fact is in force, when it is stale, what a code implies
(CKD stage, dialysis, pregnancy), and the facts a check case in JSON gives."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from app.checks import patient_facts
from app.checks.case_facts import parse_facts, pregnant_without_weeks
from app.checks.engine import Fact, Kind, Line, PatientContext, check
from app.checks.patient_facts import assess, code_matches, newest, stale_kinds
from app.prescribing.models import Frequency
from tests.checks.conftest import SHIPPED
from tests.checks.test_family_files import build_kb, renal

TODAY = date(2026, 12, 1)


def fact(kind, value, days_ago=None) -> Fact:
    value = value if isinstance(value, str) else Decimal(str(value))
    return Fact(kind, value, TODAY - timedelta(days=days_ago) if days_ago is not None else None)


def state(*facts, conditions=(), age=40, sex="female", limits=None):
    return assess(facts, conditions, age=age, sex=sex, today=TODAY, max_age_days=limits)


def stale(*facts, age=40, limits=None) -> set[str]:
    return stale_kinds(facts, age=age, today=TODAY, max_age_days=limits)


def ago(days: int) -> str:
    return (TODAY - timedelta(days=days)).isoformat()


# ---- the limits, each at and one past its edge -------------------------------------------------------

def test_the_limits_are_those_the_checks_promise():
    assert patient_facts.MAX_AGE_DAYS == {"renal": 183, "hepatic": 183, "weight": 365, "weight_child": 90,
                                          "height": 730, "breastfeeding": 365}
    assert patient_facts.ADULT_AGE == 18 and patient_facts.PREGNANCY_TERM_WEEKS == 42


@pytest.mark.parametrize(("days", "is_stale"), [(0, False), (182, False), (183, False), (184, True),
                                                (400, True)])
@pytest.mark.parametrize("kind", ["egfr", "crcl"])
def test_a_renal_fact_is_stale_after_183_days(days, is_stale, kind):
    renal_state = state(fact(kind, 40, days)).renal
    assert renal_state.reading.stale is is_stale and renal_state.low == renal_state.high == 40
    assert renal_state.reading.limit_days == 183
    assert (kind in stale(fact(kind, 40, days))) is is_stale


@pytest.mark.parametrize(("days", "is_stale"), [(183, False), (184, True)])
def test_a_child_pugh_class_is_stale_after_183_days(days, is_stale):
    reading = state(fact("child_pugh", "B", days)).child_pugh
    assert reading.value == "B" and reading.stale is is_stale
    assert ("child_pugh" in stale(fact("child_pugh", "B", days))) is is_stale


@pytest.mark.parametrize(("age", "days", "is_stale"), [
    (10, 90, False), (10, 91, True), (0, 91, True), (17, 90, False), (17, 91, True),
    (18, 91, False), (40, 365, False), (40, 366, True), (18, 366, True),
    (None, 91, False), (None, 365, False), (None, 366, True),  # age unknown: the adult limit
])
def test_a_weight_is_stale_after_90_days_for_a_child_and_365_for_an_adult(age, days, is_stale):
    reading = state(fact("weight", 20, days), age=age).weight
    assert reading.stale is is_stale and reading.value == 20
    assert reading.limit_days == (90 if age is not None and age < 18 else 365)
    assert ("weight" in stale(fact("weight", 20, days), age=age)) is is_stale


@pytest.mark.parametrize(("days", "is_stale"), [(365, False), (366, True)])
def test_breastfeeding_is_stale_after_365_days(days, is_stale):
    assert state(fact("breastfeeding", 1, days)).breastfeeding.stale is is_stale
    assert ("breastfeeding" in stale(fact("breastfeeding", 1, days))) is is_stale


@pytest.mark.parametrize(("days", "is_stale"), [(730, False), (731, True)])
def test_a_height_is_stale_after_two_years(days, is_stale):
    assert ("height" in stale(fact("height", 170, days))) is is_stale


def test_an_undated_fact_counts_as_measured_today_and_is_never_stale():
    facts = (fact("egfr", 40), fact("weight", 20), fact("child_pugh", "C"), fact("breastfeeding", 1))
    checked = state(*facts, age=5)
    assert not (checked.renal.reading.stale or checked.weight.stale or checked.child_pugh.stale
                or checked.breastfeeding.stale)
    assert stale(*facts, age=5) == set()
    assert checked.renal.reading.words_en == "eGFR 40 mL/min/1.73 m²"  # no date to quote


@pytest.mark.parametrize(("limits", "days", "is_stale"), [
    ({"renal": 30}, 30, False), ({"renal": 30}, 31, True), ({"renal": 365}, 364, False),
    ({"renal": 365}, 366, True), (None, 184, True),
])
def test_the_configured_limits_replace_the_defaults(limits, days, is_stale):
    reading = state(fact("egfr", 40, days), limits=limits).renal.reading
    assert reading.stale is is_stale
    assert reading.limit_days == (limits or {"renal": 183})["renal"]
    assert ("egfr" in stale(fact("egfr", 40, days), limits=limits)) is is_stale


def test_a_configured_limit_leaves_the_others_at_their_defaults():
    checked = state(fact("egfr", 40, 31), fact("weight", 60, 366), limits={"renal": 30})
    assert checked.renal.reading.stale and checked.weight.stale and checked.weight.limit_days == 365
    assert stale(fact("weight", 20, 60), age=5, limits={"weight_child": 59}) == {"weight"}


# ---- which fact is in force ---------------------------------------------------------------------------

def test_the_latest_measured_fact_is_in_force_and_an_undated_one_is_todays():
    old, recent, undated = fact("egfr", 20, 300), fact("egfr", 50, 10), fact("egfr", 35)
    assert newest((old, recent), ("egfr",)) is recent
    assert newest((recent, old), ("egfr",)) is recent
    assert newest((recent, undated, old), ("egfr",)) is undated
    assert newest((old,), ("crcl",)) is None
    # eGFR and creatinine clearance compete: the latest of either is the renal function.
    assert state(fact("egfr", 20, 30), fact("crcl", 55, 2)).renal.low == 55


def test_a_stale_fact_is_still_used_and_its_words_quote_the_value_and_the_date():
    renal = state(fact("egfr", "25.5", 200)).renal
    reading = renal.reading
    assert reading.stale and renal.low == renal.high == Decimal("25.5")
    assert reading.words_en == f"eGFR 25.5 mL/min/1.73 m² ({ago(200)})"
    assert reading.words_zh == f"eGFR 25.5 mL/min/1.73 m² ({ago(200)})"
    crcl = state(fact("crcl", 60, 1)).renal.reading
    assert crcl.words_en == f"creatinine clearance 60 mL/min ({ago(1)})"
    assert crcl.words_zh == f"肌酐清除率 60 mL/min ({ago(1)})"


# ---- CKD stages and dialysis ---------------------------------------------------------------------------

@pytest.mark.parametrize(("code", "low", "high"), [
    ("N18.1", 90, None), ("N18.2", 60, 90), ("N18.3", 30, 60), ("N18.30", 30, 60), ("N18.31", 30, 60),
    ("N18.32", 30, 60), ("N18.4", 15, 30), ("N18.5", 0, 15), ("n18.4", 15, 30),
])
def test_a_ckd_stage_gives_a_range(code, low, high):
    renal_state = state(conditions=(code,)).renal
    assert (renal_state.low, renal_state.high, renal_state.dialysis) == (low, high, False)
    assert not renal_state.reading.stale
    assert code.upper() in renal_state.reading.words_en and "慢性肾脏病" in renal_state.reading.words_zh


def test_the_worst_of_several_stage_codes_is_used():
    renal_state = state(conditions=("N18.2", "N18.4", "N18.3")).renal
    assert (renal_state.low, renal_state.high) == (15, 30)
    assert renal_state.reading.words_en == "CKD N18.4, eGFR 15–30 mL/min/1.73 m²"
    assert state(conditions=("N18.1",)).renal.reading.words_en == "CKD N18.1, eGFR ≥90 mL/min/1.73 m²"


@pytest.mark.parametrize("code", ["N18.6", "Z99.2", "Z49.01", "z99.2"])
def test_dialysis_or_end_stage_disease_is_below_15(code):
    renal_state = state(conditions=("I10", code)).renal
    assert (renal_state.low, renal_state.high, renal_state.dialysis) == (0, 15, True)
    assert code.upper() in renal_state.reading.words_en and "透析" in renal_state.reading.words_zh


def test_dialysis_beats_a_measured_egfr():
    renal_state = state(fact("egfr", 50, 1), conditions=("Z99.2",)).renal
    assert renal_state.dialysis and (renal_state.low, renal_state.high) == (0, 15)


@pytest.mark.parametrize(("days", "low", "high"), [(183, 50, 50), (184, 15, 30)])
def test_a_stale_measured_egfr_gives_way_to_a_coded_stage(days, low, high):
    renal_state = state(fact("egfr", 50, days), conditions=("N18.4",)).renal
    assert (renal_state.low, renal_state.high) == (low, high)
    assert not renal_state.reading.stale  # either a current measurement or the code


def test_a_current_measured_egfr_beats_a_coded_stage():
    renal_state = state(fact("egfr", 50, 30), conditions=("N18.4",)).renal
    assert renal_state.low == renal_state.high == 50


def test_a_stale_measured_egfr_without_a_stage_is_used_and_stale():
    renal_state = state(fact("egfr", 50, 184), conditions=("N18.9", "I10")).renal
    assert renal_state.low == 50 and renal_state.reading.stale


def test_no_renal_fact_and_no_renal_code_means_nothing_is_known():
    assert state(conditions=("I10", "N18.9", "N18")).renal is None


# ---- renal bands through the engine --------------------------------------------------------------------

BANDS = [("t-band-0", "", "15"), ("t-band-15", "15", "30"), ("t-band-30", "30", "45"),
         ("t-band-45", "45", "60"), ("t-band-60", "60", "90"), ("t-band-90", "90", "")]


@pytest.fixture(scope="module")
def bands_kb(tmp_path_factory):
    return build_kb(tmp_path_factory.mktemp("bands"), renal=[
        renal(rule_id, "ingredient:metformin", low, below) for rule_id, low, below in BANDS])


def renal_findings(kb, **context):
    metformin = Line(drug=SHIPPED["METFORMIN-500MG-TAB"], dose=Decimal(500), dose_unit="mg",
                     frequency=Frequency.QD, duration_days=7)
    findings = check([metformin], PatientContext(today=TODAY, **context), kb=kb)
    return [f for f in findings if f.kind == Kind.RENAL]


def fired(kb, **context) -> set[str]:
    return {f.rule_id for f in renal_findings(kb, **context)}


@pytest.mark.parametrize(("value", "expected"), [
    ("0", "t-band-0"), ("14.99", "t-band-0"), ("15", "t-band-15"), ("29.99", "t-band-15"),
    ("30", "t-band-30"), ("44.99", "t-band-30"), ("45", "t-band-45"), ("59.99", "t-band-45"),
    ("60", "t-band-60"), ("89.99", "t-band-60"), ("90", "t-band-90"), ("150", "t-band-90"),
])
def test_a_measured_value_is_in_a_band_from_its_from_up_to_below_its_below(bands_kb, value, expected):
    assert fired(bands_kb, facts=(fact("egfr", value, 10),)) == {expected}


@pytest.mark.parametrize(("code", "expected"), [
    ("N18.1", {"t-band-90"}),
    ("N18.2", {"t-band-60"}),
    ("N18.3", {"t-band-30", "t-band-45"}),  # [30, 60) overlaps both, and not [15, 30)
    ("N18.32", {"t-band-30", "t-band-45"}),
    ("N18.4", {"t-band-15"}),
    ("N18.5", {"t-band-0"}),
    ("N18.6", {"t-band-0"}),
    ("Z99.2", {"t-band-0"}),
])
def test_a_coded_stage_fires_every_band_it_overlaps(bands_kb, code, expected):
    assert fired(bands_kb, condition_codes=(code,)) == expected


def test_dialysis_beats_a_measured_egfr_of_50_in_the_findings(bands_kb):
    (finding,) = renal_findings(bands_kb, facts=(fact("egfr", 50, 1),), condition_codes=("Z99.2",))
    assert finding.rule_id == "t-band-0"
    assert "dialysis (Z99.2)" in finding.message_en and "透析（Z99.2）" in finding.message_zh


@pytest.mark.parametrize(("days", "expected"), [(183, {"t-band-45"}), (184, {"t-band-15"})])
def test_a_stale_egfr_gives_way_to_the_coded_stage_in_the_findings(bands_kb, days, expected):
    assert fired(bands_kb, facts=(fact("egfr", 50, days),), condition_codes=("N18.4",)) == expected


@pytest.mark.parametrize(("days", "is_stale"), [(183, False), (184, True)])
def test_a_finding_on_a_stale_renal_value_says_the_value_and_its_date_in_both_languages(bands_kb, days,
                                                                                         is_stale):
    (finding,) = renal_findings(bands_kb, facts=(fact("egfr", 25, days),))
    assert finding.rule_id == "t-band-15"
    measured = ago(days)
    note_en = (f" Based on eGFR 25 mL/min/1.73 m² ({measured}), more than 183 days old: "
               "confirm it is still current.")
    note_zh = f"（依据eGFR 25 mL/min/1.73 m² ({measured})，已超过183天，请确认是否仍然准确。）"
    assert finding.message_en.startswith(f"Metformin at eGFR 25 mL/min/1.73 m² ({measured}): ")
    assert finding.message_en.endswith(note_en) is is_stale
    assert finding.message_zh.endswith(note_zh) is is_stale
    assert ("more than" in finding.message_en) is is_stale and ("已超过" in finding.message_zh) is is_stale


@pytest.mark.parametrize(("days", "is_stale"), [(30, False), (31, True)])
def test_the_configured_limit_reaches_the_finding(bands_kb, days, is_stale):
    (finding,) = renal_findings(bands_kb, facts=(fact("egfr", 25, days),), fact_max_age_days={"renal": 30})
    assert ("more than 30 days old" in finding.message_en) is is_stale
    assert ("已超过30天" in finding.message_zh) is is_stale


# ---- pregnancy ------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("weeks", "days", "now"), [
    (30, 0, 30), (30, 6, 30), (30, 7, 31), (30, 84, 42), (30, 85, 42), (30, 90, 42), (30, 91, None),
    (42, 0, 42), (43, 0, None), (41, 13, 42), (41, 14, None), (1, 0, 1),
])
def test_pregnancy_weeks_are_counted_forward_and_end_after_42(weeks, days, now):
    pregnancy = state(fact("pregnancy", weeks, days)).pregnancy
    assert (pregnancy.weeks if pregnancy else None) == now
    assert ("pregnancy" in stale(fact("pregnancy", weeks, days))) is (now is None)


def test_undated_pregnancy_weeks_are_the_weeks_today():
    pregnancy = state(fact("pregnancy", 24)).pregnancy
    assert pregnancy.weeks == 24 and pregnancy.reading.words_en == "pregnant, 24 weeks"
    assert pregnancy.reading.words_zh == "妊娠24周"


def test_pregnancy_words_say_the_weeks_today_and_when_they_were_measured():
    pregnancy = state(fact("pregnancy", 20, 14)).pregnancy
    assert pregnancy.reading.words_en == f"pregnant, 22 weeks ({ago(14)})"
    assert pregnancy.reading.words_zh == f"妊娠22周 ({ago(14)})"


@pytest.mark.parametrize("code", ["Z33.1", "Z34.00", "Z34.83", "Z3A.24", "O09.513", "O24.410", "O24.4",
                                  "o26.89", "O48.0"])
def test_a_pregnancy_code_means_pregnant_with_weeks_unknown(code):
    pregnancy = state(conditions=("I10", code)).pregnancy
    assert pregnancy is not None and pregnancy.weeks is None
    assert pregnancy.reading.words_en == f"pregnant ({code.upper()}), weeks not recorded"
    assert pregnancy.reading.words_zh == f"妊娠（{code.upper()}），孕周未记录"


@pytest.mark.parametrize("code", ["O80", "O82", "O03.9", "O08.0", "O60.10", "O99.89", "Z39.2", "Z32.01",
                                  "N18.3"])
def test_a_delivery_an_ended_pregnancy_or_another_code_is_not_pregnant(code):
    assert state(conditions=(code,)).pregnancy is None


def test_a_not_pregnant_fact_outranks_a_pregnancy_code():
    assert state(fact("pregnancy", 0, 3), conditions=("Z34.00",)).pregnancy is None
    assert state(fact("pregnancy", 0), conditions=("O24.410",)).pregnancy is None
    # And a recorded pregnancy that has run past 42 weeks has ended, whatever the code says.
    assert state(fact("pregnancy", 40, 30), conditions=("Z34.00",)).pregnancy is None


def test_a_man_is_never_pregnant_or_breastfeeding():
    checked = state(fact("pregnancy", 24), fact("breastfeeding", 1), conditions=("Z34.00", "Z39.1"),
                    sex="male")
    assert checked.pregnancy is None and checked.breastfeeding is None
    assert state(conditions=("Z34.00",), sex=None).pregnancy is not None


@pytest.mark.parametrize("code", ["Z39.1", "O91.03", "O92.70"])
def test_a_breastfeeding_code_means_breastfeeding(code):
    reading = state(conditions=(code,)).breastfeeding
    assert reading is not None and not reading.stale and code in reading.words_en


def test_a_not_breastfeeding_fact_outranks_a_breastfeeding_code():
    assert state(fact("breastfeeding", 0, 2), conditions=("Z39.1",)).breastfeeding is None


def test_code_matches_by_prefix_and_says_which():
    assert code_matches("i50.9", ("J45", "I50")) == "I50"
    assert code_matches("K92.1", ("K92.2",)) is None
    assert code_matches("K92.2", ("K92.2",)) == "K92.2"
    assert code_matches("I5", ("I50",)) is None


def test_a_child_is_under_18():
    assert state(age=17).is_child and not state(age=18).is_child and not state(age=None).is_child


# ---- the facts of a check case in JSON -------------------------------------------------------------------

def parsed(data: dict):
    problems: list[str] = []
    facts, today, diagnoses = parse_facts(data, problems)
    return facts, today, diagnoses, problems


def test_every_fact_key_of_a_case_is_read():
    facts, today, diagnoses, problems = parsed({
        "today": "2026-12-01", "weight_kg": 18, "height_cm": 110.5,
        "egfr": {"value": 25, "measured_on": "2026-05-01"}, "crcl": 31.5, "child_pugh": "B",
        "pregnancy_weeks": {"value": 24, "measured_on": "2026-11-03"}, "breastfeeding": True,
        "diagnoses": ["I10", "E11.9"]})
    assert problems == []
    assert today == TODAY and diagnoses == ("I10", "E11.9")
    assert set(facts) == {
        Fact("weight", Decimal(18)), Fact("height", Decimal("110.5")),
        Fact("egfr", Decimal(25), date(2026, 5, 1)), Fact("crcl", Decimal("31.5")),
        Fact("child_pugh", "B"), Fact("pregnancy", Decimal(24), date(2026, 11, 3)),
        Fact("breastfeeding", Decimal(1))}


def test_a_case_without_facts_has_none_and_no_day():
    assert parsed({}) == ((), None, (), [])


def test_pregnant_true_reads_as_a_pregnancy_code_and_false_as_not_pregnant():
    facts, _today, _diagnoses, problems = parsed({"pregnant": True})
    assert facts == () and problems == []
    assert pregnant_without_weeks({"pregnant": True}) == ("Z33.1",)
    facts, _today, _diagnoses, problems = parsed({"pregnant": False, "breastfeeding": False})
    assert problems == [] and set(facts) == {Fact("pregnancy", Decimal(0)), Fact("breastfeeding", Decimal(0))}
    assert pregnant_without_weeks({"pregnant": False}) == ()
    assert pregnant_without_weeks({}) == ()


@pytest.mark.parametrize(("data", "problem"), [
    ({"weight_kg": 0.2}, "weight_kg: a number from 0.3 to 400."),
    ({"weight_kg": 401}, "weight_kg: a number from 0.3 to 400."),
    ({"weight_kg": "18"}, "weight_kg: a number from 0.3 to 400."),
    ({"weight_kg": True}, "weight_kg: a number from 0.3 to 400."),
    ({"height_cm": 19}, "height_cm: a number from 20 to 250."),
    ({"egfr": 201}, "egfr: a number from 0 to 200."),
    ({"egfr": -1}, "egfr: a number from 0 to 200."),
    ({"egfr": {"value": 201, "measured_on": "2026-05-01"}}, "egfr: a number from 0 to 200."),
    ({"egfr": {"measured_on": "2026-05-01"}}, "egfr: a number from 0 to 200."),
    ({"crcl": 200.5}, "crcl: a number from 0 to 200."),
    ({"pregnancy_weeks": 45}, "pregnancy_weeks: a number from 0 to 44."),
    ({"child_pugh": "D"}, 'child_pugh: "A", "B" or "C".'),
    ({"child_pugh": "b"}, 'child_pugh: "A", "B" or "C".'),
    ({"pregnant": True, "pregnancy_weeks": 24}, "pregnant: give pregnancy_weeks or pregnant, not both."),
    ({"pregnant": "yes"}, "pregnant: true or false."),
    ({"breastfeeding": 1}, "breastfeeding: true or false."),
    ({"today": "2026-13-01"}, "today: a date as YYYY-MM-DD."),
    ({"today": "1.12.2026"}, "today: a date as YYYY-MM-DD."),
    ({"today": 20261201}, "today: a date as YYYY-MM-DD."),
    ({"egfr": {"value": 25, "measured_on": "2026-02-30"}}, "egfr.measured_on: a date as YYYY-MM-DD."),
    ({"egfr": {"value": 25, "on": "2026-05-01"}}, "egfr: unknown key 'on'; use value and measured_on."),
    ({"diagnoses": "I10"}, 'diagnoses: a list of ICD-10 codes such as "I10".'),
    ({"diagnoses": ["I10", 10]}, 'diagnoses: a list of ICD-10 codes such as "I10".'),
])
def test_a_bad_fact_in_a_case_is_a_clear_problem(data, problem):
    assert parsed(data)[3] == [problem]


@pytest.mark.parametrize(("key", "value"), [
    ("weight_kg", 0.3), ("weight_kg", 400), ("egfr", 0), ("egfr", 200), ("pregnancy_weeks", 44),
    ("height_cm", 20), ("crcl", 200),
])
def test_a_fact_at_the_edge_of_its_range_is_accepted(key, value):
    facts, _today, _diagnoses, problems = parsed({key: value})
    assert problems == [] and len(facts) == 1


def test_pregnant_written_with_a_date_is_either_read_or_refused():
    data = {"pregnant": {"value": True, "measured_on": "2026-11-01"}}
    facts, _today, _diagnoses, problems = parsed(data)
    assert problems or facts or pregnant_without_weeks(data)


METFORMIN_LINE = {"drug": "metformin", "dose": 500, "unit": "mg", "frequency": "BID", "duration_days": 7}


def test_a_case_with_facts_is_checked_with_them(app, whole_catalogue):
    from app.checks import cases

    case = cases.parse({
        "title": "facts reach the context", "today": "2026-12-01", "age": 70, "sex": "female",
        "conditions": ["I10"], "diagnoses": ["E11.9"], "child_pugh": "A", "pregnant": True,
        "weight_kg": {"value": 60, "measured_on": "2025-11-30"},  # 366 days before the case's day
        "egfr": {"value": 25, "measured_on": "2026-05-01"}, "prescription": [METFORMIN_LINE]})
    context = case.context
    assert context.today == TODAY and context.diagnosis_codes == ("E11.9",)
    assert context.condition_codes == ("I10", "Z33.1")
    assert Fact("egfr", Decimal(25), date(2026, 5, 1)) in context.facts
    assert Fact("weight", Decimal(60), date(2025, 11, 30)) in context.facts
    assert Fact("child_pugh", "A") in context.facts
    checked = assess(context.facts, context.condition_codes, age=context.age, sex=context.sex,
                     today=context.today)
    assert checked.renal.reading.stale and checked.weight.stale and checked.pregnancy.weeks is None


def test_a_case_with_bad_facts_lists_every_problem(app, whole_catalogue):
    from app.checks import cases

    with pytest.raises(cases.CaseError) as error:
        cases.parse({"weight_kg": 0.2, "egfr": 201, "child_pugh": "D", "pregnant": True,
                     "pregnancy_weeks": 20, "today": "2026-02-30", "prescription": [METFORMIN_LINE]})
    assert set(error.value.problems) == {
        "today: a date as YYYY-MM-DD.", "weight_kg: a number from 0.3 to 400.",
        "egfr: a number from 0 to 200.", 'child_pugh: "A", "B" or "C".',
        "pregnant: give pregnancy_weeks or pregnant, not both."}


# ---- what the words quote, and which of two facts is in force ----------------------------------------

def test_a_dated_breastfeeding_record_quotes_its_date_and_an_undated_measure_none():
    assert state(fact("breastfeeding", 1, 10)).breastfeeding.words_en == f"breastfeeding ({ago(10)})"
    assert state(fact("breastfeeding", 1, 10)).breastfeeding.words_zh == f"哺乳期 ({ago(10)})"
    assert state(fact("weight", 20), age=8).weight.words_en == "weight 20 kg"
    assert state(fact("child_pugh", "B")).child_pugh.words_en == "Child-Pugh class B"
    coded = state(conditions=("Z39.1",)).breastfeeding
    assert (coded.words_en, coded.words_zh, coded.stale) == (
        "breastfeeding (Z39.1)", "哺乳期（Z39.1）", False)


def test_of_two_facts_measured_the_same_day_the_one_recorded_last_is_in_force():
    assert state(fact("egfr", 40, 3), fact("egfr", 25, 3)).renal.low == 25
    assert state(fact("egfr", 25, 3), fact("egfr", 40, 3)).renal.low == 40


def test_of_two_coded_stages_the_worse_is_used_and_of_two_codes_for_one_stage_the_first():
    renal = state(conditions=("N18.1", "N18.2")).renal
    assert (renal.low, renal.high) == (60, 90) and "N18.2" in renal.reading.words_en
    assert "N18.32" in state(conditions=("N18.32", "N18.31")).renal.reading.words_en


def test_a_pregnancy_is_marked_stale_once_it_must_have_ended():
    # 1 week recorded 300 days (42 weeks) ago is week 43 now: past term.
    assert "pregnancy" in stale(fact("pregnancy", 1, 300))
    # "Not pregnant", however old, and a pregnancy without a date are not marked.
    assert stale(fact("pregnancy", 0, 400)) == set()
    assert stale(fact("pregnancy", 20)) == set()


def test_a_pregnancy_does_not_stop_the_facts_after_it_from_being_marked():
    assert stale(fact("pregnancy", 20, 7), fact("breastfeeding", 1, 400)) == {"breastfeeding"}
