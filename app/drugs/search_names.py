"""Other names people search a product by: co-trimoxazole, SMX-TMP, 复方新诺明, Augmentin, acetaminophen.

The names are in data/search_names.csv (`name,target_code_or_ingredients,source`). The target is either a
catalogue code (AMLODIPINE-5MG-TAB) or, better, the product's ingredient set in lower case separated by
";" ("sulfamethoxazole; trimethoprim"): then every product with exactly those ingredients is found,
whatever its code, strength or maker, including products added to the catalogue later.
"""

import csv
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from app.drugs.catalogue import DRUG_CODE, INGREDIENT_SEPARATOR

DATA_FILE = Path(__file__).resolve().parent / "data" / "search_names.csv"
HEADER = ["name", "target_code_or_ingredients", "source"]
# A name typed only in part is looked up from this many characters on ("co-trim" finds co-trimoxazole).
MIN_PREFIX = 4
_NOT_WORD = re.compile(r"[\W_]+")


@dataclass(frozen=True)
class Target:
    """A catalogue code, or the exact set of ingredient names (lower-case INNs) a product has."""

    code: str | None = None
    ingredients: frozenset[str] = frozenset()


def normalise(text: str) -> str:
    """The form names are compared in: full-width characters as ASCII, case, spaces and punctuation
    dropped, so "Co-trimoxazole", "cotrimoxazole" and "SMX / TMP" meet "co-trimoxazole" and "SMX/TMP"."""
    return _NOT_WORD.sub("", unicodedata.normalize("NFKC", text).casefold())


def parse_target(text: str) -> Target:
    text = text.strip()
    if ";" not in text and "；" not in text and text == text.upper() and DRUG_CODE.match(text):
        return Target(code=text)
    names = frozenset(part.strip().lower() for part in INGREDIENT_SEPARATOR.split(text) if part.strip())
    if not names:
        raise ValueError("no target")
    return Target(ingredients=names)


def read(text: str) -> dict[str, tuple[Target, ...]]:
    """{normalised name: targets}; ValueError naming the line of a malformed row."""
    reader = csv.reader(text.lstrip("\ufeff").splitlines())
    header = next(reader, None)
    if header != HEADER:
        raise ValueError(f"search names: the header must be {','.join(HEADER)}")
    names: dict[str, tuple[Target, ...]] = {}
    for line, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(HEADER) or not normalise(row[0]) or not row[1].strip():
            raise ValueError(f"search names, line {line}: give a name, a target and a source")
        target = parse_target(row[1])
        key = normalise(row[0])
        if target not in names.get(key, ()):
            names[key] = (*names.get(key, ()), target)
    return names


@cache
def search_names() -> dict[str, tuple[Target, ...]]:
    """The shipped list, read once per process."""
    return read(DATA_FILE.read_text(encoding="utf-8"))


def targets(query: str) -> list[Target]:
    """What a typed query names: an exact match of a listed name, or the start of one (at least
    MIN_PREFIX characters of it)."""
    key = normalise(query)
    if not key:
        return []
    names = search_names()
    if len(key) < MIN_PREFIX:
        return list(names.get(key, ()))
    found = [target for name, listed in names.items() if name.startswith(key) for target in listed]
    return list(dict.fromkeys(found))
