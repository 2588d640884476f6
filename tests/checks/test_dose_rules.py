"""The patient-aware rules on real catalogue products, each limit pinned at, one below and one above:
kidneys and liver, older adults, children, pregnancy and breastfeeding, diseases, indications, the dose
conditions of interactions, doses that cannot be measured out, and products never delivered.

Every test checks against a knowledge base of its own rows (test_family_files.build_kb), never the
shipped rows, which change as the files grow."""

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest

from app.checks.engine import Fact, Kind, Line, PatientContext, Severity, check
from app.checks.knowledge import KnowledgeBaseError
from app.prescribing.models import Frequency
from tests.checks.conftest import SHIPPED, taking
from tests.checks.test_family_files import (
    SOURCE,
    build_kb,
    csv_row,
    drug_disease,
    hepatic,
    indication,
    interaction,
    older,
    paediatric,
    pregnancy,
    renal,
)

TODAY = date(2026, 12, 1)


def drug(code: str, **changes):
    """A catalogue product, with the fields a test depends on set explicitly."""
    return replace(SHIPPED[code], **changes)


def rx(product, dose, unit="mg", frequency="QD", *, position=1, max_doses_per_day=None) -> Line:
    product = drug(product) if isinstance(product, str) else product
    return Line(drug=product, dose=Decimal(str(dose)), dose_unit=unit, frequency=Frequency(frequency),
                duration_days=7, max_doses_per_day=max_doses_per_day, position=position)


def fact(kind, value, days_ago=None) -> Fact:
    value = value if isinstance(value, str) else Decimal(str(value))
    return Fact(kind, value, TODAY - timedelta(days=days_ago) if days_ago is not None else None)


def run(kb, lines, **context):
    return check(lines if isinstance(lines, list) else [lines], PatientContext(today=TODAY, **context), kb=kb)


def ids(findings, kind=None) -> set[str]:
    return {f.rule_id for f in findings if kind is None or f.kind == kind}


def one(findings, rule_id):
    matching = [f for f in findings if f.rule_id == rule_id]
    assert len(matching) == 1, [(f.rule_id, f.message_en) for f in findings]
    return matching[0]


# ---- renal ------------------------------------------------------------------------------------------

METFORMIN = "METFORMIN-500MG-TAB"


@pytest.fixture(scope="module")
def renal_kb(tmp_path_factory):
    return build_kb(tmp_path_factory.mktemp("renal"), renal=[
        renal("t-met-avoid", "ingredient:metformin", "", "30", "avoid", severity="contraindicated"),
        renal("t-met-max", "ingredient:metformin", "30", "45", "max_daily", "1000", "mg"),
        renal("t-met-max-g", "atc:A10BA", "45", "60", "max_daily", "1.5", "g"),
    ])


@pytest.mark.parametrize(("dose", "frequency", "fires"), [
    (500, "BID", False),  # 1000 mg: at the maximum
    (1000, "QD", False),
    (999, "QD", False),
    (1001, "QD", True),  # one mg above
    (500, "TID", True),
])
def test_a_renal_max_daily_row_fires_only_above_its_maximum(renal_kb, dose, frequency, fires):
    findings = run(renal_kb, rx(METFORMIN, dose, frequency=frequency), facts=(fact("egfr", 40),))
    assert ids(findings, Kind.RENAL) == ({"t-met-max"} if fires else set())


def test_a_renal_max_daily_finding_says_the_dose_the_maximum_and_the_value(renal_kb):
    findings = run(renal_kb, rx(METFORMIN, 500, frequency="TID"), facts=(fact("egfr", 40),))
    finding = one(findings, "t-met-max")
    assert finding.severity == Severity.MAJOR and finding.kind == Kind.RENAL
    assert finding.message_en == "Metformin at eGFR 40 mL/min/1.73 m²: 1500 mg a day is above 1000 mg."
    assert "每日1500 mg，超过1000 mg" in finding.message_zh and "40 mL/min/1.73 m²" in finding.message_zh


@pytest.mark.parametrize(("daily_mg", "fires"), [(1500, False), (1499, False), (1501, True)])
def test_a_renal_maximum_in_grams_is_compared_with_a_dose_in_milligrams(renal_kb, daily_mg, fires):
    findings = run(renal_kb, rx(METFORMIN, daily_mg), facts=(fact("egfr", 50),))
    assert ids(findings, Kind.RENAL) == ({"t-met-max-g"} if fires else set())


def test_an_avoid_band_fires_whatever_the_dose(renal_kb):
    findings = run(renal_kb, rx(METFORMIN, 250), facts=(fact("egfr", 29),))
    assert ids(findings, Kind.RENAL) == {"t-met-avoid"}
    assert one(findings, "t-met-avoid").severity == Severity.CONTRAINDICATED


def test_a_creatinine_clearance_is_used_like_an_egfr(renal_kb):
    finding = one(run(renal_kb, rx(METFORMIN, 500), facts=(fact("crcl", 20),)), "t-met-avoid")
    assert "creatinine clearance 20 mL/min" in finding.message_en
    assert "肌酐清除率 20 mL/min" in finding.message_zh


def test_a_renal_max_daily_row_on_a_coded_stage_still_needs_a_dose_above_the_maximum(renal_kb):
    # N18.3 [30, 60) overlaps both max_daily bands; each fires only above its own maximum.
    at_both = run(renal_kb, rx(METFORMIN, 500, frequency="BID"), condition_codes=("N18.3",))
    assert ids(at_both, Kind.RENAL) == set()
    above_both = run(renal_kb, rx(METFORMIN, 1000, frequency="BID"), condition_codes=("N18.3",))
    assert ids(above_both, Kind.RENAL) == {"t-met-max", "t-met-max-g"}


