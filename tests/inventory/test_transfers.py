"""Transfers between stores: picked FEFO and held, gone from every shelf in transit, arriving as the same
lot with the same expiry; cold chain, discrepancies, loss, cancellation and every refusal."""

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.accounts.models import Role
from app.errors import DomainError, InvalidTransition
from app.inventory import ledger, services
from app.inventory.models import LotStatus, MovementKind, StockLot, TransferStatus
from tests import factories
from tests.inventory.conftest import AMLODIPINE, INSULIN, METFORMIN, in_days, ledger_rows
from tests.inventory.transfer_helpers import make_store, refused


@pytest.fixture
def chain(stock):
    """The sender (stock.store) with two amlodipine lots; a receiver; a store without cold chain."""
    stock.receiver = make_store("RCV")
    stock.ambient = make_store("AMB", cold_chain=False)
    stock.early = stock.receive("E-200", in_days(200), 5, cost=1000)
    stock.late = stock.receive("L-365", in_days(365), 5, cost=1200)
    return stock


def request(chain, packs=7, code=AMLODIPINE, **kwargs):
    sender = kwargs.pop("sender", chain.store)
    receiver = kwargs.pop("receiver", chain.receiver)
    return services.request_transfer(sender, receiver, chain.drugs[code], packs, chain.pharmacist, **kwargs)


def on_hand(drug, *stores) -> int:
    """Packs of `drug` on hand in the given stores (every store when none is given)."""
    from app.extensions import db

    statement = (select(func.coalesce(func.sum(StockLot.quantity_on_hand), 0))
                 .where(StockLot.drug_id == drug.id))
    if stores:
        statement = statement.where(StockLot.store_id.in_([store.id for store in stores]))
    return db.session.scalar(statement)


def can_reserve(store, drug, packs, order) -> bool:
    try:
        services.reserve(store, {drug: packs}, 30, ("order", order), None)
    except DomainError:
        return False
    services.release(store, ("order", order), None)
    return True


def test_acceptance_4_a_transfer_is_unavailable_in_transit_and_arrives_as_the_same_lot_and_expiry(db, chain):
    drug = chain.drugs[AMLODIPINE]
    transfer = request(chain, 7)
    assert (transfer.status, transfer.packs_requested, transfer.lines) == (TransferStatus.REQUESTED, 7, [])

    services.pick(transfer, chain.pharmacist)
    assert [(line.lot_number, line.expiry_date, line.packs) for line in transfer.lines] == [
        ("E-200", in_days(200), 5), ("L-365", in_days(365), 2)]  # first expiry first
    assert (chain.early.quantity_reserved, chain.late.quantity_reserved) == (5, 2)
    assert not can_reserve(chain.store, drug, 4, 901)  # picked packs cannot be sold twice
    assert can_reserve(chain.store, drug, 3, 902)

    services.ship(transfer, chain.pharmacist)
    assert transfer.status == TransferStatus.SHIPPED
    assert [(lot.quantity_on_hand, lot.quantity_reserved) for lot in (chain.early, chain.late)] == [
        (0, 0), (3, 0)]
    assert on_hand(drug) == 3  # in transit: on no shelf of the chain
    assert on_hand(drug, chain.receiver) == 0
    assert not can_reserve(chain.receiver, drug, 1, 903)
    assert [(row.kind, row.quantity, row.reserved_change) for row in ledger_rows(chain.early)][-1] == (
        MovementKind.TRANSFER_OUT, -5, -5)

    services.receive_transfer(transfer, chain.pharmacist)
    assert transfer.status == TransferStatus.RECEIVED
    arrived = db.session.scalars(select(StockLot).where(StockLot.store_id == chain.receiver.id)
                                 .order_by(StockLot.lot_number)).all()
    assert [(lot.lot_number, lot.expiry_date, lot.quantity_on_hand, lot.status, lot.unit_cost_fen)
            for lot in arrived] == [("E-200", in_days(200), 5, LotStatus.AVAILABLE, 1000),
                                    ("L-365", in_days(365), 2, LotStatus.AVAILABLE, 1200)]
    [row] = ledger_rows(arrived[0])
    assert (row.kind, row.quantity, row.reference_type, row.reference_id) == (
        MovementKind.TRANSFER_IN, 5, "transfer", transfer.id)
    assert [line.packs_short for line in transfer.lines] == [0, 0]
    assert on_hand(drug) == 10
    assert can_reserve(chain.receiver, drug, 7, 904)
    assert ledger.verify() == []


