"""Reserving for an order first-expiry-first-out, releasing, and dispensing only in-date, reserved stock."""

import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.errors import DomainError
from app.inventory import ledger, services
from app.inventory.models import LotStatus, MovementKind
from tests import factories
from tests.inventory.conftest import AMLODIPINE, METFORMIN, footprint, in_days, ledger_rows, moment
from tests.inventory.test_receiving import refused

ORDER = ("order", 7)


@pytest.fixture
def three_lots(stock):
    """Amlodipine lots expiring in about 1, 6 and 12 months, 5 packs each."""
    one = stock.receive("M01", in_days(30), 5, at=in_days(-100))  # received when it still had 130 days
    six = stock.receive("M06", in_days(182), 5)
    twelve = stock.receive("M12", in_days(365), 5)
    return one, six, twelve


def reserve(stock, packs, days=60, code=AMLODIPINE, order=ORDER, **kwargs):
    return services.reserve(stock.store, {stock.drugs[code]: packs}, days, order, stock.pharmacist, **kwargs)


def dispense(stock, packs, code=AMLODIPINE, order=ORDER, **kwargs):
    kwargs.setdefault("patient", stock.patient)
    return services.dispense(stock.store, {stock.drugs[code]: packs}, order, stock.pharmacist, **kwargs)


@pytest.fixture(autouse=True)
def _patient(stock):
    stock.patient = factories.make_patient()


def test_fefo_skips_the_lot_expiring_within_the_supply_and_uses_the_6_month_lot_first(db, stock, three_lots):
    reservation = reserve(stock, 7, days=60)
    assert [(row.lot.lot_number, row.reserved_change) for row in reservation] == [("M06", 5), ("M12", 2)]
    assert [lot.quantity_reserved for lot in three_lots] == [0, 5, 2]
    handed_out = dispense(stock, 7)
    assert [(row.lot.lot_number, row.quantity) for row in handed_out] == [("M06", -5), ("M12", -2)]
    assert [(lot.quantity_on_hand, lot.quantity_reserved) for lot in three_lots] == [(5, 0), (0, 0), (3, 0)]
    assert ledger.verify() == []


def test_a_short_supply_takes_the_earliest_lot_that_lasts_it(db, stock, three_lots):
    assert [row.lot.lot_number for row in reserve(stock, 2, days=20)] == ["M01"]


def test_only_lots_lasting_the_supply_count_as_available(db, stock, three_lots):
    message = refused(db, reserve, stock, 11, days=60)
    assert message == ("Not enough stock of Amlodipine (AMLODIPINE-5MG-TAB): 10 packs stay in date for a "
                       "60-day supply, 11 requested.")


def test_an_expired_lot_is_never_reserved_even_before_the_expiry_job_ran(db, stock):
    lot = stock.receive("OLD", in_days(-1), 5, at=in_days(-200))
    assert lot.status == LotStatus.AVAILABLE  # the nightly job has not marked it yet
    assert "0 packs stay in date for a 0-day supply, 1 requested" in refused(db, reserve, stock, 1, days=0)
    services.expire_lots(100)
    assert lot.status == LotStatus.EXPIRED
    assert "0 packs stay in date" in refused(db, reserve, stock, 1, days=0)


def test_a_lot_that_expires_between_reservation_and_dispensing_is_not_dispensed(db, stock):
    lot = stock.receive("SOON", in_days(10), 5, at=in_days(-100))
    reserve(stock, 2, days=7)
    later = moment(in_days(11))
    message = refused(db, dispense, stock, 2, now=later)
    assert message == (f"Lot SOON of Amlodipine (AMLODIPINE-5MG-TAB) expired on {in_days(10).isoformat()} "
                       "and may not be dispensed. Release the reservation and reserve in-date stock.")
    assert services.expire_lots(100, now=later) == 1
    assert "expired on" in refused(db, dispense, stock, 1, now=later)
    services.release(stock.store, ORDER, stock.pharmacist)
    assert (lot.quantity_on_hand, lot.quantity_reserved, lot.status) == (5, 0, LotStatus.EXPIRED)
    assert ledger.verify() == []


def test_a_lot_quarantined_after_reservation_is_not_dispensed(db, stock):
    lot = stock.receive("Q1", in_days(365), 5)
    reserve(stock, 2)
    ledger.change_status(lot, LotStatus.QUARANTINED, "temperature_excursion", user=stock.pharmacist)
    assert refused(db, dispense, stock, 2) == (
        "Lot Q1 of Amlodipine (AMLODIPINE-5MG-TAB) is quarantined and may not be dispensed. Release the "
        "reservation and reserve stock again.")