def test_no_renal_fact_and_no_code_means_no_renal_finding(renal_kb):
    assert ids(run(renal_kb, rx(METFORMIN, 500, frequency="TID")), Kind.RENAL) == set()


# ---- hepatic ----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def hepatic_kb(tmp_path_factory):
    return build_kb(tmp_path_factory.mktemp("hepatic"), hepatic=[
        hepatic("t-hep-avoid", "ingredient:metformin", "C", "avoid", severity="contraindicated"),
        hepatic("t-hep-max", "ingredient:metformin", "B", "max_daily", "1000", "mg"),
        hepatic("t-hep-adjust", "ingredient:amitriptyline", "B C", "adjust", severity="moderate"),
    ])


@pytest.mark.parametrize(("child_pugh", "expected"), [
    ("A", set()), ("B", {"t-hep-adjust"}), ("C", {"t-hep-adjust"}),
])
def test_a_hepatic_row_fires_for_the_child_pugh_classes_it_lists(hepatic_kb, child_pugh, expected):
    findings = run(hepatic_kb, rx("AMITRIPTYLINE-25MG-TAB", 25), facts=(fact("child_pugh", child_pugh),))
    assert ids(findings, Kind.HEPATIC) == expected


@pytest.mark.parametrize(("child_pugh", "daily", "expected"), [
    ("A", 2000, set()),
    ("B", 1000, set()),
    ("B", 1001, {"t-hep-max"}),
    ("B", 1500, {"t-hep-max"}),
    ("C", 500, {"t-hep-avoid"}),
    ("C", 2000, {"t-hep-avoid"}),
])
def test_a_hepatic_max_daily_row_fires_only_above_its_maximum(hepatic_kb, child_pugh, daily, expected):
    findings = run(hepatic_kb, rx(METFORMIN, daily), facts=(fact("child_pugh", child_pugh),))
    assert ids(findings, Kind.HEPATIC) == expected


def test_a_hepatic_finding_names_the_class_and_an_old_class_says_so(hepatic_kb):
    current = one(run(hepatic_kb, rx(METFORMIN, 500), facts=(fact("child_pugh", "C", 183),)), "t-hep-avoid")
    assert "Child-Pugh class C (2026-06-01)" in current.message_en and "Child-Pugh C级" in current.message_zh
    assert "more than" not in current.message_en and "已超过" not in current.message_zh
    old = one(run(hepatic_kb, rx(METFORMIN, 500), facts=(fact("child_pugh", "C", 184),)), "t-hep-avoid")
    assert old.message_en.endswith(
        " Based on Child-Pugh class C (2026-05-31), more than 183 days old: confirm it is still current.")
    assert old.message_zh.endswith("（依据Child-Pugh C级 (2026-05-31)，已超过183天，请确认是否仍然准确。）")


# ---- older adults -----------------------------------------------------------------------------------

AMITRIPTYLINE = "AMITRIPTYLINE-25MG-TAB"


@pytest.fixture(scope="module")
def older_kb(tmp_path_factory):
    return build_kb(tmp_path_factory.mktemp("older"), older_adults=[
        older("t-old-tca", "ingredient:amitriptyline", "65"),
        older("t-old-tca-dementia", "ingredient:amitriptyline", "65", "F00 F01 F02 F03 G30",
              severity="major"),
        older("t-old-nsaid-hf", "atc:M01AE", "70", "I50"),
        older("t-old-digoxin", "ingredient:digoxin", "65", "", "0.125", "mg"),
    ])


@pytest.mark.parametrize(("age", "fires"), [(64, False), (65, True), (90, True)])
def test_an_older_adult_row_starts_at_its_min_age(older_kb, age, fires):
    findings = run(older_kb, rx(AMITRIPTYLINE, 25), age=age)
    assert ids(findings, Kind.OLDER_ADULT) == ({"t-old-tca"} if fires else set())


def test_an_older_adult_row_needs_an_age(older_kb):
    assert ids(run(older_kb, rx(AMITRIPTYLINE, 25), condition_codes=("G30.9",))) == set()


def test_an_older_adult_finding_names_the_age(older_kb):
    finding = one(run(older_kb, rx(AMITRIPTYLINE, 25), age=65), "t-old-tca")
    assert finding.message_en == "Amitriptyline, aged 65." and "65岁" in finding.message_zh
    assert finding.severity == Severity.MODERATE


@pytest.mark.parametrize(("conditions", "age", "expected"), [
    (("G30.9",), 65, {"t-old-tca", "t-old-tca-dementia"}),
    (("I10", "F03.90"), 80, {"t-old-tca", "t-old-tca-dementia"}),
    (("f01.50",), 80, {"t-old-tca", "t-old-tca-dementia"}),
    (("I10",), 80, {"t-old-tca"}),
    (("F04",), 80, {"t-old-tca"}),  # F04 is not among F00–F03
    (("G30.9",), 64, set()),
])
def test_an_older_adult_drug_disease_row_needs_one_of_its_conditions(older_kb, conditions, age, expected):
    findings = run(older_kb, rx(AMITRIPTYLINE, 25), age=age, condition_codes=conditions)
    assert ids(findings, Kind.OLDER_ADULT) == expected


