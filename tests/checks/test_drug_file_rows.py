"""A row of each drug–drug rule file (interactions, duplicate classes, cross-reactivity, the fixed
checks) read into every field a finding shows, and the problems of its rule id, severity and messages
named at that file's own line."""

from fractions import Fraction

import pytest

from app.checks.knowledge import DoseLimit, Kind, Problem, Rule, Severity
from tests.checks.test_family_files import SOURCE, build_kb, csv_row, problems_of, write_kb

PAIR_EN, PAIR_ZH = "{a} with {b}: test.", "{a}与{b}：测试规则。"
CROSS_EN, CROSS_ZH = "{drug}, allergic to {allergen}: test.", "{drug}，对{allergen}过敏：测试规则。"


def rows(rule_id="t-x", severity="major", en=None, zh=None):
    """One row of each file, by the name write_kb() takes."""
    return {
        "interactions": [csv_row(rule_id + "-ia", "ingredient:warfarin", "atc:M01AE", severity, en or PAIR_EN,
                                 zh or PAIR_ZH, SOURCE, "", ">100 mg")],
        "duplicate_classes": [csv_row(rule_id + "-dup", "ingredient:warfarin", severity, en or PAIR_EN,
                                      zh or PAIR_ZH, SOURCE)],
        "cross_reactivity": [csv_row(rule_id + "-cross", "penicillins", "ingredient:aztreonam", severity,
                                     en or CROSS_EN, zh or CROSS_ZH, SOURCE)],
    }


def test_each_drug_file_row_is_read_into_every_field(tmp_path):
    kb = build_kb(tmp_path, **rows(severity="moderate"))
    (interaction,) = kb.interactions
    assert interaction == Rule("interactions.csv", 2, "t-x-ia", Kind.INTERACTION, Severity.MODERATE, PAIR_EN,
                               PAIR_ZH, SOURCE, a="ingredient:warfarin", b="atc:M01AE", a_dose=None,
                               b_dose=DoseLimit(">", Fraction(100), "mg"))
    assert kb.duplicates == (Rule("duplicate_classes.csv", 2, "t-x-dup", Kind.DUPLICATE, Severity.MODERATE,
                                  PAIR_EN, PAIR_ZH, SOURCE, a="ingredient:warfarin"),)
    assert kb.cross_reactivity == (Rule("cross_reactivity.csv", 2, "t-x-cross", Kind.CROSS_REACTIVITY,
                                        Severity.MODERATE, CROSS_EN, CROSS_ZH, SOURCE,
                                        b="ingredient:aztreonam", allergy_class="penicillins"),)


def test_each_fixed_rule_is_read_from_its_row(tmp_path):
    kb = build_kb(tmp_path)
    text = (write_kb(tmp_path) / "rules.csv").read_text(encoding="utf-8").splitlines()
    line, row = next((number, t) for number, t in enumerate(text, start=1) if t.startswith("weekly-only,"))
    rule = kb.rules["weekly-only"]
    assert (rule.file, rule.line, rule.rule_id) == ("rules.csv", line, "weekly-only")
    assert rule.kind == "weekly_only"
    assert rule.source in row and rule.message_en in row and rule.message_zh in row
    assert rule.severity.value == row.split(",")[2]


@pytest.mark.parametrize(("file", "name"), [("interactions.csv", "interactions"),
                                            ("duplicate_classes.csv", "duplicate_classes"),
                                            ("cross_reactivity.csv", "cross_reactivity")])
def test_a_rule_id_severity_and_message_written_wrong_are_named_at_the_files_own_line(tmp_path, file, name):
    written = rows(severity="severe", zh="no Chinese {a}{b}" if name != "cross_reactivity" else
                   "no Chinese {drug}{allergen}")[name]
    # Line 3, after a row whose rule id it reuses: the reuse points back at line 2 of the same file.
    first = rows(rule_id="t-first")[name][0]
    reused = written[0].replace("t-x-", "t-first-", 1)
    problems = problems_of(write_kb(tmp_path, **{name: [first, reused]}))
    expected = [
        Problem(file, 3, "rule_id", f"Already used in {file} line 2."),
        Problem(file, 3, "severity", "Not one of: contraindicated, major, moderate, minor."),
        Problem(file, 3, "message_zh", "The Chinese message has no Chinese text."),
        *{"interactions": [Problem(file, 3, "b", "The same pair is already on line 2.")],
          "duplicate_classes": [Problem(file, 3, "selector", "This class is already on line 2.")],
          }.get(name, []),
    ]
    assert sorted(problems, key=str) == sorted(expected, key=str)
