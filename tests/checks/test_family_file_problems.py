"""What validate says of a patient-family row written wrong, word for word at its line and column, and
the edges each family file accepts (a number up to 100,000, Beers from 65, children under 18)."""

import pytest

from app.checks.family_files import read_patient_files
from app.checks.knowledge import Problem
from app.checks.validation import _Reader
from tests.checks.test_family_files import (
    build_kb,
    csv_row,
    drug_disease,
    hepatic,
    indication,
    older,
    paediatric,
    pregnancy,
    problems_of,
    renal,
    write_kb,
)

METFORMIN = "ingredient:metformin"
PLAIN = "Write a plain number such as 30 or 0.125."
SOURCE = "Test source: label 4.3"
UNITS = "Write one of: mg, µg, g, IU."
CHILD_PUGH = "Write one or more of A B C, separated by spaces."


@pytest.mark.parametrize(("family", "row", "column", "message"), [
    ("renal", renal("t-r", METFORMIN, low="0", below="30", measure="gfr"), "measure",
     "Write egfr or crcl: what the source gives the cut-off in."),
    ("renal", renal("t-r", METFORMIN, low="0", below="30", action="stop"), "action",
     "Write one of: avoid, adjust, max_daily."),
    ("renal", renal("t-r", METFORMIN, low="30", below="30"), "below", "below must be above from."),
    ("renal", renal("t-r", METFORMIN, low="thirty", below="60"), "from", PLAIN),
    ("renal", renal("t-r", METFORMIN, low="0.00000000001", below="60"), "from", PLAIN),
    ("renal", renal("t-r", METFORMIN, low="-5", below="60"), "from", "Write a number from 0 to 100000."),
    ("renal", renal("t-r", METFORMIN, low="0", below="100001"), "below", "Write a number from 0 to 100000."),
    ("renal", csv_row("t-r", METFORMIN, "egfr", "0", "30", "max_daily", "", "mg", "major", "{drug} {daily}",
                      "{drug}{daily}肾", SOURCE), "dose", "A max_daily row needs the maximum daily dose."),
    ("renal", renal("t-r", METFORMIN, low="0", below="30", action="max_daily", dose="500", unit="mL"), "unit",
     UNITS),
    ("hepatic", hepatic("t-h", METFORMIN, "B D"), "child_pugh", CHILD_PUGH),
    ("hepatic", hepatic("t-h", METFORMIN, ""), "child_pugh", CHILD_PUGH),
    ("pregnancy", pregnancy("t-p", METFORMIN, state="lactation"), "state",
     "Write pregnancy or breastfeeding."),
    ("pregnancy", pregnancy("t-p", METFORMIN, state="breastfeeding", from_week="20"), "from_week",
     "Weeks apply to pregnancy only."),
    ("older_adults", older("t-o", METFORMIN, min_age="64"), "min_age", "The Beers Criteria start at 65."),
    ("older_adults", older("t-o", METFORMIN, min_age=""), "min_age", "This field is required."),
    ("older_adults", older("t-o", METFORMIN, conditions="heart"), "conditions",
     "Not an ICD-10 code or prefix: 'heart' (e.g. I50, K92.2)."),
    ("older_adults", older("t-o", METFORMIN, dose_above="2000", unit="mL"), "unit", UNITS),
    ("paediatric", paediatric("t-c", METFORMIN, from_age="6", below_age="19"), "below_age",
     "Children are under 18."),
    ("paediatric", paediatric("t-c", METFORMIN, from_age="6", below_age="12", action="max_daily_per_kg",
                              unit="mg"), "per_kg", "A max_daily_per_kg row needs the dose per kg a day."),
    ("drug_disease", drug_disease("t-d", METFORMIN, ""), "conditions",
     "List ICD-10 codes or prefixes, e.g. I50 or J45 J46."),
    # The dose columns, in each family that has them: a number written wrong is named at its own column
    # (not as a missing dose), a dose needs its unit, and a per-kg row its dose per kg.
    ("renal", renal("t-r", METFORMIN, low="0", below="30", action="max_daily", dose="1.5 g", unit="mg"),
     "dose", PLAIN),
    ("renal", renal("t-r", METFORMIN, low="0", below="30", action="adjust", dose="500"), "unit", UNITS),
    ("renal", renal("t-r", METFORMIN, low="0", below="30", action="max_daily_per_kg"), "action",
     "Write one of: avoid, adjust, max_daily."),
    ("hepatic", hepatic("t-h", METFORMIN, "C", action="max_daily", dose="-500", unit="mg"), "dose",
     "Write a number from 0 to 100000."),
    ("hepatic", csv_row("t-h", METFORMIN, "B", "max_daily", "", "mg", "major", "{drug} {value} {daily}",
                        "{drug}{value}{daily}肝", SOURCE), "dose",
     "A max_daily row needs the maximum daily dose."),
    ("paediatric", paediatric("t-c", METFORMIN, from_age="6", below_age="12", action="max_daily_per_kg",
                              per_kg="ten", unit="mg"), "per_kg", PLAIN),
    ("paediatric", paediatric("t-c", METFORMIN, from_age="6", below_age="12", action="max_daily_per_kg",
                              per_kg="10"), "unit", UNITS),
    ("paediatric", paediatric("t-c", METFORMIN, from_age="6", below_age="12", action="max_daily",
                              dose="x", unit="mg"), "dose", PLAIN),
    ("paediatric", paediatric("t-c", METFORMIN, from_age="12", below_age="6"), "below_age",
     "below_age must be above from_age."),
    ("paediatric", paediatric("t-c", METFORMIN, from_weight="40", below_weight="40"), "below_weight",
     "below_weight must be above from_weight."),
    ("pregnancy", pregnancy("t-p", METFORMIN, from_week="28", before_week="12"), "before_week",
     "before_week must be above from_week."),
    ("older_adults", older("t-o", METFORMIN, dose_above="many", unit="mg"), "dose_above", PLAIN),
    ("indications", indication(METFORMIN, "E11", source="label"), "source",
     "Say where the indications come from (label, 说明书)."),
    ("indications", indication(METFORMIN, "diabetes"), "conditions",
     "Not an ICD-10 code or prefix: 'diabetes' (e.g. I50, K92.2)."),
    ("indications", indication(METFORMIN, ""), "conditions",
     "List ICD-10 codes or prefixes, e.g. I50 or J45 J46."),
    ("indications", indication("drug:metformin", "E11"), "selector",
     "Write a selector: ingredient:… / atc:… / group:…."),
])
def test_a_family_row_written_wrong_is_explained_at_its_column(tmp_path, family, row, column, message):
    # That one problem and no other: the row is otherwise right, so nothing else may be reported.
    problems = problems_of(write_kb(tmp_path, **{family: [row]}))
    assert problems == [Problem(f"{family}.csv", 2, column, message)]