def test_an_older_adult_drug_disease_finding_names_the_patients_code(older_kb):
    findings = run(older_kb, rx(AMITRIPTYLINE, 25), age=80, condition_codes=("I10", "G30.1"))
    finding = one(findings, "t-old-tca-dementia")
    assert finding.message_en == "Amitriptyline, aged 80 with G30.1." and "G30.1" in finding.message_zh
    assert finding.severity == Severity.MAJOR


@pytest.mark.parametrize(("age", "fires"), [(69, False), (70, True)])
def test_a_min_age_above_65_is_the_rows_own(older_kb, age, fires):
    findings = run(older_kb, rx("NAPROXEN-250MG-TAB", 250), age=age, condition_codes=("I50.9",))
    assert ids(findings, Kind.OLDER_ADULT) == ({"t-old-nsaid-hf"} if fires else set())


@pytest.mark.parametrize(("dose", "fires"), [
    ("0.125", False), ("0.0625", False), ("0.25", True), ("0.1875", True),
])
def test_an_older_adult_dose_above_row_fires_only_above_that_dose(older_kb, dose, fires):
    findings = run(older_kb, rx("DIGOXIN-0.25MG-TAB", dose), age=70)
    assert ids(findings, Kind.OLDER_ADULT) == ({"t-old-digoxin"} if fires else set())


def test_an_older_adult_dose_finding_says_the_daily_dose(older_kb):
    finding = one(run(older_kb, rx("DIGOXIN-0.25MG-TAB", "0.25"), age=70), "t-old-digoxin")
    assert finding.message_en.startswith("Digoxin, aged 70: 0.25 mg a day, above ")


def test_an_older_adult_dose_finding_quotes_the_limit_as_written(older_kb):
    finding = one(run(older_kb, rx("DIGOXIN-0.25MG-TAB", "0.25"), age=70), "t-old-digoxin")
    assert "above 0.125 mg" in finding.message_en


# ---- children ---------------------------------------------------------------------------------------

def amoxicillin():
    return drug("AMOXICILLIN-250MG-CAP", max_daily_dose=Decimal(4000), max_daily_dose_unit="mg")


def daily(mg) -> Line:
    """Amoxicillin (adult maximum 4000 mg) adding up to `mg` a day."""
    return rx(amoxicillin(), Decimal(str(mg)) / 2, frequency="BID")


@pytest.fixture(scope="module")
def child_kb(tmp_path_factory):
    return build_kb(tmp_path_factory.mktemp("child"), paediatric=[
        paediatric("t-paed-amox-kg", "ingredient:amoxicillin", action="max_daily_per_kg", dose="4000",
                   per_kg="60", unit="mg"),
        paediatric("t-paed-met-under-10", "ingredient:metformin", "", "10", severity="contraindicated"),
        paediatric("t-paed-ami-2-12", "ingredient:amitriptyline", "2", "12"),
        paediatric("t-paed-ami-any", "ingredient:amitriptyline", severity="moderate"),
        paediatric("t-paed-para-band", "ingredient:paracetamol", "", "", "10", "20", "max_daily", "500", "",
                   "mg"),
        paediatric("t-paed-nap-max", "ingredient:naproxen", "", "", "", "", "max_daily", "500", "", "mg"),
    ])


@pytest.mark.parametrize(("age", "fires"), [(9, True), (10, False), (0, True)])
def test_a_childrens_avoid_row_stops_at_its_below_age(child_kb, age, fires):
    findings = run(child_kb, rx(METFORMIN, 500), age=age)
    assert ids(findings, Kind.PAEDIATRIC) == ({"t-paed-met-under-10"} if fires else set())


@pytest.mark.parametrize(("age", "expected"), [
    (1, {"t-paed-ami-any"}), (2, {"t-paed-ami-2-12", "t-paed-ami-any"}),
    (11, {"t-paed-ami-2-12", "t-paed-ami-any"}), (12, {"t-paed-ami-any"}), (17, {"t-paed-ami-any"}),
    (18, set()), (40, set()),
])
def test_an_age_band_is_from_inclusive_below_exclusive_and_children_are_under_18(child_kb, age, expected):
    findings = run(child_kb, rx(AMITRIPTYLINE, 25), age=age)
    assert ids(findings, Kind.PAEDIATRIC) == expected


def test_a_childrens_avoid_finding_names_the_age_and_no_weight_is_needed(child_kb):
    findings = run(child_kb, rx(METFORMIN, 500), age=7)
    finding = one(findings, "t-paed-met-under-10")
    assert finding.severity == Severity.CONTRAINDICATED
    assert finding.message_en == "Metformin, child aged 7." and "儿童7岁" in finding.message_zh
    assert "paediatric-weight-unknown" not in ids(findings)


@pytest.mark.parametrize(("mg", "fires"), [(1200, False), (1199, False), (1201, True), (1250, True)])
def test_a_per_kg_maximum_is_the_weight_times_the_dose_per_kg(child_kb, mg, fires):
    findings = run(child_kb, daily(mg), age=6, facts=(fact("weight", 20),))
    assert ids(findings, Kind.PAEDIATRIC) == ({"t-paed-amox-kg"} if fires else set())


def test_a_per_kg_finding_says_the_dose_the_maximum_and_the_weight(child_kb):
    finding = one(run(child_kb, daily(1250), age=6, facts=(fact("weight", 20),)), "t-paed-amox-kg")
    assert finding.message_en == "Amoxicillin, child aged 6: 1250 mg a day, above 1200 mg for 20 kg."
    assert "每日1250 mg，超过1200 mg（体重20 kg）" in finding.message_zh
    assert finding.severity == Severity.MAJOR


