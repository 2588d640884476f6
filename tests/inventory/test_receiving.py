"""Goods received: a pharmacist books a delivery of a lot into their store, or is told clearly why not."""

from decimal import Decimal

import pytest

from app.errors import DomainError
from app.inventory import ledger, services
from app.inventory.models import LotStatus, MovementKind
from tests import factories
from tests.inventory.conftest import AMLODIPINE, INSULIN, footprint, in_days, ledger_rows

WHOLE_PACKS = "Enter a whole number of packs, at least 1."


def refused(db, call, *args, **kwargs) -> str:
    """Call a service that must refuse; check it wrote nothing; return its message."""
    before = footprint(db)
    with pytest.raises(DomainError) as error:
        call(*args, **kwargs)
    assert footprint(db) == before
    return str(error.value)


def test_a_received_lot_is_on_hand_with_one_ledger_row(db, stock):
    lot = stock.receive("A2026-001", in_days(365), 12, cost=1480)
    assert (lot.quantity_on_hand, lot.quantity_reserved, lot.status) == (12, 0, LotStatus.AVAILABLE)
    assert (lot.store, lot.drug.code, lot.expiry_date, lot.unit_cost_fen) == (
        stock.store, AMLODIPINE, in_days(365), 1480)
    [row] = ledger_rows(lot)
    assert (row.kind, row.quantity, row.reserved_change, row.user_id) == (
        MovementKind.RECEIPT, 12, 0, stock.pharmacist.id)
    assert ledger.verify() == []


def test_the_same_lot_received_again_adds_to_it_at_the_average_cost(db, stock):
    first = stock.receive("A2026-001", in_days(365), 10, cost=1500)
    again = stock.receive(" A2026-001 ", in_days(365), "30", cost=1700)
    assert again is first
    assert (again.quantity_on_hand, again.unit_cost_fen) == (40, 1650)
    assert [row.quantity for row in ledger_rows(again)] == [10, 30]


def test_the_same_lot_in_another_store_is_a_lot_of_its_own(db, stock):
    other_store = factories.make_store()
    here = stock.receive("A2026-001", in_days(365), 10)
    there = stock.receive("A2026-001", in_days(365), 4, into=other_store)
    assert here.id != there.id
    assert (here.quantity_on_hand, there.quantity_on_hand) == (10, 4)


def test_an_expired_lot_is_refused(db, stock):
    message = refused(db, stock.receive, "OLD-1", in_days(-1), 5)
    assert message == f"This lot expired on {in_days(-1).isoformat()}; expired stock cannot be received."


def test_a_lot_expiring_within_the_minimum_shelf_life_is_refused(app, db, stock):
    message = refused(db, stock.receive, "SHORT-1", in_days(89), 5)
    assert message == (f"This lot expires on {in_days(89).isoformat()}, in less than 90 days; stock is "
                       "received only with at least 90 days of shelf life left.")
    assert stock.receive("JUST-1", in_days(90), 5).quantity_on_hand == 5


def test_the_minimum_shelf_life_is_configurable(app, db, stock, monkeypatch):
    monkeypatch.setitem(app.config, "INVENTORY_MIN_SHELF_DAYS", 30)
    assert stock.receive("SHORT-1", in_days(45), 5).quantity_on_hand == 5
    assert "in less than 30 days" in refused(db, stock.receive, "SHORT-2", in_days(29), 5)


@pytest.mark.parametrize("quantity", [0, -3, 2.5, "3.5", "three", "", None, True, Decimal("NaN")])
def test_a_quantity_that_is_not_a_positive_whole_number_of_packs_is_refused(db, stock, quantity):
    error_message = refused(db, stock.receive, "A2026-001", in_days(365), quantity)
    assert error_message == WHOLE_PACKS


def test_a_quantity_beyond_any_real_delivery_is_refused(db, stock):
    assert refused(db, stock.receive, "A2026-001", in_days(365), 100_001) == (
        "Enter at most 100000 packs at a time.")
    assert stock.receive("A2026-001", in_days(365), 100_000).quantity_on_hand == 100_000


def test_the_reason_names_the_form_field(db, stock):
    with pytest.raises(DomainError) as error:
        stock.receive("A2026-001", in_days(365), -1)
    assert error.value.reasons == {"quantity": WHOLE_PACKS}


@pytest.mark.parametrize("cost", [-1, "12.5", None, 100_000_001])
def test_a_unit_cost_that_is_not_whole_fen_is_refused(db, stock, cost):
    assert refused(db, stock.receive, "A2026-001", in_days(365), 5, cost=cost) == (
        "Enter the unit cost as a whole number of fen, 0 or more.")


