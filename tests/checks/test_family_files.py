"""The patient-aware rule files (renal … indications) and the dose columns of interactions: what a row
means once read, and every bad row reported by file, line and column.

The helpers here build a small knowledge base of their own (a copy of the shipped one whose rule files
hold only the rows a test writes), so the tests never depend on the rows that ship."""

import csv
import io
import shutil
from fractions import Fraction
from pathlib import Path

import pytest

from app.checks import loader
from app.checks.family_files import FAMILY_COLUMNS, dose_limit
from app.checks.knowledge import DATA_DIR, DoseLimit, Kind, KnowledgeBaseError, Problem, Severity
from app.checks.validation import COLUMNS

SOURCE = "Test source: product label 4.3"

# The files a test knowledge base replaces: each family file, and the drug–drug rule files (emptied
# unless a test writes rows, so no shipped rule fires and no shipped rule id collides with a test's).
REPLACED = (*FAMILY_COLUMNS, "interactions.csv", "duplicate_classes.csv", "cross_reactivity.csv")


def csv_row(*values) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(values)
    return out.getvalue()


def write_kb(tmp_path, **rows) -> Path:
    """A copy of the shipped knowledge base whose rule files hold only `rows` (renal=[…], …)."""
    target = tmp_path / "kb"
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(DATA_DIR, target)
    unknown = {f"{name}.csv" for name in rows} - set(REPLACED)
    assert not unknown, unknown
    for file in REPLACED:
        lines = [",".join(COLUMNS[file]), *rows.get(file.removesuffix(".csv"), ())]
        (target / file).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return target


def build_kb(tmp_path, **rows):
    return loader.load(write_kb(tmp_path, **rows))


def problems_of(directory) -> list[Problem]:
    with pytest.raises(KnowledgeBaseError) as error:
        loader.load(directory)
    return error.value.problems


# ---- rows, with messages that name only what each row's action fills ----------------------------------

DOSE_EN = "{drug} at {value}: {daily} {unit} a day is above {dose} {unit}."
DOSE_ZH = "{drug}（{value}）：每日{daily} {unit}，超过{dose} {unit}。"


def renal(rule_id, selector, low="", below="", action="avoid", dose="", unit="", severity="major",
          measure="egfr", source=SOURCE):
    en, zh = ((DOSE_EN, DOSE_ZH) if action == "max_daily"
              else ("{drug} at {value}: renal test row.", "{drug}（{value}）：肾功能测试规则。"))
    return csv_row(rule_id, selector, measure, low, below, action, dose, unit, severity, en, zh, source)


def hepatic(rule_id, selector, classes, action="avoid", dose="", unit="", severity="major"):
    en, zh = ((DOSE_EN, DOSE_ZH) if action == "max_daily"
              else ("{drug} at {value}: hepatic test row.", "{drug}（{value}）：肝功能测试规则。"))
    return csv_row(rule_id, selector, classes, action, dose, unit, severity, en, zh, SOURCE)


def pregnancy(rule_id, selector, state="pregnancy", from_week="", before_week="", severity="major"):
    return csv_row(rule_id, selector, state, from_week, before_week, severity,
                   "{drug} ({value}): pregnancy test row.", "{drug}（{value}）：妊娠哺乳测试规则。", SOURCE)


def older(rule_id, selector, min_age="65", conditions="", dose_above="", unit="", severity="moderate"):
    en, zh = "{drug}, aged {age}", "{drug}，{age}岁"
    if conditions:
        en, zh = en + " with {condition}", zh + "，{condition}"
    if dose_above:
        en += ": {daily} {unit} a day, above {dose} {unit}"
        zh += "：每日{daily} {unit}，超过{dose} {unit}"
    return csv_row(rule_id, selector, min_age, conditions, dose_above, unit, severity, en + ".", zh + "。",
                   SOURCE)


def paediatric(rule_id, selector, from_age="", below_age="", from_weight="", below_weight="", action="avoid",
               dose="", per_kg="", unit="", severity="major"):
    en, zh = "{drug}, child aged {age}", "{drug}，儿童{age}岁"
    if action != "avoid":
        en += ": {daily} {unit} a day, above {max} {unit}"
        zh += "：每日{daily} {unit}，超过{max} {unit}"
    if action == "max_daily_per_kg":
        en, zh = en + " for {weight} kg", zh + "（体重{weight} kg）"
    return csv_row(rule_id, selector, from_age, below_age, from_weight, below_weight, action, dose, per_kg,
                   unit, severity, en + ".", zh + "。", SOURCE)