@pytest.mark.parametrize(("mg", "fires"), [(4000, False), (4001, True), (4500, True)])
def test_a_per_kg_maximum_is_capped_by_the_rows_dose(child_kb, mg, fires):
    # 60 mg/kg × 80 kg = 4800 mg, capped at 4000 mg.
    findings = run(child_kb, daily(mg), age=16, facts=(fact("weight", 80),))
    assert ids(findings, Kind.PAEDIATRIC) == ({"t-paed-amox-kg"} if fires else set())
    if fires:
        assert "above 4000 mg for 80 kg" in one(findings, "t-paed-amox-kg").message_en


def test_a_childs_dose_row_that_applies_replaces_the_adult_maximum(child_kb):
    # The adult maximum is 4000 mg; the child's per-kg maximum (capped) is what counts.
    quiet = run(child_kb, daily(3900), age=16, facts=(fact("weight", 80),))
    assert "max-daily-dose" not in ids(quiet) and ids(quiet, Kind.PAEDIATRIC) == set()
    over = run(child_kb, daily(4500), age=16, facts=(fact("weight", 80),))
    assert ids(over, Kind.PAEDIATRIC) == {"t-paed-amox-kg"}
    assert "max-daily-dose" not in ids(over)


def test_a_childs_per_kg_maximum_above_the_adult_one_is_not_flagged_by_the_adult_maximum(tmp_path):
    kb = build_kb(tmp_path, paediatric=[
        paediatric("t-paed-amox-100", "ingredient:amoxicillin", action="max_daily_per_kg", per_kg="100",
                   unit="mg")])
    findings = run(kb, daily(4500), age=15, facts=(fact("weight", 50),))  # 5000 mg allowed
    assert ids(findings, Kind.PAEDIATRIC) == set()
    assert "max-daily-dose" not in ids(findings)


def test_no_weight_gives_a_weight_unknown_finding_and_the_adult_maximum_still_applies(child_kb):
    findings = run(child_kb, daily(4500), age=6)
    assert {"paediatric-weight-unknown", "max-daily-dose"} <= ids(findings)
    assert "t-paed-amox-kg" not in ids(findings)
    unknown = one(findings, "paediatric-weight-unknown")
    assert unknown.kind == Kind.PAEDIATRIC
    assert "Amoxicillin" in unknown.message_en and "(6 years)" in unknown.message_en
    # Below the adult maximum only the missing weight is said.
    assert ids(run(child_kb, daily(1000), age=6)) == {"paediatric-weight-unknown"}


def test_an_adult_gets_the_adult_maximum_and_no_childrens_rows(child_kb):
    findings = run(child_kb, daily(4500), age=18, facts=(fact("weight", 80),))
    assert "max-daily-dose" in ids(findings)
    assert ids(findings, Kind.PAEDIATRIC) == set()
    assert ids(run(child_kb, daily(4000), age=18, facts=(fact("weight", 80),))) == set()


def test_an_unknown_age_gets_the_adult_maximum_and_no_childrens_rows(child_kb):
    assert ids(run(child_kb, daily(4500), facts=(fact("weight", 20),))) == {"max-daily-dose"}


def test_a_childs_max_daily_row_without_weights_needs_no_weight(child_kb):
    naproxen = drug("NAPROXEN-250MG-TAB", max_daily_dose=Decimal(1500), max_daily_dose_unit="mg")
    assert ids(run(child_kb, rx(naproxen, 250, frequency="BID"), age=10)) == set()
    over = run(child_kb, rx(naproxen, 501), age=10)
    assert ids(over) - {"dose-not-whole-unit"} == {"t-paed-nap-max"}
    # Above the adult maximum too: the child's row replaced it.
    assert ids(run(child_kb, rx(naproxen, 500, frequency="QID"), age=10)) == {"t-paed-nap-max"}


@pytest.mark.parametrize(("kg", "fires"), [("9.99", False), ("10", True), ("19.99", True), ("20", False)])
def test_a_childrens_weight_band_is_from_inclusive_below_exclusive(child_kb, kg, fires):
    paracetamol = drug("PARACETAMOL-500MG-TAB", max_daily_dose=None, max_daily_dose_unit=None)
    findings = run(child_kb, rx(paracetamol, 1000), age=5, facts=(fact("weight", kg),))
    assert ids(findings, Kind.PAEDIATRIC) == ({"t-paed-para-band"} if fires else set())


def test_a_weight_banded_row_without_a_weight_gives_the_weight_unknown_finding(child_kb):
    assert ids(run(child_kb, rx("PARACETAMOL-500MG-TAB", 500), age=5)) == {"paediatric-weight-unknown"}


@pytest.mark.parametrize(("days", "stale"), [(90, False), (91, True)])
def test_a_childs_dose_finding_on_an_old_weight_says_so(child_kb, days, stale):
    finding = one(run(child_kb, daily(1250), age=6, facts=(fact("weight", 20, days),)), "t-paed-amox-kg")
    measured = (TODAY - timedelta(days=days)).isoformat()
    note_en = f" Based on weight 20 kg ({measured}), more than 90 days old: confirm it is still current."
    note_zh = f"（依据体重 20 kg ({measured})，已超过90天，请确认是否仍然准确。）"
    assert finding.message_en.endswith(note_en) is stale
    assert finding.message_zh.endswith(note_zh) is stale


