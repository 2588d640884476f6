"""What validate says of a row of a drug–drug file written wrong (groups, allergy classes, interactions,
duplicate classes, cross-reactivity, the fixed checks' rules): exactly its problems, word for word at
their line and column, with the rows after it still read and checked."""

import pytest

from app.checks import loader
from app.checks.knowledge import FIXED_RULES, Problem
from tests.checks.test_knowledge import append, data_copy, problems_of  # noqa: F401  (fixture)

SRC = "Test source: label 4.3"
INTERACTION = "{a} with {b},{a}与{b}合用," + SRC
DUPLICATE = "{a} and {b},{a}与{b}同类," + SRC
LOOP_A = "The group contains itself: test_loop_a → test_loop_b → test_loop_a."
LOOP_B = "The group contains itself: test_loop_b → test_loop_a → test_loop_b."
SELECTOR = "Write a selector: ingredient:… / atc:… / group:…."
CROSS = "{drug} and {allergen},{drug}与{allergen}交叉过敏," + SRC

# Each case: the file, the rows appended to it, and the problems expected as (row, column, message),
# row counted from 0 for the first row appended.
CASES = {
    "group name": ("groups.csv", ["Test_Group,ingredient:warfarin," + SRC,
                                  "test_group,drug:warfarin," + SRC],
                   [(0, "group", "Use lower-case letters, digits and underscores."),
                    (1, "member", "Write a selector: ingredient:… / atc:… / group:….")]),
    "group member twice": ("groups.csv", ["test_group,ingredient:warfarin," + SRC,
                                          "test_group,ingredient:warfarin," + SRC],
                           [(1, "member", "Already a member (line {first}).")]),
    "group source": ("groups.csv", ["test_group,ingredient:warfarin,label"],
                     [(0, "source", "Say where the membership comes from.")]),
    "group cycle": ("groups.csv", ["test_loop_a,group:test_loop_b," + SRC,
                                   "test_loop_b,group:test_loop_a," + SRC],
                    [(0, "member", LOOP_A),
                     (1, "member", LOOP_B)]),
    "group cycle after a plain member": ("groups.csv", ["test_loop_a,ingredient:warfarin," + SRC,
                                                        "test_loop_a,group:test_loop_b," + SRC,
                                                        "test_loop_b,group:test_loop_a," + SRC],
                                         [(0, "member", LOOP_A),
                                          (2, "member", LOOP_B)]),
    # A cycle below a group is reported where it is, not again for the group that contains it.
    "group cycle below": ("groups.csv", ["test_outer,group:test_loop_a," + SRC,
                                         "test_loop_a,group:test_loop_b," + SRC,
                                         "test_loop_b,group:test_loop_a," + SRC],
                          [(1, "member", LOOP_A),
                           (2, "member", LOOP_B)]),
    "group of a group without members": ("groups.csv", ["test_outer,group:test_inner," + SRC,
                                                        "test_inner,drug:warfarin," + SRC],
                                         [(1, "member", SELECTOR)]),
    "allergy class unknown": ("allergy_classes.csv", ["sulfa_drugs,ingredient:sulfamethoxazole," + SRC],
                              [(0, "class",
                                "Not an allergy class of app/patients/data/allergy_classes.csv.")]),
    "allergy class member twice": ("allergy_classes.csv", ["carbapenems,ingredient:meropenem," + SRC,
                                                           "carbapenems,ingredient:meropenem," + SRC],
                                   [(1, "member", "Already a member of this class.")]),
    "allergy class member": ("allergy_classes.csv", ["carbapenems,atc:J01D-H," + SRC],
                             [(0, "member", "Not a WHO ATC code or level, e.g. atc:J02AC or atc:C10AA01.")]),
    "allergy class source": ("allergy_classes.csv", ["carbapenems,ingredient:meropenem,label"],
                             [(0, "source", "Say where the membership comes from.")]),
    "duplicate class group": ("duplicate_classes.csv", ["test-dup-1,group:test_none,moderate," + DUPLICATE],
                              [(0, "selector", "No group named 'test_none' in groups.csv.")]),
    "cross-reactivity class": ("cross_reactivity.csv", ["test-cross,sulfa,class:carbapenems,minor," + CROSS],
                               [(0, "allergy_class", "Not an allergy class listed in allergy_classes.csv.")]),
    "cross-reactivity itself": ("cross_reactivity.csv",
                                ["test-cross,carbapenems,class:carbapenems,minor," + CROSS],
                                [(0, "target",
                                  "A class is not cross-reactive with itself (a direct match).")]),
    "cross-reactivity target": ("cross_reactivity.csv", ["test-cross,carbapenems,class:sulfa,minor," + CROSS],
                                [(0, "target", "No allergy class 'sulfa'.")]),
    "interaction dose": ("interactions.csv",
                         ["test-ia,ingredient:warfarin,ingredient:aspirin,major," + INTERACTION + ",20 mg,"],
                         [(0, "a_dose", "Write a daily-dose condition such as >20 mg or <=20 mg.")]),
    "message missing": ("interactions.csv",
                        ["test-ia,ingredient:warfarin,ingredient:aspirin,major,,{a}与{b}合用," + SRC],
                        [(0, "message_en", "This field is required.")]),
    "message unbalanced": ("interactions.csv", ["test-ia,ingredient:warfarin,ingredient:aspirin,major,"
                                                "{a with {b},{a}与{b}合用," + SRC],
                           [(0, "message_en", "Unbalanced { or }; write {a} for a placeholder.")]),
    "message placeholder": ("interactions.csv", ["test-ia,ingredient:warfarin,ingredient:aspirin,major,"
                                                 "{a} with {c},{a}与{c}合用," + SRC],
                            [(0, "message_en", "Unknown placeholder 'c'; allowed: a, b."),
                             (0, "message_zh", "Unknown placeholder 'c'; allowed: a, b.")]),
    # Each message is checked on its own: one written wrong does not hide the other's problem.
    "message missing and the other wrong": (
        "interactions.csv", ["test-ia,ingredient:warfarin,ingredient:aspirin,major,,{c}与{b}合用," + SRC],
        [(0, "message_en", "This field is required."),
         (0, "message_zh", "Unknown placeholder 'c'; allowed: a, b.")]),
    "message unbalanced and the other wrong": (
        "interactions.csv",
        ["test-ia,ingredient:warfarin,ingredient:aspirin,major,{a with {b},{c}与{b}合用," + SRC],
        [(0, "message_en", "Unbalanced { or }; write {a} for a placeholder."),
         (0, "message_zh", "Unknown placeholder 'c'; allowed: a, b.")]),
    # The kind is what comes before the first colon.
    "selector with two colons": ("groups.csv", ["test_group,ingredient:warfarin:oral," + SRC],
                                 [(0, "member", "An ingredient is its lower-case English INN, e.g. "
                                                "ingredient:simvastatin.")]),
    "message not chinese": ("interactions.csv", ["test-ia,ingredient:warfarin,ingredient:aspirin,major,"
                                                 "{a} with {b},{a} with {b}," + SRC],
                            [(0, "message_zh", "The Chinese message has no Chinese text.")]),
    "rule source": ("interactions.csv", ["test-ia,ingredient:warfarin,ingredient:aspirin,major,"
                                         "{a} with {b},{a}与{b}合用,label"],
                    [(0, "source", "Say where the rule comes from (label, guideline, list).")]),
}