def drug_disease(rule_id, selector, conditions, severity="major"):
    return csv_row(rule_id, selector, conditions, severity, "{drug} with {condition}.",
                   "{drug}与{condition}：药物疾病测试规则。", SOURCE)


def indication(selector, conditions, source=SOURCE):
    return csv_row(selector, conditions, source)


def interaction(rule_id, a, b, severity="major", a_dose="", b_dose=""):
    return csv_row(rule_id, a, b, severity, "{a} with {b}.", "{a}与{b}：相互作用测试规则。", SOURCE, a_dose,
                   b_dose)


# ---- what a row means once read ----------------------------------------------------------------------

def test_each_family_row_is_read_into_its_fields(tmp_path):
    kb = build_kb(
        tmp_path,
        renal=[renal("t-renal", "ingredient:metformin", "30", "45", "max_daily", "1000", "mg"),
               renal("t-renal-open", "atc:A10BA", "", "", "adjust", measure="crcl", severity="moderate")],
        hepatic=[hepatic("t-hep", "ingredient:metformin", "B C")],
        pregnancy=[pregnancy("t-preg", "ingredient:ibuprofen", "pregnancy", "20", "30"),
                   pregnancy("t-bf", "ingredient:ibuprofen", "breastfeeding")],
        older_adults=[older("t-old", "ingredient:digoxin", "65", "I50 N18.4", "0.125", "mg")],
        paediatric=[paediatric("t-paed", "ingredient:amoxicillin", "1", "12", "10", "40", "max_daily_per_kg",
                               "4000", "60", "mg")],
        drug_disease=[drug_disease("t-dd", "atc:M01AE", "I50 K92.2")],
        indications=[indication("ingredient:metformin", "E11 E13"), indication("atc:A10", "E10")],
        interactions=[interaction("t-ia", "ingredient:simvastatin", "ingredient:amiodarone", a_dose=">20 mg",
                                  b_dose="<=0.2 g")],
    )
    band, open_band = kb.patient_rules["renal"]
    assert (band.kind, band.low, band.high, band.action, band.dose, band.unit) == (
        Kind.RENAL, 30, 45, "max_daily", Fraction(1000), "mg")
    assert (open_band.low, open_band.high, open_band.severity) == (None, None, Severity.MODERATE)
    # What a finding shows and where validate and the case suite point: the row's file, line, words, source.
    assert (band.file, band.line, band.rule_id, band.selector, band.source) == (
        "renal.csv", 2, "t-renal", "ingredient:metformin", SOURCE)
    assert (open_band.line, open_band.message_en, open_band.message_zh) == (
        3, "{drug} at {value}: renal test row.", "{drug}（{value}）：肾功能测试规则。")
    (hep,) = kb.patient_rules["hepatic"]
    assert hep.kind == Kind.HEPATIC and hep.classes == frozenset({"B", "C"})
    preg, bf = kb.patient_rules["pregnancy"]
    assert (preg.kind, preg.state, preg.low, preg.high) == (Kind.PREGNANCY, "pregnancy", 20, 30)
    assert (bf.state, bf.low, bf.high) == ("breastfeeding", None, None)
    (old,) = kb.patient_rules["older_adults"]
    assert (old.kind, old.low, old.conditions, old.dose, old.unit) == (
        Kind.OLDER_ADULT, 65, ("I50", "N18.4"), Fraction(1, 8), "mg")
    (paed,) = kb.patient_rules["paediatric"]
    assert (paed.kind, paed.low, paed.high, paed.weight_low, paed.weight_high, paed.per_kg, paed.dose) == (
        Kind.PAEDIATRIC, 1, 12, 10, 40, Fraction(60), Fraction(4000))
    (dd,) = kb.patient_rules["drug_disease"]
    assert (dd.kind, dd.conditions) == (Kind.DRUG_DISEASE, ("I50", "K92.2"))
    assert kb.indications == (("ingredient:metformin", ("E11", "E13")), ("atc:A10", ("E10",)))
    # A drug's indications are the union of every row it matches.
    assert kb.profile("A10BA02", ("metformin",)).indications == frozenset({"E10", "E11", "E13"})
    assert kb.profile("C08CA01", ("amlodipine",)).indications == frozenset()
    (ia,) = kb.interactions
    assert ia.a_dose == DoseLimit(">", Fraction(20), "mg")
    assert ia.b_dose == DoseLimit("<=", Fraction(1, 5), "g")
    stats = kb.stats()
    assert [stats[name] for name in ("renal", "hepatic", "pregnancy", "older_adults", "paediatric",
                                     "drug_disease", "indications")] == [2, 1, 2, 1, 1, 1, 2]


