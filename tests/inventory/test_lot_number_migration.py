"""The data migration that brings lot numbers written before normalisation to their normal form, and
stops (changing nothing) when two lots of one drug in one store would become one."""

import sqlite3

import sqlalchemy as sa

from tests.test_migrations import assert_ok, flask_db

BEFORE, AFTER = "a1b2c3d4e5f6", "b2c3d4e5f6a1"


def _insert_lots(path, numbers: list[str]) -> None:
    """Rows as an older release wrote them; plain sqlite3, whose foreign keys are off (no stores or drugs
    are needed for what the migration reads)."""
    connection = sqlite3.connect(path)
    with connection:
        for n, number in enumerate(numbers, start=1):
            connection.execute(
                "INSERT INTO stock_lots (id, store_id, drug_id, lot_number, expiry_date, quantity_on_hand, "
                "quantity_reserved, unit_cost_fen, status, received_at, updated_at) VALUES "
                "(?, 1, 1, ?, '2027-01-15', 5, 0, 1500, 'available', '2026-11-01 00:00:00', "
                "'2026-11-01 00:00:00')", (n, number))
        connection.execute("INSERT INTO lot_recalls (id, drug_id, lot_number, reason, recalled_at) VALUES "
                           "(1, 1, ' sh01-0107 ', 'Notice 1', '2026-11-02 00:00:00')")
    connection.close()


def _lot_numbers(url: str) -> tuple[list[str], list[str]]:
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        lots = connection.execute(sa.text("SELECT lot_number FROM stock_lots ORDER BY id")).scalars().all()
        recalls = connection.execute(sa.text("SELECT lot_number FROM lot_recalls")).scalars().all()
    engine.dispose()
    return lots, recalls


def test_existing_lot_numbers_become_upper_case_trimmed_and_single_spaced(tmp_path):
    url = f"sqlite:///{tmp_path / 'lots.sqlite3'}"
    assert_ok(flask_db(url, "upgrade", BEFORE))
    _insert_lots(tmp_path / "lots.sqlite3", ["sh01-0107", " Ab 12\t34 ", "ALREADY-1"])
    assert_ok(flask_db(url, "upgrade", AFTER))
    assert _lot_numbers(url) == (["SH01-0107", "AB 12 34", "ALREADY-1"], ["SH01-0107"])


def test_two_lots_that_would_become_one_stop_the_upgrade_and_nothing_changes(tmp_path):
    url = f"sqlite:///{tmp_path / 'clash.sqlite3'}"
    assert_ok(flask_db(url, "upgrade", BEFORE))
    _insert_lots(tmp_path / "clash.sqlite3", ["sh01-0107", "SH01-0107", "other"])
    result = flask_db(url, "upgrade", AFTER)
    assert result.returncode != 0
    assert "stock_lots: ids 1, 2 would all become lot 'SH01-0107'" in result.output
    assert _lot_numbers(url) == (["sh01-0107", "SH01-0107", "other"], [" sh01-0107 "])