@pytest.mark.parametrize("case", CASES)
def test_a_drug_file_row_written_wrong_gets_exactly_its_problems(data_copy, case):  # noqa: F811
    file, rows, expected = CASES[case]
    first = append(data_copy / file, "".join(row + "\n" for row in rows))
    assert problems_of(data_copy) == [
        Problem(file, first + offset, column, message.replace("{first}", str(first)))
        for offset, column, message in expected]


def test_a_duplicate_class_listed_twice_points_at_the_first_line(data_copy):  # noqa: F811
    row = "test-dup-1,group:nsaids,moderate," + DUPLICATE + "\n"
    first = append(data_copy / "duplicate_classes.csv", row)
    existing = next(number for number, text in enumerate(
        (data_copy / "duplicate_classes.csv").read_text(encoding="utf-8").splitlines(), start=1)
        if ",group:nsaids," in text)
    assert problems_of(data_copy) == [Problem("duplicate_classes.csv", first, "selector",
                                              f"This class is already on line {existing}.")]


def test_an_allergy_class_without_members_would_never_match(data_copy):  # noqa: F811
    path = data_copy / "allergy_classes.csv"
    kept = [text for text in path.read_text(encoding="utf-8").splitlines()
            if not text.startswith("carbapenems,")]
    path.write_text("\n".join(kept) + "\n", encoding="utf-8")
    problems = problems_of(data_copy)
    assert Problem("allergy_classes.csv", 1, "class",
                   "The allergy class 'carbapenems' has no members; it would never match.") in problems