def test_interactions_without_the_dose_columns_are_still_read(tmp_path):
    directory = write_kb(tmp_path)
    row = csv_row("t-old-format", "ingredient:warfarin", "ingredient:aspirin", "major", "{a} with {b}.",
                  "{a}与{b}：测试。", SOURCE)
    (directory / "interactions.csv").write_text(f"rule_id,a,b,severity,message_en,message_zh,source\n{row}\n",
                                                encoding="utf-8")
    (rule,) = loader.load(directory).interactions
    assert rule.a_dose is None and rule.b_dose is None


class Reader:
    """Collects what dose_limit() reports."""

    def __init__(self):
        self.problems = []

    def problem(self, *args):
        self.problems.append(args)


@pytest.mark.parametrize(("text", "expected"), [
    (">20 mg", DoseLimit(">", Fraction(20), "mg")),
    ("<=20 mg", DoseLimit("<=", Fraction(20), "mg")),
    (">=40 mg", DoseLimit(">=", Fraction(40), "mg")),
    ("<10 mg", DoseLimit("<", Fraction(10), "mg")),
    ("> 0.125 mg", DoseLimit(">", Fraction(1, 8), "mg")),
    (">500 ug", DoseLimit(">", Fraction(500), "µg")),
    (">500 µg", DoseLimit(">", Fraction(500), "µg")),
    ("<=1 g", DoseLimit("<=", Fraction(1), "g")),
    (">=100 IU", DoseLimit(">=", Fraction(100), "IU")),
    ("", None),
])
def test_a_dose_condition_is_read(text, expected):
    reader = Reader()
    assert dose_limit(reader, "interactions.csv", 2, "a_dose", text) == expected
    assert reader.problems == []


@pytest.mark.parametrize("text", ["20mg", "20 mg", "=20 mg", ">20", ">20 mmol", ">>20 mg", "<=twenty mg",
                                  ">-5 mg"])
def test_a_dose_condition_without_an_operator_a_number_or_a_unit_is_refused(text):
    reader = Reader()
    assert dose_limit(reader, "interactions.csv", 7, "b_dose", text) is None
    assert reader.problems == [
        ("interactions.csv", 7, "b_dose", "Write a daily-dose condition such as >20 mg or <=20 mg.")]


@pytest.mark.parametrize(("operator", "below", "at", "above"), [
    (">", False, False, True), (">=", False, True, True),
    ("<", True, False, False), ("<=", True, True, False),
])
def test_a_dose_condition_holds_either_side_of_its_amount(operator, below, at, above):
    limit = DoseLimit(operator, Fraction(20), "mg")
    assert limit.holds(Fraction(39, 2)) is below  # 19.5
    assert limit.holds(Fraction(20)) is at
    assert limit.holds(Fraction(41, 2)) is above  # 20.5
    # An unknown dose (an active medication) is the worst case: high-dose rules apply, low-dose ones not.
    assert limit.holds(None) is (operator in (">", ">="))
    assert str(limit) == f"{operator}20 mg"


# ---- bad rows: reported by file, line and column ---------------------------------------------------------

NUMBER = "Write a plain number such as 30 or 0.125."
RENAL_ACTIONS = "Write one of: avoid, adjust, max_daily."
UNITS = "Write one of: mg, µg, g, IU."
CONDITION = "Write a daily-dose condition such as >20 mg or <=20 mg."

