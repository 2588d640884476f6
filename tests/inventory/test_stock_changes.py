"""Counts, adjustments and write-offs with reason codes; the expiry job; the ledger stays append-only."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError, IntegrityError

from app import worker
from app.inventory import ledger, services
from app.inventory.models import LedgerAppendOnlyError, LotStatus, MovementKind, StockLot, StockMovement
from tests import factories
from tests.inventory.conftest import SHANGHAI, in_days, ledger_rows
from tests.inventory.test_receiving import refused


@pytest.fixture
def lot(stock):
    return stock.receive("A1", in_days(365), 10)


def test_an_adjustment_moves_the_lot_and_writes_its_reason(db, stock, lot):
    services.adjust(lot, -2, "count", stock.pharmacist, note="two packs missing at the monthly count")
    services.adjust(lot, "1", "found", stock.pharmacist)
    assert lot.quantity_on_hand == 9
    rows = ledger_rows(lot)[1:]
    assert [(row.kind, row.quantity, row.reason) for row in rows] == [
        (MovementKind.ADJUSTMENT, -2, "count"), (MovementKind.ADJUSTMENT, 1, "found")]
    assert rows[0].note == "two packs missing at the monthly count"
    assert ledger.verify() == []


def test_a_count_adjusts_the_lot_to_what_is_on_the_shelf(db, stock, lot):
    assert services.record_count(lot, 10, stock.pharmacist) is None  # the count agrees: nothing to write
    row = services.record_count(lot, 7, stock.pharmacist)
    assert (row.kind, row.quantity, row.reason, lot.quantity_on_hand) == (
        MovementKind.ADJUSTMENT, -3, "count", 7)
    assert refused(db, services.record_count, lot, -1, stock.pharmacist) == (
        "Enter the number of packs counted, 0 or more.")


@pytest.mark.parametrize(("change", "reason", "note", "message"), [
    (0, "count", "", "Enter a whole number of packs other than 0 (negative to reduce)."),
    (1.5, "count", "", "Enter a whole number of packs other than 0 (negative to reduce)."),
    (-1, "because", "", "Choose a reason from the list."),
    (-1, "other", "  ", "Explain the other reason in the note."),
    (-11, "count", "", "Lot A1 has only 10 packs on hand."),
])
def test_a_bad_adjustment_is_refused(db, stock, lot, change, reason, note, message):
    assert refused(db, services.adjust, lot, change, reason, stock.pharmacist, note) == message


def test_reserved_packs_cannot_be_adjusted_or_written_off_away(db, stock, lot):
    services.reserve(stock.store, {lot.drug: 8}, 30, ("order", 1), stock.pharmacist)
    message = ("8 packs of lot A1 are reserved for orders; release them before taking more than 2 packs off "
               "the shelf.")
    assert refused(db, services.adjust, lot, -3, "count", stock.pharmacist) == message
    assert refused(db, services.write_off, lot, 3, "damaged", stock.pharmacist) == message
    services.write_off(lot, 2, "damaged", stock.pharmacist)
    assert (lot.quantity_on_hand, lot.quantity_reserved) == (8, 8)


def test_a_write_off_takes_packs_off_the_books_for_good(db, stock, lot):
    row = services.write_off(lot, 4, "damaged", stock.pharmacist, note="crushed in the fridge door")
    assert (row.kind, row.quantity, row.reason, lot.quantity_on_hand) == (
        MovementKind.WRITE_OFF, -4, "damaged", 6)
    assert refused(db, services.write_off, lot, 1, "spilled", stock.pharmacist) == (
        "Choose a reason from the list.")
    assert refused(db, services.write_off, lot, -1, "damaged", stock.pharmacist) == (
        "Enter a whole number of packs, at least 1.")
    assert refused(db, services.write_off, 987654, 1, "damaged", stock.pharmacist) == "Unknown lot."


def expiry_moment(day, zone=SHANGHAI, at=time(0, 30)) -> datetime:
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


def test_the_expiry_job_marks_lots_past_expiry_in_their_store_time_zone(db, stock):
    west = factories.make_store(time_zone="America/Los_Angeles")
    expiry = in_days(5)
    here = stock.receive("E1", expiry, 3, at=in_days(-200))
    there = stock.receive("E1", expiry, 3, at=in_days(-200), into=west)
    fresh = stock.receive("F1", in_days(365), 3)
    # Half past midnight in Shanghai the day after expiry: still the expiry day in Los Angeles.
    now = expiry_moment(expiry + timedelta(days=1))
    assert services.expire_lots(100, now=now) == 1
    assert (here.status, there.status, fresh.status) == (
        LotStatus.EXPIRED, LotStatus.AVAILABLE, LotStatus.AVAILABLE)
    [*_, row] = ledger_rows(here)
    assert (row.kind, row.new_status, row.reason, row.quantity, row.user_id) == (
        MovementKind.STATUS_CHANGE, LotStatus.EXPIRED, "expired", 0, None)
    assert here.quantity_on_hand == 3  # on the shelf until written off
    later = expiry_moment(expiry + timedelta(days=1), ZoneInfo("America/Los_Angeles"))
    assert services.expire_lots(100, now=later) == 1
    assert services.expire_lots(100, now=later) == 0  # once only
    assert there.status == LotStatus.EXPIRED
    services.write_off(here, 3, "expired", stock.pharmacist)
    assert here.quantity_on_hand == 0
    assert ledger.verify() == []


def test_the_expiry_job_runs_in_the_worker_and_leaves_recalled_lots_alone(db, stock):
    stock.receive("E1", in_days(-1), 2, at=in_days(-200))
    recalled = stock.receive("R1", in_days(-1), 2, at=in_days(-200))
    ledger.change_status(recalled, LotStatus.RECALLED, "recalled", user=stock.pharmacist)
    db.session.commit()
    assert worker.run_once()["expire-stock-lots"] == 1  # (the worker ends its session)
    statuses = dict(db.session.execute(sa.select(StockLot.lot_number, StockLot.status)).all())
    assert statuses == {"E1": LotStatus.EXPIRED, "R1": LotStatus.RECALLED}


def test_ledger_rows_cannot_be_changed_or_deleted(db, stock, lot):
    [row] = ledger_rows(lot)
    with pytest.raises(LedgerAppendOnlyError), db.session.begin_nested():
        row.quantity = 50
        db.session.flush()
    db.session.expire_all()
    with pytest.raises(LedgerAppendOnlyError), db.session.begin_nested():
        db.session.delete(row)
        db.session.flush()
    db.session.expire_all()
    # Underneath the application too: a trigger on both databases refuses it.
    for statement in ("UPDATE stock_movements SET quantity = 50 WHERE id = :id",
                      "DELETE FROM stock_movements WHERE id = :id"):
        with pytest.raises(DBAPIError, match="append-only"), db.session.begin_nested():
            db.session.execute(sa.text(statement), {"id": row.id})
    assert [r.quantity for r in ledger_rows(lot)] == [10]


@pytest.mark.parametrize("assignment", [
    "quantity_on_hand = -1", "quantity_reserved = -1", "quantity_reserved = quantity_on_hand + 1",
])
def test_the_database_refuses_impossible_lot_quantities(db, stock, lot, assignment):
    with pytest.raises(IntegrityError), db.session.begin_nested():
        db.session.execute(sa.text(f"UPDATE stock_lots SET {assignment} WHERE id = :id"),  # noqa: S608
                           {"id": lot.id})


@pytest.mark.parametrize("fields", [
    dict(kind=MovementKind.DISPENSE, quantity=-1, reserved_change=0, reference_type="order", reference_id=1),
    dict(kind=MovementKind.RECEIPT, quantity=-1),
    dict(kind=MovementKind.RESERVATION, reserved_change=1),  # no order
    dict(kind=MovementKind.WRITE_OFF, quantity=-1),  # no reason
    dict(kind=MovementKind.STATUS_CHANGE, reason="expired"),  # no status
])
def test_the_database_refuses_a_ledger_row_of_the_wrong_shape(db, stock, lot, fields):
    with pytest.raises(IntegrityError), db.session.begin_nested():
        db.session.add(StockMovement(lot_id=lot.id, **fields))
        db.session.flush()