def test_dispensing_more_than_reserved_is_refused(db, stock, three_lots):
    reserve(stock, 2)
    assert refused(db, dispense, stock, 3) == (
        "Only 2 packs of Amlodipine (AMLODIPINE-5MG-TAB) are reserved for this order; 3 cannot be dispensed.")
    assert refused(db, dispense, stock, 1, code=METFORMIN) == (
        "Nothing of Metformin (METFORMIN-500MG-TAB) is reserved for this order at this store.")
    assert refused(db, dispense, stock, 1, order=("order", 8)) == (
        "Nothing of Amlodipine (AMLODIPINE-5MG-TAB) is reserved for this order at this store.")


def test_dispensing_part_and_releasing_the_rest_leaves_nothing_held(db, stock, three_lots):
    reserve(stock, 4)
    dispense(stock, 3)
    assert ledger.holdings(ORDER, stock.store.id) == {three_lots[1].id: 1}
    services.release(stock.store, ORDER, stock.pharmacist, reason="cancelled")
    assert ledger.holdings(ORDER, stock.store.id) == {}
    assert [(lot.quantity_on_hand, lot.quantity_reserved) for lot in three_lots] == [(5, 0), (2, 0), (5, 0)]
    assert ledger.verify() == []


def test_a_partial_release_gives_back_the_latest_expiry_first(db, stock, three_lots):
    reserve(stock, 7)  # 5 of M06, 2 of M12
    [row] = services.release(stock.store, ORDER, stock.pharmacist, {stock.drugs[AMLODIPINE]: 1})
    assert (row.kind, row.lot.lot_number, row.reserved_change) == (MovementKind.RELEASE, "M12", -1)


def test_releasing_more_than_reserved_or_nothing_is_refused(db, stock, three_lots):
    assert refused(db, services.release, stock.store, ORDER, stock.pharmacist) == (
        "Nothing is reserved for this order at this store.")
    reserve(stock, 2)
    assert refused(db, services.release, stock.store, ORDER, stock.pharmacist, reason="bored") == (
        "Choose a reason from the list.")
    assert refused(db, services.release, stock.store, ORDER, stock.pharmacist,
                   {stock.drugs[AMLODIPINE]: 3}) == (
        "Only 2 packs of Amlodipine (AMLODIPINE-5MG-TAB) are reserved for this order; 3 cannot be released.")


def test_an_order_reserves_a_drug_once(db, stock, three_lots):
    reserve(stock, 1)
    assert refused(db, reserve, stock, 1) == (
        "Amlodipine (AMLODIPINE-5MG-TAB) is already reserved for this order; release it first.")


def test_a_reservation_is_all_or_nothing(db, stock, three_lots):
    stock.receive("MET-1", in_days(365), 2, METFORMIN)
    items = {stock.drugs[AMLODIPINE]: 2, stock.drugs[METFORMIN]: 3}
    before = footprint(db)
    with pytest.raises(DomainError) as error:
        services.reserve(stock.store, items, 30, ORDER, stock.pharmacist)
    assert footprint(db) == before
    assert list(error.value.reasons.values()) == [
        "Not enough stock of Metformin (METFORMIN-500MG-TAB): 2 packs stay in date for a 30-day supply, "
        "3 requested."]


@pytest.mark.parametrize(("items", "message"), [
    ({987654: 1}, "Unknown drug."),
    ({}, "Add at least one drug."),
    (None, "Add at least one drug."),
])
def test_bad_items_are_refused(db, stock, three_lots, items, message):
    assert refused(db, services.reserve, stock.store, items, 30, ORDER, stock.pharmacist) == message


@pytest.mark.parametrize("packs", [0, -1, 1.5])
def test_a_reservation_needs_whole_packs(db, stock, three_lots, packs):
    assert refused(db, reserve, stock, packs) == "Enter a whole number of packs, at least 1."


@pytest.mark.parametrize("days", [-1, 2.5, "a week", None])
def test_the_days_supply_is_a_whole_number(db, stock, three_lots, days):
    assert refused(db, reserve, stock, 1, days=days) == "Enter the days' supply as a whole number of days."


def test_an_inactive_store_takes_no_reservations(db, stock, three_lots):
    stock.store.is_active = False
    assert refused(db, reserve, stock, 1) == "This store is inactive; it cannot take orders."


def test_dispensing_is_audited_against_the_patient(db, stock, three_lots):
    reserve(stock, 2)
    dispense(stock, 2)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "stock.dispensed"))
    assert (event.patient_id, event.actor_id, event.object_type, event.object_id) == (
        stock.patient.id, stock.pharmacist.id, "order", "7")
    assert "M06×2" in event.detail
    assert [row.kind for row in ledger_rows(three_lots[1])] == [
        MovementKind.RECEIPT, MovementKind.RESERVATION, MovementKind.DISPENSE]