BAD_ROWS = [
    ("renal", renal("t-bad-action", "ingredient:metformin", "0", "30", "stop"), "action", RENAL_ACTIONS),
    ("renal", renal("t-bad-band", "ingredient:metformin", "30", "30"), "below", "below must be above from."),
    ("renal", renal("t-band-down", "ingredient:metformin", "45", "30"), "below", "below must be above from."),
    ("renal", renal("t-bad-measure", "ingredient:metformin", "0", "30", measure="gfr"), "measure",
     "Write egfr or crcl: what the source gives the cut-off in."),
    ("renal", renal("t-no-dose", "ingredient:metformin", "30", "45", "max_daily", "", "mg"), "dose",
     "A max_daily row needs the maximum daily dose."),
    ("renal", renal("t-bad-unit", "ingredient:metformin", "30", "45", "max_daily", "1000", "mmol"), "unit",
     UNITS),
    ("renal", renal("t-bad-number", "ingredient:metformin", "thirty", "45"), "from", NUMBER),
    ("renal", renal("t-negative", "ingredient:metformin", "-1", "45"), "from",
     "Write a number from 0 to 100000."),
    ("renal", renal("t-bad-severity", "ingredient:metformin", "0", "30", severity="high"), "severity",
     "Not one of: contraindicated, major, moderate, minor."),
    ("renal", renal("t-bad-source", "ingredient:metformin", "0", "30", source="label"), "source",
     "Say where the rule comes from (label, guideline, list)."),
    ("renal", renal("t-bad-selector", "drug:metformin", "0", "30"), "selector",
     "Write a selector: ingredient:… / atc:… / group:…."),
    ("renal", renal("T_Bad_Id", "ingredient:metformin", "0", "30"), "rule_id",
     "Use lower-case letters, digits, dots and hyphens."),
    ("hepatic", hepatic("t-bad-class", "ingredient:metformin", "D"), "child_pugh",
     "Write one or more of A B C, separated by spaces."),
    ("hepatic", hepatic("t-no-class", "ingredient:metformin", ""), "child_pugh",
     "Write one or more of A B C, separated by spaces."),
    ("hepatic", hepatic("t-bad-hep-action", "ingredient:metformin", "C", "max_daily_per_kg"), "action",
     RENAL_ACTIONS),
    ("pregnancy", pregnancy("t-bad-state", "ingredient:ibuprofen", "lactation"), "state",
     "Write pregnancy or breastfeeding."),
    ("pregnancy", pregnancy("t-bf-weeks", "ingredient:ibuprofen", "breastfeeding", "20"), "from_week",
     "Weeks apply to pregnancy only."),
    ("pregnancy", pregnancy("t-bad-weeks", "ingredient:ibuprofen", "pregnancy", "30", "20"), "before_week",
     "before_week must be above from_week."),
    ("older_adults", older("t-bad-age", "ingredient:digoxin", "60"), "min_age",
     "The Beers Criteria start at 65."),
    ("older_adults", older("t-no-age", "ingredient:digoxin", ""), "min_age", "This field is required."),
    ("older_adults", older("t-bad-code", "ingredient:digoxin", "65", "I5"), "conditions",
     "Not an ICD-10 code or prefix: 'I5' (e.g. I50, K92.2)."),
    ("older_adults", older("t-bad-above-unit", "ingredient:digoxin", "65", "", "0.125", "mcg"), "unit",
     UNITS),
    ("paediatric", paediatric("t-bad-below-age", "ingredient:codeine", "", "19"), "below_age",
     "Children are under 18."),
    ("paediatric", paediatric("t-bad-paed-action", "ingredient:codeine", "", "12", action="forbid"), "action",
     "Write one of: avoid, max_daily, max_daily_per_kg."),
    ("paediatric", paediatric("t-no-per-kg", "ingredient:amoxicillin", "", "12", action="max_daily_per_kg",
                              unit="mg"), "per_kg", "A max_daily_per_kg row needs the dose per kg a day."),
    ("paediatric", paediatric("t-bad-weights", "ingredient:amoxicillin", "", "12", "20", "10"),
     "below_weight", "below_weight must be above from_weight."),
    ("drug_disease", drug_disease("t-bad-icd", "atc:M01AE", "I50 heart"), "conditions",
     "Not an ICD-10 code or prefix: 'heart' (e.g. I50, K92.2)."),
    ("drug_disease", drug_disease("t-lower-icd", "atc:M01AE", "i50"), "conditions",
     "Not an ICD-10 code or prefix: 'i50' (e.g. I50, K92.2)."),
    ("drug_disease", drug_disease("t-no-icd", "atc:M01AE", ""), "conditions",
     "List ICD-10 codes or prefixes, e.g. I50 or J45 J46."),
    ("indications", indication("ingredient:metformin", "E11 diabetes"), "conditions",
     "Not an ICD-10 code or prefix: 'diabetes' (e.g. I50, K92.2)."),
    ("indications", indication("ingredient:metformin", "E11", source="label"), "source",
     "Say where the indications come from (label, 说明书)."),
    ("interactions", interaction("t-bad-a-dose", "ingredient:simvastatin", "ingredient:amiodarone",
                                 a_dose="20mg"), "a_dose", CONDITION),
    ("interactions", interaction("t-bad-b-dose", "ingredient:simvastatin", "ingredient:amiodarone",
                                 b_dose="<=20 tablets"), "b_dose", CONDITION),
]
GOOD_ROWS = {
    "renal": renal("t-good", "ingredient:metformin", "0", "30"),
    "hepatic": hepatic("t-good", "ingredient:metformin", "C"),
    "pregnancy": pregnancy("t-good", "ingredient:ibuprofen"),
    "older_adults": older("t-good", "ingredient:digoxin"),
    "paediatric": paediatric("t-good", "ingredient:codeine", "", "12"),
    "drug_disease": drug_disease("t-good", "atc:M01AE", "I50"),
    "indications": indication("ingredient:amlodipine", "I10"),
    "interactions": interaction("t-good", "ingredient:warfarin", "ingredient:aspirin"),
}