@pytest.mark.parametrize("lot_number", ["", "   ", None])
def test_a_lot_number_is_required(db, stock, lot_number):
    assert refused(db, stock.receive, lot_number, in_days(365), 5) == "Enter the lot number."


def test_an_unknown_drug_or_store_is_refused(db, stock):
    assert refused(db, services.receive, stock.store, 987654, "A1", in_days(365), 5, 100,
                   stock.pharmacist) == "Unknown drug."
    assert refused(db, services.receive, 987654, stock.drugs[AMLODIPINE], "A1", in_days(365), 5, 100,
                   stock.pharmacist) == "Unknown store."


def test_a_lot_number_reused_with_another_expiry_is_refused_anywhere_in_the_chain(db, stock):
    stock.receive("A2026-001", in_days(365), 10)
    for store in (stock.store, factories.make_store()):
        message = refused(db, stock.receive, "A2026-001", in_days(400), 5, into=store)
        assert message == (f"Lot A2026-001 of Amlodipine (AMLODIPINE-5MG-TAB) is already recorded with the "
                           f"expiry date {in_days(365).isoformat()}; check the lot number and the expiry "
                           "date.")


def test_an_inactive_store_cannot_receive_stock(db, stock):
    closed = factories.make_store(is_active=False)
    assert refused(db, stock.receive, "A2026-001", in_days(365), 5, into=closed) == (
        "This store is inactive; it cannot receive stock.")


def test_a_recalled_lot_is_not_received_again(db, stock):
    lot = stock.receive("A2026-001", in_days(365), 10)
    ledger.change_status(lot, LotStatus.RECALLED, "recalled", user=stock.pharmacist)
    db.session.flush()
    assert refused(db, stock.receive, "A2026-001", in_days(365), 5) == (
        "Lot A2026-001 of Amlodipine (AMLODIPINE-5MG-TAB) has been recalled; it cannot be received.")


def test_a_cold_chain_drug_needs_its_arrival_temperature(db, stock):
    message = refused(db, stock.receive, "INS-1", in_days(365), 5, INSULIN)
    assert message == ("Record the arrival temperature: Insulin glargine (INSULIN-GLARGINE-300IU-PEN) is a "
                       "cold-chain (2–8 °C) drug.")
    assert refused(db, stock.receive, "INS-1", in_days(365), 5, INSULIN, temperature="warm") == (
        "Enter the arrival temperature in °C, for example 5.0.")


def test_a_cold_chain_drug_received_at_12_degrees_lands_in_quarantine(db, stock):
    lot = stock.receive("INS-1", in_days(365), 6, INSULIN, temperature="12")
    assert (lot.status, lot.quantity_on_hand) == (LotStatus.QUARANTINED, 6)
    receipt, quarantine = ledger_rows(lot)
    assert (receipt.kind, receipt.quantity, receipt.temperature_c) == (
        MovementKind.RECEIPT, 6, Decimal("12.0"))
    assert (quarantine.kind, quarantine.new_status, quarantine.reason, quarantine.quantity) == (
        MovementKind.STATUS_CHANGE, LotStatus.QUARANTINED, "temperature_excursion", 0)
    # Quarantined stock is not for sale.
    with pytest.raises(DomainError, match="Not enough stock of Insulin glargine"):
        services.reserve(stock.store, {stock.drugs[INSULIN]: 1}, 28, ("order", 1), stock.pharmacist)


@pytest.mark.parametrize(("reading", "status"), [
    ("2", LotStatus.AVAILABLE), ("5.0", LotStatus.AVAILABLE), ("8", LotStatus.AVAILABLE),
    ("8.1", LotStatus.QUARANTINED), ("1.9", LotStatus.QUARANTINED), (-4, LotStatus.QUARANTINED),
])
def test_only_2_to_8_degrees_on_arrival_keeps_a_cold_chain_lot_available(db, stock, reading, status):
    assert stock.receive("INS-1", in_days(365), 2, INSULIN, temperature=reading).status == status


def test_an_excursion_quarantines_a_lot_already_on_the_shelf(db, stock):
    lot = stock.receive("INS-1", in_days(365), 4, INSULIN, temperature="4.5")
    stock.receive("INS-1", in_days(365), 2, INSULIN, temperature="11")
    assert (lot.status, lot.quantity_on_hand) == (LotStatus.QUARANTINED, 6)


def test_a_store_without_cold_chain_cannot_receive_a_cold_chain_drug(db, stock):
    ambient = factories.make_store(is_cold_chain_capable=False)
    assert refused(db, stock.receive, "INS-1", in_days(365), 2, INSULIN, temperature="5", into=ambient) == (
        "Insulin glargine (INSULIN-GLARGINE-300IU-PEN) needs the cold chain (2–8 °C); this store cannot "
        "store it.")
