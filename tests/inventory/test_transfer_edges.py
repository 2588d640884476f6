"""Which stock another store may send for a patient's supply, at its edges: a lot must stay in date for
the supply plus the 3 days a transfer takes, and for at least 30 days; one day short and the store that
lacks the medicine is not offered."""

import pytest
from sqlalchemy import select

from app.extensions import db as _db
from app.inventory import services
from app.inventory.models import Store
from tests.inventory.conftest import METFORMIN, in_days
from tests.inventory.transfer_helpers import make_store


@pytest.fixture
def two_stores(stock):
    """A store with metformin to send and one without any; the fixture's own store is closed."""
    for store in _db.session.scalars(select(Store)):
        store.is_active = False
    stock.sender, stock.empty = make_store("SEND"), make_store("EMPTY")
    return stock


def _with_lot(stock, days_left: int):
    """The sender's only metformin lot, expiring `days_left` days from today (received long ago)."""
    stock.receive("M-1", in_days(days_left), 10, METFORMIN, into=stock.sender, at=in_days(-100))


def offered_after_transfer(stock, supply_days: int) -> list[str]:
    found = services.stores_that_can_fill({stock.drugs[METFORMIN]: 2}, supply_days)
    return [option.store.code for option in found.after_transfer]


@pytest.mark.parametrize(("days_left", "offered"), [
    pytest.param(31, True, id="28-day-supply-plus-3-days-transit"),
    pytest.param(30, False, id="one-day-short"),
])
def test_a_28_day_supply_may_travel_on_a_lot_lasting_31_days(db, two_stores, days_left, offered):
    _with_lot(two_stores, days_left)
    assert (offered_after_transfer(two_stores, 28) == ["EMPTY"]) is offered


@pytest.mark.parametrize(("days_left", "offered"), [
    pytest.param(30, True, id="the-30-day-minimum"),
    pytest.param(29, False, id="one-day-short"),
])
def test_a_short_supply_still_needs_a_lot_lasting_30_days(db, two_stores, days_left, offered):
    _with_lot(two_stores, days_left)
    assert (offered_after_transfer(two_stores, 7) == ["EMPTY"]) is offered