def test_acceptance_4_a_cold_chain_transfer_read_at_12_degrees_lands_in_quarantine(db, chain):
    insulin = chain.drugs[INSULIN]
    chain.receive("INS-9", in_days(300), 4, INSULIN, temperature="5")
    transfer = request(chain, 3, INSULIN)
    services.pick(transfer, chain.pharmacist)
    services.ship(transfer, chain.pharmacist)
    services.receive_transfer(transfer, chain.pharmacist, temperature="12")
    lot = transfer.lines[0].received_lot
    assert (lot.store, lot.lot_number, lot.quantity_on_hand, lot.status) == (
        chain.receiver, "INS-9", 3, LotStatus.QUARANTINED)
    arrival, quarantine = ledger_rows(lot)
    assert (arrival.kind, arrival.temperature_c) == (MovementKind.TRANSFER_IN, Decimal("12.0"))
    assert (quarantine.new_status, quarantine.reason) == (LotStatus.QUARANTINED, "temperature_excursion")
    assert transfer.receipt_temperature_c == Decimal("12.0")
    assert not can_reserve(chain.receiver, insulin, 1, 905)
    assert ledger.verify() == []


def test_a_cold_chain_transfer_read_in_range_stays_available_and_needs_a_reading(db, chain):
    chain.receive("INS-9", in_days(300), 4, INSULIN, temperature="5")
    transfer = request(chain, 2, INSULIN)
    services.pick(transfer, chain.pharmacist)
    services.ship(transfer, chain.pharmacist)
    assert refused(db, services.receive_transfer, transfer, chain.pharmacist) == (
        "Record the arrival temperature: Insulin glargine (INSULIN-GLARGINE-300IU-PEN) is a cold-chain "
        "(2–8 °C) drug.")
    assert refused(db, services.receive_transfer, transfer, chain.pharmacist, temperature="cold") == (
        "Enter the arrival temperature in °C, for example 5.0.")
    services.receive_transfer(transfer, chain.pharmacist, temperature="6.5")
    assert transfer.lines[0].received_lot.status == LotStatus.AVAILABLE


@pytest.mark.parametrize("packs", [0, -3, "1.5", "two", None, 100_001])
def test_a_transfer_of_a_non_positive_or_non_whole_number_of_packs_is_refused(db, chain, packs):
    assert refused(db, request, chain, packs).startswith("Enter ")


def test_a_transfer_to_the_same_store_is_refused(db, chain):
    assert refused(db, request, chain, 2, receiver=chain.store) == (
        "A transfer goes to another store; choose a different store.")


def test_an_unknown_store_or_drug_is_refused(db, chain):
    assert refused(db, request, chain, 2, receiver=987654) == "Unknown store."
    assert refused(db, request, chain, 2, sender="nope") == "Unknown store."
    with pytest.raises(DomainError) as error:
        request(chain, 2, receiver=987654)
    assert list(error.value.reasons) == ["to_store"]
    assert refused(db, services.request_transfer, chain.store, chain.receiver, 987654, 2,
                   chain.pharmacist) == "Unknown drug."


def test_an_inactive_store_neither_sends_nor_receives(db, chain):
    chain.receiver.is_active = False
    assert refused(db, request, chain, 2) == "RCV is inactive; it cannot receive stock."
    assert refused(db, request, chain, 2, sender=chain.receiver, receiver=chain.store) == (
        "RCV is inactive; it cannot send stock.")


