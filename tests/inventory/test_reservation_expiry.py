"""A reservation an order did not dispense within RESERVATION_HOLD_HOURS is given back by the worker."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app import worker
from app.database import utcnow
from app.inventory import ledger, services
from app.inventory.models import MovementKind, StockLot, StockMovement
from tests import factories
from tests.inventory.conftest import AMLODIPINE, in_days, ledger_rows
from tests.inventory.transfer_helpers import make_store

ORDER = ("order", 41)


@pytest.fixture
def lots(stock):
    stock.patient = factories.make_patient()
    return stock.receive("H-1", in_days(200), 3), stock.receive("H-2", in_days(300), 5)


def reserve(stock, packs, order=ORDER):
    return services.reserve(stock.store, {stock.drugs[AMLODIPINE]: packs}, 30, order, stock.pharmacist)


def hours_later(hours: float):
    return utcnow() + timedelta(hours=hours)


def test_a_reservation_not_dispensed_within_48_hours_is_released(app, db, stock, lots):
    assert app.config["RESERVATION_HOLD_HOURS"] == 48
    reserve(stock, 6)
    assert services.release_expired_reservations(100, now=hours_later(47)) == 0
    assert [lot.quantity_reserved for lot in lots] == [3, 3]
    assert services.release_expired_reservations(100, now=hours_later(49)) == 1
    assert [lot.quantity_reserved for lot in lots] == [0, 0]
    rows = [row for lot in lots for row in ledger_rows(lot) if row.kind == MovementKind.RELEASE]
    assert [(row.reserved_change, row.reason, row.reference_type, row.reference_id) for row in rows] == [
        (-3, "reservation_expired", *ORDER), (-3, "reservation_expired", *ORDER)]
    assert ledger.holdings(ORDER, stock.store.id) == {}
    assert services.release_expired_reservations(100, now=hours_later(50)) == 0  # once only
    assert ledger.verify() == []


def test_what_was_dispensed_stays_dispensed_and_only_the_rest_is_released(db, stock, lots):
    reserve(stock, 5)
    services.dispense(stock.store, {stock.drugs[AMLODIPINE]: 4}, ORDER, stock.pharmacist,
                      patient=stock.patient)
    assert services.release_expired_reservations(100, now=hours_later(49)) == 1
    assert [(lot.quantity_on_hand, lot.quantity_reserved) for lot in lots] == [(0, 0), (4, 0)]
    reserve(stock, 1, ("order", 42))
    services.dispense(stock.store, {stock.drugs[AMLODIPINE]: 1}, ("order", 42), stock.pharmacist,
                      patient=stock.patient)
    assert services.release_expired_reservations(100, now=hours_later(49)) == 0  # nothing left to release
    assert ledger.verify() == []


def test_stock_picked_for_a_transfer_is_not_an_order_s_reservation(db, stock, lots):
    transfer = services.request_transfer(stock.store, make_store("RCV"), stock.drugs[AMLODIPINE], 2,
                                         stock.pharmacist)
    services.pick(transfer, stock.pharmacist)
    assert services.release_expired_reservations(100, now=hours_later(24 * 30)) == 0
    assert lots[0].quantity_reserved == 2


def test_the_hold_is_configurable_and_the_batch_limited(app, db, stock, lots, monkeypatch):
    monkeypatch.setitem(app.config, "RESERVATION_HOLD_HOURS", 2)
    reserve(stock, 1, ("order", 1))
    reserve(stock, 1, ("order", 2))
    reserve(stock, 1, ("order", 3))
    assert services.release_expired_reservations(100, now=hours_later(1)) == 0
    assert services.release_expired_reservations(2, now=hours_later(3)) == 2
    assert services.release_expired_reservations(2, now=hours_later(3)) == 1
    assert sum(lot.quantity_reserved for lot in lots) == 0


def test_the_worker_runs_the_job(app, db, stock, lots, monkeypatch):
    monkeypatch.setitem(app.config, "RESERVATION_HOLD_HOURS", 0)
    reserve(stock, 2)
    db.session.commit()
    assert worker.run_once()["release-expired-reservations"] == 1  # (the worker ends its session)
    reserved = db.session.scalar(sa.select(sa.func.sum(StockLot.quantity_reserved)))
    assert reserved == 0
    reasons = db.session.scalars(sa.select(StockMovement.reason)
                                 .where(StockMovement.kind == MovementKind.RELEASE))
    assert reasons.all() == ["reservation_expired"]
