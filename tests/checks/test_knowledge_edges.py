"""The knowledge base's own rules at their edges: how severities compare, how a typed term and an ATC
code are read, what `flask checks validate` counts, a reload that succeeds, and the error listing."""

from fractions import Fraction

import pytest

from app.checks import loader
from app.checks.knowledge import (
    DoseLimit,
    KnowledgeBaseError,
    Problem,
    Severity,
    normalise_term,
    selector_tags,
)
from tests.checks.test_family_files import write_kb
from tests.checks.test_knowledge import data_copy  # noqa: F401  (fixture)


def test_a_severity_is_neither_above_nor_below_itself():
    for severity in Severity:
        assert not severity < severity and not severity > severity
        assert severity <= severity and severity >= severity
    assert Severity.MINOR <= Severity.MODERATE and not Severity.MAJOR <= Severity.MODERATE
    assert Severity.CONTRAINDICATED >= Severity.MAJOR and not Severity.MINOR >= Severity.MODERATE
    assert Severity.MAJOR >= "major" and Severity.MINOR <= "minor"


def test_a_typed_term_is_read_in_one_case_with_single_spaces():
    assert normalise_term("  Penicillin   V\tpotassium ") == "penicillin v potassium"
    assert normalise_term("ＡＣＥ　inhibitors") == "ace inhibitors"


def test_an_atc_code_is_tagged_at_every_level_including_the_whole_code():
    assert selector_tags("C08CA01", ()) == {"atc:C", "atc:C08", "atc:C08C", "atc:C08CA", "atc:C08CA01"}
    assert selector_tags("C08", ("amlodipine",)) == {"atc:C", "atc:C08", "ingredient:amlodipine"}


def test_a_drug_with_several_codes_is_in_the_classes_of_each():
    kb = loader.get()
    assert {"penicillins", "cephalosporins"} <= kb.classes_of(("J01CA04", "J01DB01"), ())


def test_validate_counts_every_table_by_name():
    counts = loader.get().stats()
    assert list(counts) == [
        "interactions", "groups", "allergy_classes", "cross_reactivity", "duplicate_classes", "fixed_rules",
        "allergy_synonyms", "renal", "hepatic", "pregnancy", "older_adults", "paediatric", "drug_disease",
        "indications"]
    assert counts["allergy_classes"] == 13 and counts["fixed_rules"] == 17 and counts["cross_reactivity"] == 5
    assert min(counts.values()) > 0


def test_a_successful_reload_is_the_copy_every_check_then_uses(data_copy, monkeypatch):  # noqa: F811
    monkeypatch.setattr(loader, "_current", loader.get())
    fresh = loader.reload(data_copy)
    assert loader.get() is fresh and fresh.version == loader.load(data_copy).version


def test_the_error_lists_each_problem_on_its_own_line():
    problems = [Problem("groups.csv", 3, "members", "Unknown group."),
                Problem("VERSION", 1, "version", "Bad.")]
    with pytest.raises(KnowledgeBaseError) as error:
        raise KnowledgeBaseError(problems)
    assert str(error.value) == "groups.csv:3:members: Unknown group.\nVERSION:1:version: Bad."
    assert error.value.problems == problems


def test_a_dose_condition_holds_on_its_side_of_the_edge_and_an_unknown_dose_only_for_high_doses():
    at = Fraction(20)
    holds = {op: [DoseLimit(op, at, "mg").holds(daily) for daily in (at - 1, at, at + 1, None)]
             for op in (">", ">=", "<", "<=")}
    assert holds == {">": [False, False, True, True], ">=": [False, True, True, True],
                     "<": [True, False, False, False], "<=": [True, True, False, False]}


def test_an_allergy_class_made_of_a_group_reaches_every_drug_in_the_group(tmp_path):
    directory = write_kb(tmp_path)
    with (directory / "allergy_classes.csv").open("a", encoding="utf-8") as file:
        file.write("sulfonamides,group:hiv_protease_inhibitors,Test source: a class by a group\n")
    kb = loader.load(directory)
    assert "sulfonamides" in kb.profile(None, ("darunavir",)).classes
    assert "sulfonamides" not in loader.get().profile(None, ("darunavir",)).classes
    assert {"darunavir", "atazanavir"} <= kb.ingredient_names


def test_a_group_reached_twice_does_not_stop_the_rest_of_its_parent_being_read(tmp_path):
    directory = write_kb(tmp_path)
    with (directory / "groups.csv").open("a", encoding="utf-8") as file:
        # t_outer holds t_a, t_b and t_c; t_b and t_c both hold t_shared, which is met twice.
        for group, member in (("t_outer", "group:t_a"), ("t_outer", "group:t_b"), ("t_outer", "group:t_c"),
                              ("t_a", "ingredient:amlodipine"), ("t_b", "group:t_shared"),
                              ("t_c", "group:t_shared"), ("t_shared", "ingredient:metformin")):
            file.write(f"{group},{member},Test source: nested groups\n")
    kb = loader.load(directory)
    assert "group:t_outer" in kb.profile(None, ("amlodipine",)).tags
    assert "group:t_outer" in kb.profile(None, ("metformin",)).tags
