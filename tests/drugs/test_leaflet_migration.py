"""The leaflet migration adds its columns to a catalogue in use and takes them away again, drugs intact."""

import sqlalchemy as sa

from tests.test_migrations import assert_ok, flask_db

BEFORE, LEAFLETS = "e7f8a9b0c1d2", "f8a9b0c1d2e3"
COLUMNS = {"warnings_en", "warnings_zh", "storage_en", "storage_zh"}


def _drug_columns(url: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        return {column["name"] for column in sa.inspect(engine).get_columns("drugs")}
    finally:
        engine.dispose()


def _execute(url: str, sql: str) -> list:
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            result = connection.execute(sa.text(sql))
            return result.all() if result.returns_rows else []
    finally:
        engine.dispose()


def test_the_columns_arrive_blank_on_existing_drugs_and_leave_without_losing_them(tmp_path):
    url = f"sqlite:///{tmp_path / 'leaflets.sqlite3'}"
    assert_ok(flask_db(url, "upgrade", BEFORE))
    _execute(url, "INSERT INTO drugs (code, generic_name_en, generic_name_zh, brand_name, atc_code, "
                  "strength, strength_unit, dosage_form, route, pack_size, pack_unit, price_fen, "
                  "is_cold_chain, controlled_class, is_online_prescribable, is_deliverable, "
                  "traceability_prefix, is_antimicrobial, is_weekly_only, is_active, notes, created_at, "
                  "updated_at) VALUES ('OLD-1', 'Amlodipine', '氨氯地平', '', 'C08CA01', 5, 'mg', "
                  "'tablet', 'oral', 28, 'tablet', 3920, 0, 'none', 1, 1, '8690001', 0, 0, 1, '', "
                  "'2026-11-30 00:00:00', '2026-11-30 00:00:00')")
    assert_ok(flask_db(url, "upgrade", LEAFLETS))
    assert _drug_columns(url) >= COLUMNS
    assert _execute(url, "SELECT code, traceability_prefix, warnings_en, warnings_zh, storage_en, storage_zh "
                         "FROM drugs") == [("OLD-1", "8690001", "", "", "", "")]
    assert_ok(flask_db(url, "downgrade", BEFORE))
    assert not COLUMNS & _drug_columns(url)
    assert _execute(url, "SELECT code, traceability_prefix FROM drugs") == [("OLD-1", "8690001")]
    # The unique index on the product code survived: the table was altered, not rebuilt without it.
    assert "uq_drugs_traceability_prefix" in {row[0] for row in _execute(
        url, "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'drugs'")}