def test_a_weight_banded_row_that_does_not_fit_the_childs_weight_leaves_the_adult_maximum(child_kb):
    paracetamol = drug("PARACETAMOL-500MG-TAB", max_daily_dose=Decimal(2000), max_daily_dose_unit="mg")
    # 30 kg is outside the [10, 20) kg row, so the row does not apply and the adult 2000 mg does.
    findings = run(child_kb, rx(paracetamol, 1000, frequency="TID"), age=9, facts=(fact("weight", 30),))
    assert "max-daily-dose" in ids(findings)


def test_an_avoid_row_with_a_weight_band_needs_the_weight(tmp_path):
    row = paediatric("t-paed-light", "ingredient:amoxicillin", below_age="12", below_weight="10")
    kb = build_kb(tmp_path, paediatric=[row])
    def fired(*facts):
        return ids(run(kb, daily(500), age=5, facts=facts), Kind.PAEDIATRIC)

    assert fired() == {"paediatric-weight-unknown"}
    assert fired(fact("weight", "9.99")) == {"t-paed-light"}
    assert fired(fact("weight", 10)) == set()


def test_a_weight_banded_row_without_a_weight_leaves_the_adult_maximum(child_kb):
    paracetamol = drug("PARACETAMOL-500MG-TAB", max_daily_dose=Decimal(2000), max_daily_dose_unit="mg")
    findings = run(child_kb, rx(paracetamol, 1000, frequency="TID"), age=9)
    assert {"paediatric-weight-unknown", "max-daily-dose"} <= ids(findings)


def test_a_childs_avoid_row_leaves_the_adult_maximum_in_force(tmp_path):
    kb = build_kb(tmp_path, paediatric=[paediatric("t-paed-amox-no", "ingredient:amoxicillin", "", "12")])
    findings = run(kb, daily(4500), age=5, facts=(fact("weight", 20),))
    assert {"t-paed-amox-no", "max-daily-dose"} <= ids(findings)


# ---- pregnancy and breastfeeding --------------------------------------------------------------------

NAPROXEN = "NAPROXEN-250MG-TAB"


@pytest.fixture(scope="module")
def pregnancy_kb(tmp_path_factory):
    return build_kb(tmp_path_factory.mktemp("pregnancy"), pregnancy=[
        pregnancy("t-preg-nsaid-20", "atc:M01AE", "pregnancy", "20", "30", "major"),
        pregnancy("t-preg-nsaid-30", "atc:M01AE", "pregnancy", "30", "", "contraindicated"),
        pregnancy("t-preg-nsaid-first", "atc:M01AE", "pregnancy", "", "12", "moderate"),
        pregnancy("t-bf-nsaid", "atc:M01AE", "breastfeeding", severity="minor"),
    ])


@pytest.mark.parametrize(("weeks", "expected"), [
    (1, {"t-preg-nsaid-first"}), (11, {"t-preg-nsaid-first"}), (12, set()), (19, set()),
    (20, {"t-preg-nsaid-20"}), (29, {"t-preg-nsaid-20"}), (30, {"t-preg-nsaid-30"}),
    (42, {"t-preg-nsaid-30"}),
])
def test_a_pregnancy_row_fires_in_its_weeks(pregnancy_kb, weeks, expected):
    findings = run(pregnancy_kb, rx(NAPROXEN, 250), sex="female", facts=(fact("pregnancy", weeks),))
    assert ids(findings, Kind.PREGNANCY) == expected


def test_weeks_counted_forward_choose_the_band(pregnancy_kb):
    # 19 weeks a week ago is 20 weeks today; six days ago it is still 19.
    findings = run(pregnancy_kb, rx(NAPROXEN, 250), sex="female", facts=(fact("pregnancy", 19, 7),))
    assert ids(findings, Kind.PREGNANCY) == {"t-preg-nsaid-20"}
    finding = one(findings, "t-preg-nsaid-20")
    assert "pregnant, 20 weeks (2026-11-24)" in finding.message_en and "妊娠20周" in finding.message_zh
    findings = run(pregnancy_kb, rx(NAPROXEN, 250), sex="female", facts=(fact("pregnancy", 19, 6),))
    assert ids(findings, Kind.PREGNANCY) == set()


def test_a_pregnancy_with_unknown_weeks_gets_every_pregnancy_row(pregnancy_kb):
    findings = run(pregnancy_kb, rx(NAPROXEN, 250), sex="female", condition_codes=("Z34.00",))
    assert ids(findings, Kind.PREGNANCY) == {"t-preg-nsaid-20", "t-preg-nsaid-30", "t-preg-nsaid-first"}
    assert "pregnant (Z34.00), weeks not recorded" in one(findings, "t-preg-nsaid-30").message_en


def test_a_breastfeeding_row_fires_for_breastfeeding_only(pregnancy_kb):
    findings = run(pregnancy_kb, rx(NAPROXEN, 250), sex="female", facts=(fact("breastfeeding", 1),))
    assert ids(findings, Kind.PREGNANCY) == {"t-bf-nsaid"}
    finding = one(findings, "t-bf-nsaid")
    assert finding.severity == Severity.MINOR and "(breastfeeding)" in finding.message_en
    assert "哺乳期" in finding.message_zh
    coded = run(pregnancy_kb, rx(NAPROXEN, 250), sex="female", condition_codes=("Z39.1",))
    assert ids(coded, Kind.PREGNANCY) == {"t-bf-nsaid"}
    stopped = run(pregnancy_kb, rx(NAPROXEN, 250), sex="female", facts=(fact("breastfeeding", 0),))
    assert ids(stopped, Kind.PREGNANCY) == set()


