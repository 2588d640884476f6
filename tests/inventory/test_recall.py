"""Recalling a lot chain-wide: no store sells it again, and exactly the patients who received it are
listed."""

from datetime import datetime

import pytest
from sqlalchemy import select

from app.errors import DomainError
from app.inventory import ledger, services
from app.inventory.models import LotStatus, MovementKind, StockMovement
from tests import factories
from tests.inventory.conftest import AMLODIPINE, METFORMIN, in_days, ledger_rows
from tests.inventory.transfer_helpers import make_store, refused


def handed_out(stock, store, code, packs, order, patient, days=30):
    drug = stock.drugs[code]
    services.reserve(store, {drug: packs}, days, ("order", order), stock.pharmacist)
    return services.dispense(store, {drug: packs}, ("order", order), stock.pharmacist, patient=patient)


def test_acceptance_5_recall_of_a_lot_lists_exactly_the_patients_who_received_it(db, stock):
    other = make_store("OTH")
    r1 = stock.receive("R-1", in_days(300), 6)
    r2 = stock.receive("R-2", in_days(400), 10)
    stock.receive("R-1", in_days(300), 10, METFORMIN)  # the same number on another drug's lot
    transfer = services.request_transfer(stock.store, other, stock.drugs[AMLODIPINE], 2, stock.pharmacist)
    services.pick(transfer, stock.pharmacist)
    services.ship(transfer, stock.pharmacist)
    services.receive_transfer(transfer, stock.pharmacist)  # 2 packs of R-1 now in the other store
    r1_other = transfer.lines[0].received_lot
    assert r1_other.lot_number == "R-1"

    ann, bo, cai, dan, eve = (factories.make_patient() for _ in range(5))
    handed_out(stock, stock.store, AMLODIPINE, 1, 1, ann)
    handed_out(stock, stock.store, AMLODIPINE, 2, 2, ann)  # R-1 again
    handed_out(stock, other, AMLODIPINE, 1, 3, bo)  # R-1, in the other store
    handed_out(stock, stock.store, AMLODIPINE, 3, 4, cai)  # the last R-1 pack and 2 of R-2
    handed_out(stock, stock.store, METFORMIN, 1, 5, dan)  # metformin R-1: another lot altogether
    services.reserve(stock.store, {stock.drugs[AMLODIPINE]: 1}, 30, ("order", 6), stock.pharmacist)
    services.release(stock.store, ("order", 6), stock.pharmacist)  # eve was never handed anything
    services.reserve(other, {stock.drugs[AMLODIPINE]: 1}, 30, ("order", 7), stock.pharmacist)  # R-1, held
    assert (r1.quantity_on_hand, r1_other.quantity_on_hand, r1_other.quantity_reserved) == (0, 1, 1)

    before = len(ledger_rows(r2))
    recall = services.recall_lot(stock.drugs[AMLODIPINE], " R-1 ", factories.make_user("admin"),
                                 "Manufacturer notice 2026-11: particulate contamination")
    assert (recall.lot_number, recall.drug_id) == ("R-1", stock.drugs[AMLODIPINE].id)
    assert (r1.status, r1_other.status, r2.status) == (
        LotStatus.RECALLED, LotStatus.RECALLED, LotStatus.AVAILABLE)
    assert len(ledger_rows(r2)) == before
    change = ledger_rows(r1_other)[-1]
    assert (change.kind, change.new_status, change.reason, change.reference_type, change.reference_id) == (
        MovementKind.STATUS_CHANGE, LotStatus.RECALLED, "recalled", "recall", recall.id)
    assert r1_other.quantity_reserved == 1  # the order still holds it, but it will not be handed out
    with pytest.raises(DomainError, match="has been recalled and may not be dispensed"):
        services.dispense(other, {stock.drugs[AMLODIPINE]: 1}, ("order", 7), stock.pharmacist, patient=eve)

    recipients = services.patients_who_received(stock.drugs[AMLODIPINE], "R-1")
    assert [(person.patient, person.packs) for person in recipients] == [(ann, 3), (bo, 1), (cai, 1)]
    assert all(isinstance(person.first_dispensed_at, datetime) and person.first_dispensed_at.tzinfo
               for person in recipients)
    assert recipients[0].first_dispensed_at <= recipients[0].last_dispensed_at
    metformin = services.patients_who_received(stock.drugs[METFORMIN].id, "R-1")
    assert [person.patient for person in metformin] == [dan]
    assert services.patients_who_received(stock.drugs[AMLODIPINE], "R-9") == []
    assert ledger.verify() == []


