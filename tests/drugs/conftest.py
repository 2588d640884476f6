"""Drug catalogue fixtures: a valid row to vary, drugs made through the service, the shipped file."""

import csv
import io
from itertools import count

import pytest

from app.drugs import services
from app.drugs.catalogue import COLUMNS

_numbers = count(1)


def drug_row(**overrides) -> dict[str, str]:
    """A valid catalogue row (an invented amlodipine pack); overrides replace single columns."""
    row = {
        "code": f"TEST-AMLO-{next(_numbers)}", "generic_name_en": "Amlodipine", "generic_name_zh": "氨氯地平",
        "brand_name": "Testvasc", "ingredients_en": "amlodipine", "ingredients_zh": "氨氯地平",
        "atc_code": "C08CA01", "strength": "5", "strength_unit": "mg", "dosage_form": "tablet",
        "route": "oral", "pack_size": "28", "pack_unit": "tablet", "price_fen": "3920",
        "is_cold_chain": "no", "controlled_class": "none", "is_online_prescribable": "yes",
        "is_deliverable": "yes", "is_antimicrobial": "no", "max_daily_dose": "10",
        "max_daily_dose_unit": "mg", "is_weekly_only": "no", "is_active": "yes", "notes": "",
    }
    row.update(overrides)
    return row


def csv_text(rows: list[dict[str, str]], columns=COLUMNS) -> str:
    output = io.StringIO()
    writer = csv.DictWriter(output, fieldnames=columns, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return output.getvalue()


@pytest.fixture
def make_drug(db):
    def make(**overrides):
        drug = services.create_drug(drug_row(**overrides))
        db.session.commit()
        return drug

    return make


@pytest.fixture
def catalogue(db):
    """The shipped catalogue, loaded as `flask seed-demo` loads it."""
    summary = services.load_shipped_catalogue()
    db.session.commit()
    return summary
