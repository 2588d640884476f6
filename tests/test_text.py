"""The text rules for what comes in from outside: invisible controls leave names; CSV cells never start
a formula, and the escape comes off again on import."""

import pytest

from app.text import clean_name, csv_cell, unescape_csv_cell


@pytest.mark.parametrize(("typed", "kept"), [
    ("Wang\u202e Fang\u202c", "Wang Fang"),  # right-to-left override and pop
    ("\u2067Li\u2069 Wei", "Li Wei"),  # isolates
    ("Li\u200e\u200f\u061c Wei", "Li Wei"),  # direction marks
    ("Li\x00\x07\x1b\x7f\x9b Wei", "Li Wei"),  # C0 and C1 controls
    ("Li\u200b\ufeff\u2060 Wei", "Li Wei"),  # zero-width space, BOM, word joiner
    ("Li\tWei\r\nZhang", "Li Wei  Zhang"),  # line breaks do not glue words together
    ("  张伟  ", "张伟"),
    ("👩\u200d⚕️ Dr. Chen", "👩\u200d⚕️ Dr. Chen"),  # a zero-width joiner builds the emoji: kept
    ("", ""),
    (None, ""),
])
def test_a_name_keeps_what_is_seen_and_loses_what_is_not(typed, kept):
    assert clean_name(typed) == kept


@pytest.mark.parametrize("value", ["=1+1", "+41 22", "-5", "@SUM(A1)", "\tcmd", "\rcmd", "'=x", "''-x"])
def test_a_cell_a_spreadsheet_would_run_is_escaped_and_comes_back_unchanged(value):
    exported = csv_cell(value)
    assert exported.startswith("'") and exported[1:] == value
    assert unescape_csv_cell(exported) == value


@pytest.mark.parametrize("value", ["Amlodipine", "3920", "5.5", "'quoted'", "a=b", "", "氨氯地平"])
def test_an_ordinary_cell_is_written_as_it_is(value):
    assert csv_cell(value) == value
    assert unescape_csv_cell(value) == value
