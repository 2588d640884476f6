"""`flask inventory verify` passes while every lot equals its ledger, and names each lot that does not."""

import sqlalchemy as sa

from app.inventory import ledger, services
from app.inventory.models import MovementKind, StockMovement
from tests import factories
from tests.inventory.conftest import in_days


def verify(app):
    return app.test_cli_runner().invoke(args=["inventory", "verify"])


def test_verify_passes_after_receiving_reserving_dispensing_and_writing_off(app, db, stock):
    first = stock.receive("A1", in_days(200), 10)
    second = stock.receive("A2", in_days(300), 4)
    services.reserve(stock.store, {first.drug: 12}, 30, ("order", 1), stock.pharmacist)
    services.dispense(stock.store, {first.drug: 11}, ("order", 1), stock.pharmacist,
                      patient=factories.make_patient())
    services.release(stock.store, ("order", 1), stock.pharmacist)
    services.write_off(second, 1, "damaged", stock.pharmacist)
    assert [(lot.quantity_on_hand, lot.quantity_reserved) for lot in (first, second)] == [(0, 0), (2, 0)]
    result = verify(app)
    assert result.exit_code == 0, result.output
    movements = db.session.scalar(sa.select(sa.func.count()).select_from(StockMovement))
    assert result.output == f"Ledger OK: 2 lots agree with their {movements} ledger rows.\n"


def test_verify_fails_and_names_a_lot_whose_quantity_was_changed_behind_the_ledger(app, db, stock):
    lot = stock.receive("A1", in_days(200), 10)
    services.reserve(stock.store, {lot.drug: 3}, 30, ("order", 1), stock.pharmacist)
    db.session.execute(sa.text("UPDATE stock_lots SET quantity_on_hand = 12, quantity_reserved = 2 "
                               "WHERE id = :id"), {"id": lot.id})
    result = verify(app)
    assert result.exit_code == 1
    where = f"lot {lot.id} ({stock.store.code}, AMLODIPINE-5MG-TAB, lot A1)"
    assert f"MISMATCH {where}: on hand is 12 but its ledger rows sum to 10\n" in result.output
    assert f"MISMATCH {where}: reserved is 2 but its ledger rows sum to 3\n" in result.output
    assert "2 mismatch(es) between the stock lots and the ledger." in result.output


def test_verify_finds_an_order_that_gave_back_more_than_it_held(app, db, stock):
    lot = stock.receive("A1", in_days(200), 10)
    services.reserve(stock.store, {lot.drug: 2}, 30, ("order", 1), stock.pharmacist)
    # The lot's totals still add up; only the orders' shares do not.
    db.session.add_all([
        StockMovement(lot_id=lot.id, kind=MovementKind.RESERVATION, reserved_change=1, reference_type="order",
                      reference_id=1),
        StockMovement(lot_id=lot.id, kind=MovementKind.RELEASE, reserved_change=-1, reference_type="order",
                      reference_id=2),
    ])
    db.session.flush()
    [mismatch] = ledger.verify()
    assert str(mismatch) == (f"lot {lot.id} ({stock.store.code}, AMLODIPINE-5MG-TAB, lot A1): reservation "
                             "order#2 holds -1 (more released or dispensed than reserved)")
    assert verify(app).exit_code == 1