def test_every_dispense_row_names_its_patient(db, stock):
    stock.receive("P-1", in_days(300), 3)
    patient = factories.make_patient()
    [row] = handed_out(stock, stock.store, AMLODIPINE, 2, 1, patient.id)
    assert row.patient_id == patient.id
    services.reserve(stock.store, {stock.drugs[AMLODIPINE]: 1}, 30, ("order", 2), stock.pharmacist)
    with pytest.raises(ValueError, match="needs the patient"):
        services.dispense(stock.store, {stock.drugs[AMLODIPINE]: 1}, ("order", 2), stock.pharmacist,
                          patient=None)


def test_the_database_refuses_a_dispense_row_without_a_patient(db, stock):
    lot = stock.receive("P-1", in_days(300), 3)
    services.reserve(stock.store, {lot.drug: 1}, 30, ("order", 1), stock.pharmacist)
    db.session.add(StockMovement(lot=lot, kind=MovementKind.DISPENSE, quantity=-1, reserved_change=-1,
                                 reference_type="order", reference_id=1))
    with pytest.raises(Exception, match=r"(?i)check"), db.session.begin_nested():
        db.session.flush()


def test_a_transfer_in_transit_when_its_lot_is_recalled_lands_recalled(db, stock):
    stock.receive("T-1", in_days(300), 5)
    receiver = make_store("RCV")
    transfer = services.request_transfer(stock.store, receiver, stock.drugs[AMLODIPINE], 2, stock.pharmacist)
    services.pick(transfer, stock.pharmacist)
    services.ship(transfer, stock.pharmacist)
    recall = services.recall_lot(stock.drugs[AMLODIPINE], "T-1", None, "Supplier recall")
    services.receive_transfer(transfer, stock.pharmacist)
    lot = transfer.lines[0].received_lot
    assert (lot.store, lot.quantity_on_hand, lot.status) == (receiver, 2, LotStatus.RECALLED)
    assert ledger_rows(lot)[-1].reference_id == recall.id


def test_a_picked_transfer_of_a_recalled_lot_is_not_shipped(db, stock):
    stock.receive("T-1", in_days(300), 5)
    transfer = services.request_transfer(stock.store, make_store("RCV"), stock.drugs[AMLODIPINE], 2,
                                         stock.pharmacist)
    services.pick(transfer, stock.pharmacist)
    services.recall_lot(stock.drugs[AMLODIPINE], "T-1", None, "Supplier recall")
    assert "recalled since it was picked" in refused(db, services.ship, transfer, stock.pharmacist)


def test_an_expired_lot_keeps_its_status_and_its_patients_are_still_listed(db, stock):
    lot = stock.receive("X-1", in_days(10), 3, at=in_days(-100))
    patient = factories.make_patient()
    handed_out(stock, stock.store, AMLODIPINE, 1, 1, patient, days=5)
    services.expire_lots(100, now=datetime.fromisoformat(f"{in_days(12)}T12:00:00+08:00"))
    assert lot.status == LotStatus.EXPIRED
    services.recall_lot(lot.drug, "X-1", None, "Supplier recall")
    assert lot.status == LotStatus.EXPIRED
    assert [person.patient for person in services.patients_who_received(lot.drug, "X-1")] == [patient]


def test_recall_refuses_bad_input_and_writes_nothing(db, stock):
    stock.receive("R-1", in_days(300), 5)
    drug = stock.drugs[AMLODIPINE]
    assert refused(db, services.recall_lot, drug, "R-404", None, "Notice") == (
        "No store of the chain has received lot R-404 of Amlodipine (AMLODIPINE-5MG-TAB); check the lot "
        "number.")
    assert refused(db, services.recall_lot, drug, "  ", None, "Notice") == "Enter the lot number."
    assert refused(db, services.recall_lot, drug, "R-1", None, "  ") == (
        "Give the reason for the recall: the notice and who issued it.")
    assert refused(db, services.recall_lot, 987654, "R-1", None, "Notice") == "Unknown drug."
    services.recall_lot(drug, "R-1", None, "Notice")
    assert refused(db, services.recall_lot, drug, "R-1", None, "Notice again").startswith(
        "Lot R-1 of Amlodipine (AMLODIPINE-5MG-TAB) was already recalled on ")
    rows = db.session.scalars(select(StockMovement.kind).where(StockMovement.reference_type == "recall"))
    assert rows.all() == [MovementKind.STATUS_CHANGE]


def test_a_recalled_lot_is_refused_when_a_supplier_delivers_it_to_another_store(db, stock):
    from app.inventory import recall as recalls
    from tests.inventory.conftest import in_days
    from tests.inventory.transfer_helpers import make_store, refused

    stock.receive("R-OTHER", in_days(300), 5)
    recalls.recall_lot(stock.drugs["AMLODIPINE-5MG-TAB"], "R-OTHER", stock.pharmacist, "Notice 42")
    db.session.commit()
    elsewhere = make_store("NEVER-HELD")
    message = refused(db, stock.receive, "R-OTHER", in_days(300), 5, into=elsewhere)
    assert "has been recalled; it cannot be received" in message
