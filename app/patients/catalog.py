"""Shipped reference lists: ICD-10 chronic and oncology diagnoses, and allergy classes (en + zh)."""

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"


@dataclass(frozen=True)
class Entry:
    code: str
    name_en: str
    name_zh: str

    def name(self, language: str) -> str:
        return self.name_zh if language == "zh" else self.name_en


def _load(filename: str) -> dict[str, Entry]:
    with open(DATA_DIR / filename, encoding="utf-8", newline="") as handle:
        rows = [Entry(row["code"].strip(), row["name_en"].strip(), row["name_zh"].strip())
                for row in csv.DictReader(handle)]
    return {row.code: row for row in rows}


@lru_cache(maxsize=1)
def icd10() -> dict[str, Entry]:
    """Code → entry, in file order (sorted by code)."""
    return _load("icd10_chronic.csv")


@lru_cache(maxsize=1)
def allergy_classes() -> dict[str, Entry]:
    """Class code (stored in Allergy.substance) → entry."""
    return _load("allergy_classes.csv")


def icd10_name(code: str, language: str, fallback: str = "") -> str:
    entry = icd10().get(code)
    return entry.name(language) if entry else (fallback or code)


def allergy_class_name(code: str, language: str) -> str:
    entry = allergy_classes().get(code)
    return entry.name(language) if entry else code
