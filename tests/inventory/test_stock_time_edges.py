"""Stock's day and hour limits at their edges: first-expiry-first-out takes the earliest lot still in date
on the day the supply runs out (that day counts) and skips one expiring the day before; a lot is
dispensed on its expiry date and not the day after; an order's reservation is held 48 hours and given
back the first moment after."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db as _db
from app.inventory import services
from app.inventory.models import MovementKind, StockMovement
from tests import factories
from tests.inventory.conftest import AMLODIPINE, in_days, moment
from tests.inventory.test_receiving import refused

ORDER = ("order", 11)


@pytest.fixture(autouse=True)
def _patient(stock):
    stock.patient = factories.make_patient()


def reserve(stock, packs, days, order=ORDER, **kwargs):
    return services.reserve(stock.store, {stock.drugs[AMLODIPINE]: packs}, days, order, stock.pharmacist,
                            **kwargs)


def dispense(stock, packs, order=ORDER, **kwargs):
    return services.dispense(stock.store, {stock.drugs[AMLODIPINE]: packs}, order, stock.pharmacist,
                             patient=stock.patient, **kwargs)


@pytest.fixture
def soon_and_later(stock):
    """A lot expiring in 30 days (received when it had 130 left), and one in a year."""
    return (stock.receive("SOON", in_days(30), 5, at=in_days(-100)),
            stock.receive("LATER", in_days(365), 5))


def test_a_30_day_supply_takes_the_lot_expiring_in_30_days_first(db, stock, soon_and_later):
    assert [(row.lot.lot_number, row.reserved_change) for row in reserve(stock, 2, days=30)] == [("SOON", 2)]


def test_a_31_day_supply_skips_the_lot_expiring_in_30_days(db, stock, soon_and_later):
    assert [(row.lot.lot_number, row.reserved_change) for row in reserve(stock, 2, days=31)] == [("LATER", 2)]


def test_a_29_day_supply_takes_the_earlier_lot_and_then_the_later_one(db, stock, soon_and_later):
    assert [(row.lot.lot_number, row.reserved_change) for row in reserve(stock, 7, days=29)] == [
        ("SOON", 5), ("LATER", 2)]


def test_only_lots_in_date_on_the_day_the_supply_runs_out_are_counted(db, stock):
    stock.receive("SOON", in_days(30), 5, at=in_days(-100))
    assert refused(db, reserve, stock, 1, 31) == (
        "Not enough stock of Amlodipine (AMLODIPINE-5MG-TAB): 0 packs stay in date for a 31-day supply, "
        "1 requested.")
    assert [row.lot.lot_number for row in reserve(stock, 1, 30)] == ["SOON"]


def test_a_lot_is_dispensed_on_its_expiry_date(db, stock):
    stock.receive("SOON", in_days(10), 5, at=in_days(-100))
    reserve(stock, 2, days=7)
    handed_out = dispense(stock, 2, now=moment(in_days(10)))
    assert [(row.lot.lot_number, row.quantity) for row in handed_out] == [("SOON", -2)]


def test_a_lot_is_not_dispensed_the_day_after_its_expiry_date(db, stock):
    stock.receive("SOON", in_days(10), 5, at=in_days(-100))
    reserve(stock, 2, days=7)
    assert refused(db, dispense, stock, 2, now=moment(in_days(11))) == (
        f"Lot SOON of Amlodipine (AMLODIPINE-5MG-TAB) expired on {in_days(10).isoformat()} and may not be "
        "dispensed. Release the reservation and reserve in-date stock.")


def test_a_reservation_is_held_48_hours_and_given_back_the_moment_after(app, db, stock, soon_and_later):
    reserve(stock, 3, days=30)
    _db.session.commit()
    reserved_at = _db.session.scalar(select(StockMovement.created_at).where(
        StockMovement.kind == MovementKind.RESERVATION, StockMovement.reference_id == ORDER[1]))
    held_until = reserved_at + timedelta(hours=48)
    assert services.release_expired_reservations(100, now=held_until) == 0
    assert sum(lot.quantity_reserved for lot in soon_and_later) == 3
    assert services.release_expired_reservations(100, now=held_until + timedelta(seconds=1)) == 1
    _db.session.commit()
    assert sum(lot.quantity_reserved for lot in soon_and_later) == 0