def test_a_cold_chain_drug_is_not_sent_to_a_store_without_cold_chain(db, chain):
    chain.receive("INS-9", in_days(300), 4, INSULIN, temperature="5")
    assert refused(db, request, chain, 1, INSULIN, receiver=chain.ambient) == (
        "Insulin glargine (INSULIN-GLARGINE-300IU-PEN) needs the cold chain (2–8 °C); AMB cannot store it.")
    assert request(chain, 1, AMLODIPINE, receiver=chain.ambient).status == TransferStatus.REQUESTED


def test_picking_needs_enough_free_stock_that_stays_in_date(db, chain):
    chain.receive("SOON", in_days(20), 9, at=in_days(-100))  # expires within 30 days: not sent
    services.reserve(chain.store, {chain.drugs[AMLODIPINE]: 2}, 30, ("order", 1), chain.pharmacist)
    transfer = request(chain, 9)
    assert refused(db, services.pick, transfer, chain.pharmacist) == (
        f"{chain.store.code} has 8 packs of Amlodipine (AMLODIPINE-5MG-TAB) free to send (in date for at "
        "least 30 more days and not reserved); 9 requested.")
    assert transfer.status == TransferStatus.REQUESTED
    assert request(chain, 1, METFORMIN).status == TransferStatus.REQUESTED  # requesting checks no stock
    metformin = request(chain, 1, METFORMIN)
    assert "has 0 packs of Metformin" in refused(db, services.pick, metformin, chain.pharmacist)


def test_each_step_happens_once_and_in_order(db, chain):
    transfer = request(chain, 2)
    number = transfer.id
    for call, message in [(services.ship, f"Transfer {number} is requested; it cannot be shipped."),
                          (services.receive_transfer,
                           f"Transfer {number} is requested; it cannot be received."),
                          (lambda t, u: services.mark_lost(t, u, "gone"),
                           f"Transfer {number} is requested; it cannot be marked lost.")]:
        with pytest.raises(InvalidTransition) as error:
            call(transfer, chain.pharmacist)
        assert str(error.value) == message
    services.pick(transfer, chain.pharmacist)
    assert refused(db, services.pick, transfer, chain.pharmacist) == (
        f"Transfer {number} is picked; it cannot be picked.")
    services.ship(transfer, chain.pharmacist)
    assert refused(db, services.cancel_transfer, transfer, chain.pharmacist) == (
        f"Transfer {number} is shipped; it cannot be cancelled.")
    services.receive_transfer(transfer, chain.pharmacist)
    assert refused(db, services.receive_transfer, transfer, chain.pharmacist) == (
        f"Transfer {number} is received; it cannot be received.")
    assert refused(db, services.pick, 987654, chain.pharmacist) == "Unknown transfer."


def test_receiving_more_than_shipped_or_an_unshipped_lot_is_refused(db, chain):
    transfer = request(chain, 7)
    services.pick(transfer, chain.pharmacist)
    services.ship(transfer, chain.pharmacist)
    assert refused(db, services.receive_transfer, transfer, chain.pharmacist,
                   received={"E-200": 6, "L-365": 2}) == (
        "6 packs of lot E-200 were entered but only 5 were shipped; receive packs that were not shipped as "
        "goods received.")
    assert refused(db, services.receive_transfer, transfer, chain.pharmacist,
                   received={"E-200": 5, "L-365": 2, "X-1": 1}) == "Lot X-1 was not shipped on this transfer."
    assert refused(db, services.receive_transfer, transfer, chain.pharmacist, received={"E-200": 5}) == (
        "Enter the packs of lot L-365 that arrived (0 if none).")
    assert refused(db, services.receive_transfer, transfer, chain.pharmacist,
                   received={"E-200": -1, "L-365": 2}) == "Enter a whole number of packs, 0 or more."
    assert transfer.status == TransferStatus.SHIPPED


