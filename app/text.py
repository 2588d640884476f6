"""Text from outside, made safe to show and to export: invisible controls out of names, no formulas in CSV."""

import re

# Characters that change how the text around them is shown without being seen themselves: bidi
# embeddings, overrides, isolates and marks (a name or file name shown reversed, "report_fdp.exe"
# reading as "report_exe.pdf"), the zero-width space, word joiners, the BOM, and C0/C1 controls.
# ZWJ/ZWNJ (U+200C/U+200D) stay: some scripts and emoji need them.
_INVISIBLE = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f"
                        r"\u061c\u200b\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
# Line breaks and tabs inside a one-line name become spaces rather than gluing words together.
_BREAKS = re.compile(r"[\t\n\x0b\x0c\r\x85\u2028\u2029]")

# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_ESCAPED = re.compile(r"^'+[=+\-@\t\r]")


def clean_name(value: str | None) -> str:
    """A name or file name as typed, minus invisible controls; surrounding spaces trimmed."""
    if not value:
        return ""
    return _INVISIBLE.sub("", _BREAKS.sub(" ", value)).strip()


def csv_cell(value: str) -> str:
    """Export: a cell a spreadsheet would read as a formula gets a leading apostrophe. A value that
    already starts with apostrophes before such a character gets one more, so unescape_csv_cell()
    gives back exactly what was exported."""
    if value.startswith(FORMULA_START) or _ESCAPED.match(value):
        return "'" + value
    return value


def unescape_csv_cell(value: str) -> str:
    """Import: undo csv_cell(), so an exported file loads back unchanged."""
    return value[1:] if _ESCAPED.match(value) else value
