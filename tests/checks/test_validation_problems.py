"""What `flask checks validate` says of a broken knowledge base, word for word and at the exact file,
line and column: a missing or empty VERSION, a missing file, a header that does not fit, a row with
too many values, and each kind of selector, rule id and severity written wrong."""

import csv
import io

import pytest

from app.checks import loader
from app.checks.knowledge import Problem
from app.checks.validation import COLUMNS, _Reader
from tests.checks.test_knowledge import append, data_copy, problems_of  # noqa: F401  (fixture)

INTERACTION = "{a} with {b},{a}与{b},Test label 7"


def test_a_missing_version_file_is_named(data_copy):  # noqa: F811
    (data_copy / "VERSION").unlink()
    assert Problem("VERSION", 0, "", "The file is missing.") in problems_of(data_copy)


def test_a_version_file_of_comments_has_no_version_line(data_copy):  # noqa: F811
    (data_copy / "VERSION").write_text("# the knowledge base\n\n", encoding="utf-8")
    assert Problem("VERSION", 1, "version", "No version line.") in problems_of(data_copy)


def test_a_bad_version_is_reported_on_its_own_line_after_comments(data_copy):  # noqa: F811
    (data_copy / "VERSION").write_text("# the knowledge base\n\n1.2\n", encoding="utf-8")
    bad = Problem("VERSION", 3, "version", "Write the version as MAJOR.MINOR.PATCH.")
    assert bad in problems_of(data_copy)


def test_a_missing_data_file_is_named(data_copy):  # noqa: F811
    (data_copy / "duplicate_classes.csv").unlink()
    assert Problem("duplicate_classes.csv", 0, "", "The file is missing.") in problems_of(data_copy)


def test_an_unknown_column_names_the_columns_expected(data_copy):  # noqa: F811
    path = data_copy / "duplicate_classes.csv"
    text = path.read_text(encoding="utf-8").splitlines()
    rows = [text[0] + ",notes", *(row + "," for row in text[1:])]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    expected = "Unknown column; expected rule_id, selector, severity, message_en, message_zh, source."
    assert Problem("duplicate_classes.csv", 1, "notes", expected) in problems_of(data_copy)


def test_a_row_with_more_values_than_the_header_is_refused(data_copy):  # noqa: F811
    line = append(data_copy / "duplicate_classes.csv",
                  "dup-test,group:statins,moderate,{a} and {b},{a}与{b},Test label 7,extra\n")
    too_many = "This row has more values than the header has columns."
    assert Problem("duplicate_classes.csv", line, "", too_many) in problems_of(data_copy)


@pytest.mark.parametrize(("selector", "message"), [
    ("drug:warfarin", "Write a selector: ingredient:… / atc:… / group:…."),
    ("ingredient:", "Write a selector: ingredient:… / atc:… / group:…."),
    ("ingredient:Warfarin", "An ingredient is its lower-case English INN, e.g. ingredient:simvastatin."),
    ("atc:C1", "Not a WHO ATC code or level, e.g. atc:J02AC or atc:C10AA01."),
    ("group:no_such_group", "No group named 'no_such_group' in groups.csv."),
])
def test_each_kind_of_selector_written_wrong_is_explained(data_copy, selector, message):  # noqa: F811
    row = f"test-sel,{selector},ingredient:warfarin,major,{INTERACTION}\n"
    line = append(data_copy / "interactions.csv", row)
    assert Problem("interactions.csv", line, "a", message) in problems_of(data_copy)


def test_a_rule_id_written_wrong_or_used_twice_is_refused(data_copy):  # noqa: F811
    first = append(data_copy / "interactions.csv",
                   f"Test_Bad,ingredient:warfarin,ingredient:aspirin,major,{INTERACTION}\n"
                   f"test-twice,ingredient:warfarin,ingredient:ibuprofen,major,{INTERACTION}\n"
                   f"test-twice,ingredient:warfarin,ingredient:naproxen,major,{INTERACTION}\n")
    problems = problems_of(data_copy)
    written = "Use lower-case letters, digits, dots and hyphens."
    twice = f"Already used in interactions.csv line {first + 1}."
    assert Problem("interactions.csv", first, "rule_id", written) in problems
    assert Problem("interactions.csv", first + 2, "rule_id", twice) in problems


def test_a_severity_not_in_the_scale_lists_the_scale(data_copy):  # noqa: F811
    line = append(data_copy / "interactions.csv",
                  f"test-sev,ingredient:warfarin,ingredient:aspirin,severe,{INTERACTION}\n")
    scale = "Not one of: contraindicated, major, moderate, minor."
    assert Problem("interactions.csv", line, "severity", scale) in problems_of(data_copy)


def test_the_same_files_give_the_same_digest_in_every_release(tmp_path):
    # Each check result records the knowledge base's version with this digest, so a release that
    # changed how it is computed would make unchanged files look like a new knowledge base.
    for name in ("VERSION", *COLUMNS):
        (tmp_path / name).write_text(name + "\n", encoding="utf-8")
    assert _Reader(tmp_path).digest() == "5b55287c"
    # Every file counts, VERSION included, and a byte moved from one file to the next is a change.
    (tmp_path / "VERSION").write_text("VERSION\n\n", encoding="utf-8")
    assert _Reader(tmp_path).digest() != "5b55287c"
    (tmp_path / "VERSION").write_text("VERSION", encoding="utf-8")
    (tmp_path / "allergy_classes.csv").write_text("\nallergy_classes.csv\n", encoding="utf-8")
    assert _Reader(tmp_path).digest() != "5b55287c"


def test_a_file_whose_header_lacks_a_column_is_not_read_row_by_row(data_copy):  # noqa: F811
    # One problem for the header, none for each row under it: the rows cannot be read against it.
    path = data_copy / "duplicate_classes.csv"
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(row[:-1] for row in rows)
    path.write_text(out.getvalue(), encoding="utf-8")
    assert problems_of(data_copy) == [Problem("duplicate_classes.csv", 1, "source",
                                              "This column is missing from the header.")]


def test_rows_after_a_row_with_too_many_values_are_still_checked(data_copy):  # noqa: F811
    line = append(data_copy / "duplicate_classes.csv",
                  "dup-test,group:test_none,moderate,{a} and {b},{a}与{b},Test label 7,extra\n"
                  "dup-test-2,group:test_none,moderate,{a} and {b},{a}与{b},Test label 7\n")
    assert problems_of(data_copy) == [
        Problem("duplicate_classes.csv", line, "", "This row has more values than the header has columns."),
        Problem("duplicate_classes.csv", line + 1, "selector", "No group named 'test_none' in groups.csv.")]


def test_files_saved_with_a_byte_order_mark_load_as_without(data_copy):  # noqa: F811
    # Windows editors may save UTF-8 with a byte-order mark; the version line and the first column's
    # name must still be read as written, and the Chinese messages as Chinese.
    plain = loader.load(data_copy)
    for path in [data_copy / "VERSION", data_copy / "interactions.csv"]:
        path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    marked = loader.load(data_copy)
    assert marked.version.split("+")[0] == plain.version.split("+")[0]
    assert marked.interactions == plain.interactions
    assert any("与" in rule.message_zh for rule in marked.interactions)