@pytest.mark.parametrize(("days", "stale"), [(365, False), (366, True)])
def test_a_breastfeeding_finding_on_an_old_record_says_so(pregnancy_kb, days, stale):
    findings = run(pregnancy_kb, rx(NAPROXEN, 250), sex="female", facts=(fact("breastfeeding", 1, days),))
    finding = one(findings, "t-bf-nsaid")
    assert ("more than 365 days old" in finding.message_en) is stale
    assert ("已超过365天" in finding.message_zh) is stale


def test_pregnancy_rows_do_not_fire_for_a_man_or_a_drug_they_do_not_name(pregnancy_kb):
    man = run(pregnancy_kb, rx(NAPROXEN, 250), sex="male", facts=(fact("pregnancy", 24),),
              condition_codes=("Z34.00",))
    assert ids(man) == set()
    other = run(pregnancy_kb, rx("AMLODIPINE-5MG-TAB", 5), sex="female", facts=(fact("pregnancy", 24),))
    assert ids(other, Kind.PREGNANCY) == set()


# ---- drug–disease -----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def disease_kb(tmp_path_factory):
    return build_kb(tmp_path_factory.mktemp("disease"), drug_disease=[
        drug_disease("t-dd-nsaid-hf", "atc:M01AE", "I50"),
        drug_disease("t-dd-nsaid-gi", "atc:M01AE", "K25 K92.2", "contraindicated"),
    ])


@pytest.mark.parametrize(("conditions", "expected"), [
    (("I50.9",), {"t-dd-nsaid-hf"}),
    (("I50",), {"t-dd-nsaid-hf"}),
    (("i50.22",), {"t-dd-nsaid-hf"}),
    (("I51.9",), set()),
    (("K92.2",), {"t-dd-nsaid-gi"}),
    (("K92.1",), set()),  # melaena is not K92.2
    (("K25.4", "I10"), {"t-dd-nsaid-gi"}),
    (("I50.9", "K92.2"), {"t-dd-nsaid-hf", "t-dd-nsaid-gi"}),
    ((), set()),
])
def test_a_drug_disease_row_matches_by_icd10_prefix(disease_kb, conditions, expected):
    findings = run(disease_kb, rx(NAPROXEN, 250), condition_codes=conditions)
    assert ids(findings, Kind.DRUG_DISEASE) == expected


def test_a_drug_disease_finding_names_the_patients_code(disease_kb):
    finding = one(run(disease_kb, rx(NAPROXEN, 250), condition_codes=("I10", "I50.9")), "t-dd-nsaid-hf")
    assert finding.message_en == "Naproxen with I50.9." and "I50.9" in finding.message_zh
    assert finding.kind == Kind.DRUG_DISEASE and finding.severity == Severity.MAJOR


# ---- indications ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def indication_kb(tmp_path_factory):
    return build_kb(tmp_path_factory.mktemp("indications"), indications=[
        indication("ingredient:metformin", "E11 E13"),
        indication("atc:A10BA", "R73.0"),
    ])


@pytest.mark.parametrize(("diagnoses", "conditions", "fires"), [
    ((), (), False),  # nothing to compare
    (("E11.9",), (), False),
    (("e11.9",), (), False),
    (("R73.03",), (), False),  # from the other row: the union counts
    (("I10", "E13.9"), (), False),
    (("I10",), ("E11.9",), False),  # the patient's conditions count too
    (("I10",), (), True),
    ((), ("I10",), True),
    (("E10.9",), (), True),
    (("R73.1",), (), True),
])
def test_a_drug_with_indications_needs_a_diagnosis_it_fits(indication_kb, diagnoses, conditions, fires):
    findings = run(indication_kb, rx(METFORMIN, 500), diagnosis_codes=diagnoses, condition_codes=conditions)
    assert ids(findings, Kind.INDICATION) == ({"no-matching-diagnosis"} if fires else set())


def test_a_no_matching_diagnosis_finding_is_moderate_and_names_the_diagnoses(indication_kb):
    findings = run(indication_kb, rx(METFORMIN, 500), diagnosis_codes=("I10", "J45.909"),
                   condition_codes=("I10", "N40.0"))
    finding = one(findings, "no-matching-diagnosis")
    assert finding.severity == Severity.MODERATE and finding.kind == Kind.INDICATION
    assert "I10, J45.909, N40.0" in finding.message_en and "I10, J45.909, N40.0" in finding.message_zh


def test_a_drug_without_indications_is_not_checked(indication_kb):
    assert ids(run(indication_kb, rx("AMLODIPINE-5MG-TAB", 5), diagnosis_codes=("J45.909",))) == set()


# ---- interactions that hold only at some daily doses --------------------------------------------------

SIMVASTATIN, AMIODARONE, WARFARIN = "SIMVASTATIN-20MG-TAB", "AMIODARONE-200MG-TAB", "WARFARIN-2.5MG-TAB"


@pytest.fixture(scope="module")
def dose_kb(tmp_path_factory):
    return build_kb(tmp_path_factory.mktemp("doses"), interactions=[
        interaction("t-simva-amio-high", "ingredient:simvastatin", "ingredient:amiodarone", "major",
                    a_dose=">20 mg"),
        interaction("t-simva-amio-low", "ingredient:simvastatin", "ingredient:amiodarone", "moderate",
                    a_dose="<=20 mg"),
        interaction("t-warf-amio-b", "ingredient:warfarin", "ingredient:amiodarone", "major",
                    b_dose=">=200 mg"),
    ])


def pair(first: Line, second: Line) -> list[Line]:
    return [first, replace(second, position=2)]