@pytest.mark.parametrize(("family", "row", "column", "message"), BAD_ROWS,
                         ids=[f"{row[0]}-{row[2]}-{n}" for n, row in enumerate(BAD_ROWS)])
def test_a_bad_row_is_reported_by_file_line_and_column(tmp_path, family, row, column, message):
    # A good row first, so the bad one is on line 3 (line 1 is the header).
    problems = problems_of(write_kb(tmp_path, **{family: [GOOD_ROWS[family], row]}))
    assert Problem(f"{family}.csv", 3, column, message) in problems
    # Only the bad row is reported.
    assert {p.line for p in problems if p.file == f"{family}.csv"} == {3}, problems


def test_a_duplicate_indications_selector_points_at_the_first_line(tmp_path):
    problems = problems_of(write_kb(tmp_path, indications=[
        indication("ingredient:metformin", "E11"), indication("ingredient:amlodipine", "I10"),
        indication("ingredient:metformin", "E13")]))
    assert problems == [Problem("indications.csv", 4, "selector",
                                "Already listed on line 2; put all its codes on one row.")]


def test_a_rule_id_is_unique_across_the_family_files_and_interactions(tmp_path):
    problems = problems_of(write_kb(
        tmp_path,
        renal=[renal("t-shared", "ingredient:metformin", "0", "30")],
        paediatric=[paediatric("t-shared", "ingredient:codeine", "", "12")],
        interactions=[interaction("t-shared", "ingredient:warfarin", "ingredient:aspirin")]))
    # interactions.csv is read first; each later use is refused where it stands.
    used = "Already used in interactions.csv line 2."
    assert Problem("renal.csv", 2, "rule_id", used) in problems
    assert Problem("paediatric.csv", 2, "rule_id", used) in problems


def test_a_family_rule_id_may_not_reuse_a_fixed_check_rule_id(tmp_path):
    row = drug_disease("not-deliverable", "atc:M01AE", "I50")
    problems = problems_of(write_kb(tmp_path, drug_disease=[row]))
    (problem,) = [p for p in problems if p.file == "drug_disease.csv"]
    assert (problem.line, problem.column) == (2, "rule_id")
    assert problem.message.startswith("Already used in rules.csv line ")