@pytest.mark.parametrize(("row", "column", "message"), [
    ("weekly-twice,not_online,major,{drug} weekly.,{drug}每周。," + SRC, "rule_id",
     "No check in code has this rule_id; they are: " + ", ".join(FIXED_RULES) + "."),
    ("not-online-catalogue,dose,contraindicated,{drug} offline.,{drug}不可在线。," + SRC, "kind",
     "This rule's kind is not_online."),
])
def test_a_fixed_rule_written_wrong_is_refused(data_copy, row, column, message):  # noqa: F811
    path = data_copy / "rules.csv"
    rule_id = row.split(",")[0]
    kept = [text for text in path.read_text(encoding="utf-8").splitlines()
            if not text.startswith(rule_id + ",")]
    path.write_text("\n".join(kept) + "\n", encoding="utf-8")
    line = append(path, row + "\n")
    problems = problems_of(data_copy)
    assert problems == [Problem("rules.csv", line, column, message)]


def test_rules_after_an_unknown_fixed_rule_are_still_read(data_copy):  # noqa: F811
    path = data_copy / "rules.csv"
    text = path.read_text(encoding="utf-8").splitlines()
    first, row = next((number, t) for number, t in enumerate(text, start=1) if t.startswith("weekly-only,"))
    unknown = "weekly-twice,not_online,major,{drug} weekly.,{drug}每周。," + SRC
    line = append(path, unknown + "\n" + row + "\n")
    assert problems_of(data_copy) == [
        Problem("rules.csv", line, "rule_id", f"No check in code has this rule_id; they are: "
                                              f"{', '.join(FIXED_RULES)}."),
        Problem("rules.csv", line + 1, "rule_id", f"Already used in rules.csv line {first}.")]


def test_a_fixed_rules_severity_and_message_are_named_at_its_line(data_copy):  # noqa: F811
    path = data_copy / "rules.csv"
    kept = [text for text in path.read_text(encoding="utf-8").splitlines()
            if not text.startswith("weekly-only,")]
    path.write_text("\n".join(kept) + "\n", encoding="utf-8")
    line = append(path, "weekly-only,weekly_only,severe,{drug} weekly.,{drug} weekly only.," + SRC + "\n")
    assert problems_of(data_copy) == [
        Problem("rules.csv", line, "severity", "Not one of: contraindicated, major, moderate, minor."),
        Problem("rules.csv", line, "message_zh", "The Chinese message has no Chinese text.")]


@pytest.mark.parametrize("target", ["atc:J01DH", "group:hiv_protease_inhibitors", "ingredient:aztreonam",
                                    "class:cephalosporins"])
def test_a_cross_reactivity_targets_a_class_an_ingredient_an_atc_level_or_a_group(data_copy, target):  # noqa: F811
    row = f"test-cross,sulfonamides,{target},minor," + CROSS
    line = append(data_copy / "cross_reactivity.csv", row + "\n")
    rule = next(rule for rule in loader.load(data_copy).cross_reactivity if rule.rule_id == "test-cross")
    assert (rule.line, rule.b, rule.allergy_class) == (line, target, "sulfonamides")


RULE = "Say where the rule comes from (label, guideline, list)."
MEMBERSHIP = "Say where the membership comes from."


@pytest.mark.parametrize(("file", "row", "message"), [
    ("groups.csv", "test_group,ingredient:warfarin,{source}", MEMBERSHIP),
    ("allergy_classes.csv", "carbapenems,ingredient:meropenem,{source}", MEMBERSHIP),
    ("interactions.csv",
     "test-ia,ingredient:warfarin,ingredient:aspirin,major,{a} with {b},{a}与{b}合用,{source},,", RULE),
    ("renal.csv",
     "test-renal,ingredient:metformin,egfr,0,30,avoid,,,major,{drug} {value}.,{drug}肾{value}。,{source}",
     RULE),
    ("indications.csv", "ingredient:testdrug,E11,{source}",
     "Say where the indications come from (label, 说明书)."),
    ("allergy_synonyms.csv", "testterm,en,class:carbapenems,{source}",
     "Say where the term comes from (label, ATC class, 药典)."),
])
@pytest.mark.parametrize(("source", "refused"), [("ATC J01DH", True), ("ATC J01DH1", False),
                                                 ("ATC J01DH12", False)])
def test_a_source_needs_ten_characters(data_copy, file, row, message, source, refused):  # noqa: F811
    # Ten characters are about the least that names a source ("ATC J01DH1", "说明书 4.3 用法用量").
    line = append(data_copy / file, row.replace("{source}", source) + "\n")
    if refused:
        assert problems_of(data_copy) == [Problem(file, line, "source", message)]
    else:
        loader.load(data_copy)