def interactions(kb, lines, **context) -> list:
    return [f for f in run(kb, lines, **context) if f.kind == Kind.INTERACTION]


@pytest.mark.parametrize(("mg", "expected"), [
    (20, "t-simva-amio-low"), (10, "t-simva-amio-low"), ("20.5", "t-simva-amio-high"),
    (40, "t-simva-amio-high"),
])
@pytest.mark.parametrize("simvastatin_first", [True, False])
def test_a_dose_condition_chooses_the_row(dose_kb, mg, expected, simvastatin_first):
    simvastatin, amiodarone = rx(SIMVASTATIN, mg), rx(AMIODARONE, 200)
    lines = pair(simvastatin, amiodarone) if simvastatin_first else pair(amiodarone, simvastatin)
    findings = interactions(dose_kb, lines)
    assert [f.rule_id for f in findings] == [expected]
    assert set(findings[0].drug_codes) == {SIMVASTATIN, AMIODARONE}


def test_a_dose_condition_is_on_the_daily_dose(dose_kb):
    # 10 mg twice daily is 20 mg a day; 15 mg twice daily is 30.
    low = interactions(dose_kb, pair(rx(SIMVASTATIN, 10, frequency="BID"), rx(AMIODARONE, 200)))
    assert ids(low) == {"t-simva-amio-low"}
    high = interactions(dose_kb, pair(rx(SIMVASTATIN, 15, frequency="BID"), rx(AMIODARONE, 200)))
    assert ids(high) == {"t-simva-amio-high"}


@pytest.mark.parametrize(("mg", "fires"), [(200, True), (400, True), (199, False), (100, False)])
@pytest.mark.parametrize("warfarin_first", [True, False])
def test_a_dose_condition_on_side_b(dose_kb, mg, fires, warfarin_first):
    warfarin, amiodarone = rx(WARFARIN, "2.5"), rx(AMIODARONE, mg)
    lines = pair(warfarin, amiodarone) if warfarin_first else pair(amiodarone, warfarin)
    assert ids(interactions(dose_kb, lines)) == ({"t-warf-amio-b"} if fires else set())


def test_an_active_medication_of_unknown_dose_meets_high_dose_conditions_only(dose_kb):
    # Simvastatin still being taken, dose unknown: the >20 mg row, not the <=20 mg one.
    findings = interactions(dose_kb, rx(AMIODARONE, 200), active_medications=(taking(SIMVASTATIN),))
    assert ids(findings) == {"t-simva-amio-high"}
    # Amiodarone still being taken meets >=200 mg on side b.
    findings = interactions(dose_kb, rx(WARFARIN, "2.5"), active_medications=(taking(AMIODARONE),))
    assert ids(findings) == {"t-warf-amio-b"}


def test_the_prescribed_side_still_needs_its_condition_with_an_active_medication(dose_kb):
    low = interactions(dose_kb, rx(SIMVASTATIN, 20), active_medications=(taking(AMIODARONE),))
    assert ids(low) == {"t-simva-amio-low"}
    high = interactions(dose_kb, rx(SIMVASTATIN, 40), active_medications=(taking(AMIODARONE),))
    assert ids(high) == {"t-simva-amio-high"}


def test_a_dose_condition_in_grams_or_micrograms_is_converted(tmp_path):
    kb = build_kb(tmp_path, interactions=[
        interaction("t-g", "ingredient:simvastatin", "ingredient:amiodarone", a_dose=">0.02 g"),
        interaction("t-ug", "ingredient:simvastatin", "ingredient:amiodarone", "moderate",
                    a_dose="<=20000 ug")])
    assert ids(interactions(kb, pair(rx(SIMVASTATIN, 20), rx(AMIODARONE, 200)))) == {"t-ug"}
    assert ids(interactions(kb, pair(rx(SIMVASTATIN, 21), rx(AMIODARONE, 200)))) == {"t-g"}


# ---- doses that cannot be measured out ----------------------------------------------------------------

COMBINATION = "AMOXICILLIN-CLAVULANATE-500-125MG-TAB"


@pytest.fixture(scope="module")
def plain_kb(tmp_path_factory):
    return build_kb(tmp_path_factory.mktemp("plain"))


def form_findings(kb, line: Line):
    return [f for f in run(kb, line) if f.kind == Kind.DOSE_FORM]