def test_fewer_packs_than_shipped_is_a_recorded_discrepancy(db, chain):
    transfer = request(chain, 7)
    services.pick(transfer, chain.pharmacist)
    services.ship(transfer, chain.pharmacist)
    short = {"E-200": 4, "L-365": 0}
    assert refused(db, services.receive_transfer, transfer, chain.pharmacist, received=short) == (
        "Fewer packs arrived than were shipped: explain the difference in the note.")
    services.receive_transfer(transfer, chain.pharmacist, received=short, note="One box crushed, one missing")
    assert [(line.lot_number, line.packs, line.packs_received, line.packs_short)
            for line in transfer.lines] == [("E-200", 5, 4, 1), ("L-365", 2, 0, 2)]
    assert (transfer.discrepancy_note, transfer.packs_shipped, transfer.packs_received) == (
        "One box crushed, one missing", 7, 4)
    assert on_hand(chain.drugs[AMLODIPINE], chain.receiver) == 4
    assert transfer.lines[1].received_lot.quantity_on_hand == 0  # the lot is known there, with no packs
    assert on_hand(chain.drugs[AMLODIPINE]) == 3 + 4
    assert ledger.verify() == []


def test_a_lost_parcel_is_recorded_and_its_packs_are_on_no_shelf(db, chain):
    transfer = request(chain, 3)
    services.pick(transfer, chain.pharmacist)
    services.ship(transfer, chain.pharmacist)
    assert refused(db, services.mark_lost, transfer, chain.pharmacist, " ") == (
        "Say what happened to the parcel in the note.")
    services.mark_lost(transfer, chain.pharmacist, "Courier reports the parcel stolen")
    assert (transfer.status, transfer.close_note, transfer.closed_by_id) == (
        TransferStatus.LOST, "Courier reports the parcel stolen", chain.pharmacist.id)
    assert on_hand(chain.drugs[AMLODIPINE]) == 7
    assert refused(db, services.receive_transfer, transfer, chain.pharmacist) == (
        f"Transfer {transfer.id} is lost; it cannot be received.")


def test_cancelling_a_picked_transfer_gives_its_packs_back(db, chain):
    transfer = request(chain, 6)
    services.pick(transfer, chain.pharmacist)
    assert chain.early.quantity_available + chain.late.quantity_available == 4
    services.cancel_transfer(transfer, chain.pharmacist, "Patient moved to another store")
    assert transfer.status == TransferStatus.CANCELLED
    assert (chain.early.quantity_reserved, chain.late.quantity_reserved) == (0, 0)
    assert ledger.holdings(transfer.reference, chain.store.id) == {}
    assert ledger.verify() == []
    untouched = request(chain, 1)
    services.cancel_transfer(untouched, chain.pharmacist)
    assert untouched.status == TransferStatus.CANCELLED


def test_a_lot_quarantined_after_picking_is_not_shipped(db, chain):
    transfer = request(chain, 2)
    services.pick(transfer, chain.pharmacist)
    ledger.change_status(chain.early, LotStatus.QUARANTINED, "temperature_excursion", user=chain.pharmacist)
    assert refused(db, services.ship, transfer, chain.pharmacist) == (
        "Lot E-200 of Amlodipine (AMLODIPINE-5MG-TAB) can no longer be sold (quarantined since it was "
        "picked); cancel the transfer and request it again.")
    services.cancel_transfer(transfer, chain.pharmacist)
    assert chain.early.quantity_reserved == 0


def test_a_transfer_adds_to_the_receiver_s_lot_of_the_same_number(db, chain):
    existing = chain.receive("E-200", in_days(200), 3, cost=1600, into=chain.receiver)
    transfer = request(chain, 5)
    services.pick(transfer, chain.pharmacist)
    services.ship(transfer, chain.pharmacist)
    services.receive_transfer(transfer, factories.make_user(Role.PHARMACIST))
    assert transfer.lines[0].received_lot is existing
    assert (existing.quantity_on_hand, existing.unit_cost_fen) == (8, 1225)  # (3×1600 + 5×1000) / 8
    assert ledger.verify() == []