def test_each_family_accepts_its_edge_values(tmp_path):
    # A number of 12 characters is read (13 are refused above), and 100000 is the largest.
    kb = build_kb(tmp_path, renal=[renal("t-r", METFORMIN, low="0.0000000001", below="100000")],
                  older_adults=[older("t-o", METFORMIN, min_age="65")],
                  paediatric=[paediatric("t-c", METFORMIN, from_age="0", below_age="18")],
                  pregnancy=[pregnancy("t-p", METFORMIN, state="breastfeeding")])
    renal_rule, = kb.patient_rules["renal"]
    assert (str(renal_rule.low), renal_rule.high) == ("1E-10", 100000)
    assert kb.patient_rules["older_adults"][0].low == 65
    assert kb.patient_rules["paediatric"][0].high == 18
    assert kb.patient_rules["pregnancy"][0].state == "breastfeeding"


@pytest.mark.parametrize(("family", "row", "placeholder"), [
    # A renal row without a dose has no dose or unit to quote, and only a max_daily row a daily amount.
    ("renal", csv_row("t-r", METFORMIN, "egfr", "0", "30", "avoid", "", "", "major", "{drug} {dose}",
                      "{drug}{dose}肾", "Test source: label 4.3"), "dose"),
    ("renal", csv_row("t-r", METFORMIN, "egfr", "0", "30", "adjust", "500", "mg", "major", "{drug} {daily}",
                      "{drug}{daily}肾", "Test source: label 4.3"), "daily"),
    # An older-adult row without conditions has no condition, and one without a dose no daily amount.
    ("older_adults", csv_row("t-o", METFORMIN, "65", "", "", "", "moderate", "{drug} {condition}",
                             "{drug}{condition}老年", "Test source: label 4.3"), "condition"),
    ("older_adults", csv_row("t-o", METFORMIN, "65", "I50", "", "", "moderate", "{drug} {daily}",
                             "{drug}{daily}老年", "Test source: label 4.3"), "daily"),
    # A children's warning by age has no maximum.
    ("paediatric", csv_row("t-c", METFORMIN, "6", "12", "", "", "avoid", "", "", "", "major", "{drug} {max}",
                           "{drug}{max}儿童", "Test source: label 4.3"), "max"),
])
def test_a_message_may_quote_only_what_its_row_fills_in(tmp_path, family, row, placeholder):
    problems = problems_of(write_kb(tmp_path, **{family: [row]}))
    assert any((p.file, p.line, p.column) == (f"{family}.csv", 2, "message_en")
               and f"Unknown placeholder {placeholder!r}" in p.message for p in problems), problems


@pytest.mark.parametrize(("from_weight", "below_weight"), [("20", ""), ("", "40")])
def test_a_childrens_maximum_banded_by_either_weight_edge_may_quote_the_weight(tmp_path, from_weight,
                                                                               below_weight):
    row = csv_row("t-c", METFORMIN, "6", "18", from_weight, below_weight, "max_daily", "1000", "", "mg",
                  "major", "{drug} {daily} {max} {unit} at {weight} kg",
                  "{drug}{daily}{max}{unit}，体重{weight} kg", "Test source: label 4.3")
    rules = build_kb(tmp_path, paediatric=[row]).patient_rules["paediatric"]
    assert [rule.rule_id for rule in rules] == ["t-c"]


def test_a_row_written_wrong_builds_no_rule_and_its_neighbours_still_do(tmp_path):
    # What validate relies on to report every problem in one pass: a bad row is left out, and the rows
    # after it are still read (and checked) as if it were not there.
    directory = write_kb(tmp_path, renal=[renal("t-r1", METFORMIN, low="0", below="30"),
                                          renal("t-r2", METFORMIN, low="30", below="x"),
                                          renal("t-r3", METFORMIN, low="30", below="45")],
                         indications=[indication(METFORMIN, "E11"), indication(METFORMIN, "E13"),
                                      indication("atc:A10", "E10")])
    reader = _Reader(directory)
    families, indications = read_patient_files(reader, groups={})
    assert [rule.rule_id for rule in families["renal"]] == ["t-r1", "t-r3"]
    assert indications == ((METFORMIN, ("E11",)), ("atc:A10", ("E10",)))
    assert [(p.file, p.line, p.column) for p in reader.problems] == [("renal.csv", 3, "below"),
                                                                      ("indications.csv", 3, "selector")]