@pytest.mark.parametrize(("code", "dose", "unit", "expected"), [
    ("PARACETAMOL-500MG-TAB", 500, "mg", None),
    ("PARACETAMOL-500MG-TAB", 250, "mg", None),  # half a plain tablet
    ("PARACETAMOL-500MG-TAB", 750, "mg", None),
    ("PARACETAMOL-500MG-TAB", "0.5", "tablet", None),
    ("PARACETAMOL-500MG-TAB", 125, "mg", "dose-not-whole-unit"),  # a quarter
    ("PARACETAMOL-500MG-TAB", "0.25", "tablet", "dose-not-whole-unit"),
    ("PARACETAMOL-500MG-TAB", 300, "mg", "dose-not-whole-unit"),
    ("AMOXICILLIN-250MG-CAP", 500, "mg", None),
    ("AMOXICILLIN-250MG-CAP", 375, "mg", "dose-not-whole-unit"),  # 1.5 capsules
    ("AMOXICILLIN-250MG-CAP", "1.5", "capsule", "dose-not-whole-unit"),
    ("ASPIRIN-100MG-ECTAB", 100, "mg", None),
    ("ASPIRIN-100MG-ECTAB", 50, "mg", "dose-not-whole-unit"),  # half an enteric-coated tablet
    ("METFORMIN-500MG-SRTAB", 1000, "mg", None),
    ("METFORMIN-500MG-SRTAB", 250, "mg", "dose-not-whole-unit"),  # half a sustained-release tablet
    ("METFORMIN-500MG-SRTAB", 750, "mg", "dose-not-whole-unit"),
    (COMBINATION, 500, "mg", None),
    (COMBINATION, 750, "mg", None),  # 1½ tablets
    (COMBINATION, 1, "tablet", None),
    (COMBINATION, 2, "tablet", None),
    (COMBINATION, 875, "mg", "combination-dose-in-mass"),
    (COMBINATION, 125, "mg", "combination-dose-in-mass"),  # the clavulanate part
    (COMBINATION, "1.75", "tablet", "dose-not-whole-unit"),
    ("SMZ-TMP-400-80MG-TAB", 800, "mg", None),
    ("SMZ-TMP-400-80MG-TAB", 160, "mg", "combination-dose-in-mass"),  # trimethoprim mg
    ("INSULIN-GLARGINE-300IU-PEN", 7, "IU", None),
    ("LIRAGLUTIDE-18MG-PEN", "1.2", "mg", None),
    ("METHADONE-1MGML-ORALSOL", "2.5", "mg", None),
    ("METHADONE-1MGML-ORALSOL", "0.3", "mL", None),
])
def test_a_dose_must_be_whole_units_or_half_a_plain_tablet(plain_kb, code, dose, unit, expected):
    findings = form_findings(plain_kb, rx(code, dose, unit))
    assert [f.rule_id for f in findings] == ([expected] if expected else [])


def test_a_dose_not_whole_unit_finding_says_the_units_and_the_form(plain_kb):
    (quarter,) = form_findings(plain_kb, rx("PARACETAMOL-500MG-TAB", 125))
    assert quarter.severity == Severity.MODERATE
    assert "125 mg" in quarter.message_en and "0.25 tablet" in quarter.message_en
    assert "scored plain tablet" in quarter.message_en and "普通片" in quarter.message_zh
    (capsule,) = form_findings(plain_kb, rx("AMOXICILLIN-250MG-CAP", 375))
    assert "1.5 capsule" in capsule.message_en and "1.5粒" in capsule.message_zh


def test_a_combination_dosed_in_mass_is_major_and_says_the_strength(plain_kb):
    (finding,) = form_findings(plain_kb, rx(COMBINATION, 875))
    assert finding.severity == Severity.MAJOR and finding.kind == Kind.DOSE_FORM
    assert "500 mg" in finding.message_en and "875 mg" in finding.message_en and "1.75" in finding.message_en


# ---- products never delivered -------------------------------------------------------------------------

@pytest.mark.parametrize("deliverable", [True, False])
def test_a_product_never_delivered_gets_a_minor_finding(plain_kb, deliverable):
    findings = run(plain_kb, rx(drug("AMLODIPINE-5MG-TAB", is_deliverable=deliverable), 5))
    if deliverable:
        assert findings == []
        return
    (finding,) = findings
    assert (finding.rule_id, finding.kind, finding.severity) == (
        "not-deliverable", Kind.NOT_DELIVERABLE, Severity.MINOR)
    assert finding.message_en.startswith("Amlodipine ") and "氨氯地平" in finding.message_zh


# ---- messages that name what a row's action never fills ------------------------------------------------

@pytest.mark.parametrize(("family", "row", "placeholder"), [
    ("renal", csv_row("t-renal-avoid-daily", "ingredient:metformin", "egfr", "", "30", "avoid", "", "",
                      "major", "{drug} at {value}: {daily} a day.", "{drug}（{value}）：每日{daily}。",
                      SOURCE), "daily"),
    ("older_adults", csv_row("t-old-no-condition", "ingredient:metformin", "65", "", "", "", "moderate",
                             "{drug} with {condition}.", "{drug}，{condition}。", SOURCE), "condition"),
    ("paediatric", csv_row("t-child-avoid-max", "ingredient:metformin", "", "10", "", "", "avoid", "", "", "",
                           "major", "{drug}: above {max}.", "{drug}：超过{max}。", SOURCE), "max"),
])
def test_a_message_naming_what_its_row_never_fills_is_refused(tmp_path, family, row, placeholder):
    # Such a row would load and then break every check of the drug (format_map); it is refused instead.
    with pytest.raises(KnowledgeBaseError) as refused:
        build_kb(tmp_path, **{family: [row]})
    assert any(problem.column == "message_en" and repr(placeholder) in problem.message
               for problem in refused.value.problems), refused.value.problems


def test_the_form_named_is_a_scored_plain_tablet_only_for_a_plain_tablet(plain_kb):
    (quarter,) = form_findings(plain_kb, rx("PARACETAMOL-500MG-TAB", 125))
    assert quarter.message_en == (
        "Paracetamol: a dose of 125 mg is 0.25 tablet of a scored plain tablet, which cannot be measured "
        "out; write a dose of whole units (or half tablets of a scored plain tablet).")
    assert quarter.message_zh.endswith(
        "：每次125 mg相当于0.25片（普通片），无法准确分取；请按整片（普通片可半片）开具剂量。")
    (half,) = form_findings(plain_kb, rx("ASPIRIN-100MG-ECTAB", 50))
    assert "is 0.5 tablet of a tablet, which" in half.message_en
    assert "相当于0.5片（片），无法准确分取" in half.message_zh