def test_two_interaction_rows_of_one_pair_are_allowed_only_when_a_dose_condition_tells_them_apart(tmp_path):
    kb = build_kb(tmp_path, interactions=[
        interaction("t-high", "ingredient:simvastatin", "ingredient:amiodarone", "major", a_dose=">20 mg"),
        interaction("t-low", "ingredient:simvastatin", "ingredient:amiodarone", "moderate",
                    a_dose="<=20 mg")])
    assert [rule.rule_id for rule in kb.interactions] == ["t-high", "t-low"]
    problems = problems_of(write_kb(tmp_path, interactions=[
        interaction("t-high", "ingredient:simvastatin", "ingredient:amiodarone", "major", a_dose=">20 mg"),
        interaction("t-again", "ingredient:amiodarone", "ingredient:simvastatin", "major", b_dose=">20 mg")]))
    assert Problem("interactions.csv", 3, "b", "The same pair is already on line 2.") in problems


@pytest.mark.parametrize(("family", "row", "placeholder"), [
    ("renal", csv_row("t-ph", "ingredient:metformin", "egfr", "0", "30", "avoid", "", "", "major",
                      "{drug} {age}", "{drug}{age}肾", SOURCE), "age"),
    ("pregnancy", csv_row("t-ph", "ingredient:ibuprofen", "pregnancy", "", "", "major", "{drug} {daily}",
                          "{drug}{daily}妊娠", SOURCE), "daily"),
    ("drug_disease", csv_row("t-ph", "atc:M01AE", "I50", "major", "{drug} {value}", "{drug}{value}疾病",
                             SOURCE), "value"),
    # A maximum by age alone also fires for a child whose weight is not recorded.
    ("paediatric", csv_row("t-ph", "ingredient:metformin", "6", "18", "", "", "max_daily", "1000", "", "mg",
                           "major", "{drug} {daily} {max} {unit} {weight}",
                           "{drug}{daily}{max}{unit}{weight}儿童", SOURCE), "weight"),
])
def test_a_placeholder_the_file_does_not_fill_is_refused(tmp_path, family, row, placeholder):
    problems = problems_of(write_kb(tmp_path, **{family: [row]}))
    assert any((p.file, p.line, p.column) == (f"{family}.csv", 2, "message_en")
               and f"Unknown placeholder {placeholder!r}" in p.message for p in problems), problems


def test_a_weighed_childrens_maximum_may_quote_the_weight(tmp_path):
    kb = build_kb(tmp_path, paediatric=[
        csv_row("t-band", "ingredient:metformin", "6", "18", "20", "40", "max_daily", "1000", "", "mg",
                "major", "{drug} {daily} {max} {unit} at {weight} kg",
                "{drug}{daily}{max}{unit}，体重{weight} kg", SOURCE),
        paediatric("t-kg", "ingredient:metformin", "6", "18", action="max_daily_per_kg", per_kg="20",
                   unit="mg")])
    assert [rule.rule_id for rule in kb.patient_rules["paediatric"]] == ["t-band", "t-kg"]


def test_different_placeholders_in_the_two_languages_are_refused(tmp_path):
    row = csv_row("t-ph", "ingredient:ibuprofen", "pregnancy", "", "", "major", "{drug} ({value})",
                  "{drug}妊娠", SOURCE)
    problems = problems_of(write_kb(tmp_path, pregnancy=[row]))
    assert Problem("pregnancy.csv", 2, "message_zh", "Use the same placeholders as message_en.") in problems


@pytest.mark.parametrize("file", [*FAMILY_COLUMNS])
def test_a_missing_family_file_is_reported(tmp_path, file):
    directory = write_kb(tmp_path)
    (directory / file).unlink()
    assert Problem(file, 0, "", "The file is missing.") in problems_of(directory)


@pytest.mark.parametrize("file", [*FAMILY_COLUMNS])
def test_a_family_file_missing_a_column_is_reported(tmp_path, file):
    directory = write_kb(tmp_path)
    columns = COLUMNS[file]
    (directory / file).write_text(",".join(columns[:-1]) + "\n", encoding="utf-8")
    assert Problem(file, 1, columns[-1], "This column is missing from the header.") in problems_of(directory)


def test_an_empty_family_file_is_valid_and_fires_nothing(tmp_path):
    kb = build_kb(tmp_path)
    assert all(kb.patient_rules[family] == () for family in kb.patient_rules)
    assert kb.indications == ()
