"""After dispensing: a cold-chain excursion resolved by a replacement, a pharmacist's cancel with the
packs to quarantine and the money back once, and codes freed only when quarantine releases the lot."""

import json

import pytest
from sqlalchemy import func, select

from app.delivery import services as deliveries
from app.delivery.models import ColdChainExcursion, Delivery
from app.delivery.states import DeliveryStatus as D
from app.errors import DomainError
from app.extensions import db as _db
from app.inventory import ledger, quarantine
from app.inventory.models import LotStatus, MovementKind, StockLot, StockMovement
from app.orders import dispensing, returns
from app.orders.models import PAYABLE, DispensedPack, Order
from app.orders.states import OrderStatus
from app.outbox.models import OutboxEvent
from app.patients.models import ConsentKind
from app.patients.services import grant_consent
from app.payments import operations
from app.payments.models import OperationKind, PaymentOperation, PaymentStatus
from tests import factories
from tests.orders.conftest import home_address
from tests.orders.test_delivery import INSULIN
from tests.orders.test_dispensing import EVERY_CHECK, _lot, code, coded  # noqa: F401  (fixture)
from tests.orders.test_money_and_stock import _operations, _texts

pytestmark = pytest.mark.usefixtures("coded")
INSULIN_PREFIX = "8690003"


def _dispensed(shop, approve, ordering, visit, *lines, fulfilment="delivery", serial=1):
    visit.drugs["INSULIN-GLARGINE-300IU-PEN"].traceability_prefix = INSULIN_PREFIX
    prescription = approve(*lines)
    address = home_address(prescription.patient) if fulfilment == "delivery" else None
    order, payment = ordering.paid(prescription, shop.store, fulfilment=fulfilment, address=address)
    order = _db.session.get(Order, order.id)
    [line] = order.lines
    scan = (_lot(shop.store, line.drug).lot_number, code(serial, line.drug.traceability_prefix))
    dispensing.dispense(order, shop.pharmacist, {line.id: scan}, EVERY_CHECK)
    _db.session.commit()
    return order, payment


def _on_the_road(shop, order, courier):
    delivery = deliveries.pack(order, shop.pharmacist, courier_id=courier.id, cold_box=True, ice_packs="2",
                               packing_temperature="4.5")
    deliveries.picked_up(delivery, courier, "5.0")
    _db.session.commit()
    operations.perform_for_payable(PAYABLE, order.id)
    return delivery


def _movements(lot, kind) -> list[int]:
    return list(_db.session.scalars(select(StockMovement.quantity).where(
        StockMovement.lot_id == lot.id, StockMovement.kind == kind).order_by(StockMovement.id)))


def _packing(courier) -> dict:
    return dict(courier_id=courier.id, cold_box=True, ice_packs="2", packing_temperature="5.0")


def test_an_excursion_is_resolved_by_a_replacement_and_only_then_delivered(db, shop, approve, ordering, visit,
                                                                          courier, flow):
    grant_consent(visit.patient, ConsentKind.DATA_SHARING)
    order, payment = _dispensed(shop, approve, ordering, visit, INSULIN)
    delivery = _on_the_road(shop, order, courier)
    lot = _lot(shop.store, visit.drugs["INSULIN-GLARGINE-300IU-PEN"])
    on_hand = lot.quantity_on_hand
    deliveries.in_transit(delivery, courier, "10.0")
    _db.session.commit()
    [excursion] = _db.session.scalars(select(ColdChainExcursion)).all()
    assert (excursion.lot_id, excursion.packs, str(excursion.temperature_c), excursion.resolved_at) == (
        lot.id, 1, "10.0", None)
    # Neither the door nor the store can close it while the parcel is on the road.
    with pytest.raises(DomainError, match="cold chain was broken"):
        deliveries.delivered(delivery, courier, code=order.handover_code, reading="5.0")
    _db.session.rollback()
    [line] = order.lines
    fresh = {line.id: (lot.lot_number, code(2, INSULIN_PREFIX))}
    with pytest.raises(DomainError, match="not back at the store"):
        returns.replace_after_excursion(order, shop.pharmacist, fresh, EVERY_CHECK, _packing(courier))
    _db.session.rollback()
    with pytest.raises(DomainError, match="why the parcel"):
        deliveries.returned(delivery, courier, "")
    _db.session.rollback()
    deliveries.returned(delivery, courier, "Box read 10 °C; brought back")
    _db.session.commit()

    # The spoiled pen's code may not be scanned again; a fresh one replaces it.
    spoiled = {line.id: (lot.lot_number, code(1, INSULIN_PREFIX))}
    with pytest.raises(DomainError, match="already been dispensed"):
        returns.replace_after_excursion(order, shop.pharmacist, spoiled, EVERY_CHECK, _packing(courier))
    _db.session.rollback()
    returns.replace_after_excursion(order, shop.pharmacist, fresh, EVERY_CHECK, _packing(courier))
    _db.session.commit()
    order, delivery = _db.session.get(Order, order.id), _db.session.get(Delivery, delivery.id)
    assert (order.status, delivery.status, delivery.has_open_excursion) == (
        OrderStatus.DISPENSING, D.ASSIGNED, False)
    excursion = _db.session.get(ColdChainExcursion, excursion.id)
    assert excursion.resolution == "replaced" and excursion.resolved_by_id == shop.pharmacist.id
    packs = {p.traceability_code: p.returned_to for p in _db.session.scalars(select(DispensedPack))}
    assert packs == {code(1, INSULIN_PREFIX): "destroyed", code(2, INSULIN_PREFIX): ""}
    # The spoiled pen came back onto the books and was written off; the fresh one left them.
    assert _movements(lot, MovementKind.ADJUSTMENT) == [1]
    assert _movements(lot, MovementKind.WRITE_OFF) == [-1]
    assert _db.session.get(StockLot, lot.id).quantity_on_hand == on_hand - 1
    assert ledger.verify() == []

    deliveries.picked_up(delivery, courier, "5.0")
    assert deliveries.delivered(delivery, courier, code=order.handover_code, reading="6.0")
    _db.session.commit()
    operations.perform_for_payable(PAYABLE, order.id)
    assert _db.session.get(Order, order.id).status == OrderStatus.COMPLETED
    assert _operations(payment, OperationKind.CAPTURE) == 1  # the patient pays once for the medicine
    events = [e.event_type for e in _db.session.scalars(select(OutboxEvent).order_by(OutboxEvent.id))]
    # The platform hears of the excursion when it is read, and of the dispense (fresh lot) once delivered.
    assert events == ["delivery.excursion", "medication.dispensed"]


def test_a_second_excursion_on_the_new_trip_is_recorded_again(db, shop, approve, ordering, visit, courier):
    order, _payment = _dispensed(shop, approve, ordering, visit, INSULIN)
    delivery = _on_the_road(shop, order, courier)
    deliveries.in_transit(delivery, courier, "8.1")
    deliveries.returned(delivery, courier, "Too warm")
    [line] = order.lines
    lot = _lot(shop.store, line.drug)
    fresh = {line.id: (lot.lot_number, code(2, INSULIN_PREFIX))}
    returns.replace_after_excursion(order, shop.pharmacist, fresh, EVERY_CHECK, _packing(courier))
    deliveries.picked_up(delivery, courier, "5.0")
    deliveries.in_transit(delivery, courier, "1.9")
    _db.session.commit()
    assert _db.session.get(Delivery, delivery.id).has_open_excursion
    assert _db.session.scalar(select(func.count()).select_from(ColdChainExcursion)) == 2


@pytest.mark.parametrize(("reading", "excursion"),
                         [("2.0", False), ("8.0", False), ("1.9", True), ("8.1", True)])
def test_an_excursion_starts_just_outside_2_to_8_degrees(db, shop, approve, ordering, visit, courier,
                                                         reading, excursion):
    order, _payment = _dispensed(shop, approve, ordering, visit, INSULIN)
    delivery = _on_the_road(shop, order, courier)
    deliveries.in_transit(delivery, courier, reading)
    _db.session.commit()
    assert _db.session.get(Delivery, delivery.id).has_open_excursion is excursion
    assert _db.session.scalar(select(func.count()).select_from(ColdChainExcursion)) == int(excursion)


def test_a_pickup_order_taken_back_goes_to_quarantine_and_the_card_is_never_charged(
        db, shop, approve, ordering, visit, flow, texted):
    grant_consent(visit.patient, ConsentKind.DATA_SHARING)
    order, payment = _dispensed(shop, approve, ordering, visit, fulfilment="pickup")
    lot = _lot(shop.store, order.lines[0].drug)
    returns.cancel_after_dispensing(order, shop.pharmacist, "not_collected")
    _db.session.commit()
    assert operations.perform_for_payable(PAYABLE, order.id)
    with pytest.raises(DomainError, match="cannot be cancelled by the store"):
        returns.cancel_after_dispensing(order, shop.pharmacist, "not_collected")  # a second click
    _db.session.rollback()
    flow.confirm(payment, event_id="evt_after_take_back")  # a late webhook, twice
    flow.confirm(payment, event_id="evt_after_take_back")
    order = _db.session.get(Order, order.id)
    assert (order.status, order.close_reason, order.handover_code) == (
        OrderStatus.REFUNDED, "not_collected", None)
    assert _operations(payment, OperationKind.CANCEL) == 1
    assert _operations(payment, OperationKind.CAPTURE) == 0
    assert _db.session.get(type(payment), payment.id).status == PaymentStatus.CANCELED
    lot = _db.session.get(StockLot, lot.id)
    assert lot.status == LotStatus.QUARANTINED and _movements(lot, MovementKind.ADJUSTMENT) == [1]
    assert ledger.verify() == []
    [event] = _db.session.scalars(select(OutboxEvent).where(OutboxEvent.event_type == "medication.returned"))
    returned = json.loads(event.payload)  # prepared, never collected: the patient declined it
    assert returned["status"] == "declined" and "whenHandedOver" not in returned
    assert returned["statusReasonCodeableConcept"]["coding"][0]["code"] == "not_collected"
    [text] = _texts(texted, "order_refunded")
    assert f"order {order.id} was cancelled" in text


def test_a_captured_delivery_brought_back_is_refunded_once(db, shop, approve, ordering, visit, courier):
    order, payment = _dispensed(shop, approve, ordering, visit)
    delivery = deliveries.pack(order, shop.pharmacist, courier_id=courier.id)
    deliveries.picked_up(delivery, courier)
    _db.session.commit()
    operations.perform_for_payable(PAYABLE, order.id)
    assert _db.session.get(type(payment), payment.id).status == PaymentStatus.CAPTURED
    deliveries.failed_attempt(delivery, courier, "Nobody home")
    deliveries.returned(delivery, courier, "Third attempt failed")
    returns.cancel_after_dispensing(order, shop.pharmacist, "undeliverable")
    _db.session.commit()
    operations.perform_for_payable(PAYABLE, order.id)
    operations.perform_for_payable(PAYABLE, order.id)
    assert _operations(payment, OperationKind.REFUND) == 1
    refunded = _db.session.scalar(select(PaymentOperation.amount_fen).where(
        PaymentOperation.payment_id == payment.id, PaymentOperation.kind == OperationKind.REFUND))
    assert refunded == order.total_fen
    assert _db.session.get(Order, order.id).status == OrderStatus.REFUNDED


def test_a_parcel_still_with_the_courier_cannot_be_taken_back(db, shop, approve, ordering, visit, courier):
    order, _payment = _dispensed(shop, approve, ordering, visit)
    delivery = deliveries.pack(order, shop.pharmacist, courier_id=courier.id)
    deliveries.picked_up(delivery, courier)
    _db.session.commit()
    with pytest.raises(DomainError, match="not back at the store"):
        returns.cancel_after_dispensing(order, shop.pharmacist, "patient_declined")
    _db.session.rollback()
    assert _db.session.get(Order, order.id).status == OrderStatus.OUT_FOR_DELIVERY


def test_a_packed_parcel_not_yet_collected_is_unpacked_when_cancelled(db, shop, approve, ordering, visit,
                                                                      courier):
    order, _payment = _dispensed(shop, approve, ordering, visit)
    delivery = deliveries.pack(order, shop.pharmacist, courier_id=courier.id)
    _db.session.commit()
    returns.cancel_after_dispensing(order, shop.pharmacist, "patient_declined")
    _db.session.commit()
    assert _db.session.get(Delivery, delivery.id).status == D.RETURNED
    assert _db.session.get(Order, order.id).status == OrderStatus.REFUNDED


def test_a_spoiled_parcel_cancelled_is_written_off_not_quarantined(db, shop, approve, ordering, visit,
                                                                   courier):
    order, _payment = _dispensed(shop, approve, ordering, visit, INSULIN)
    delivery = _on_the_road(shop, order, courier)
    deliveries.in_transit(delivery, courier, "12.0")
    deliveries.returned(delivery, courier, "Warm")
    returns.cancel_after_dispensing(order, shop.pharmacist, "cold_chain_excursion")
    _db.session.commit()
    lot = _lot(shop.store, order.lines[0].drug)
    assert lot.status == LotStatus.AVAILABLE  # the shelf's good packs are not put in doubt
    assert _movements(lot, MovementKind.WRITE_OFF) == [-1]
    assert _db.session.scalar(select(ColdChainExcursion.resolution)) == "refunded"
    assert _db.session.scalar(select(DispensedPack.returned_to)) == "destroyed"


@pytest.mark.parametrize(("reason", "note", "problem"), [
    ("", "", "Choose why"), ("nonsense", "", "Choose why"), ("other", "", "Explain in the note"),
    ("other", "x" * 300, None), ("other", "x" * 301, "at most 300"), ("not_collected", "", None)])
def test_the_reason_and_note_are_checked(db, shop, approve, ordering, visit, reason, note, problem):
    order, _payment = _dispensed(shop, approve, ordering, visit, fulfilment="pickup")
    if problem is None:
        returns.cancel_after_dispensing(order, shop.pharmacist, reason, note)
        assert order.status == OrderStatus.REFUNDED
    else:
        with pytest.raises(DomainError, match=problem):
            returns.cancel_after_dispensing(order, shop.pharmacist, reason, note)


def _release(lot, pharmacist):
    quarantine.assess(lot, "release", "Seals intact, stored at room temperature", pharmacist)
    _db.session.commit()


def test_a_returned_packs_code_is_free_again_only_when_quarantine_releases_its_lot(db, shop, approve,
                                                                                  ordering, visit):
    order, _payment = _dispensed(shop, approve, ordering, visit, fulfilment="pickup")
    lot = _lot(shop.store, order.lines[0].drug)
    returns.cancel_after_dispensing(order, shop.pharmacist, "not_collected")
    _db.session.commit()
    assert dispensing._dispensed_codes([code(1)]) == {code(1)}  # in quarantine: still not to be scanned
    _release(_db.session.get(StockLot, lot.id), shop.pharmacist)
    assert dispensing._dispensed_codes([code(1)]) == set()
    second, _payment = _dispensed(shop, approve, ordering, visit, fulfilment="pickup")  # the same pack
    assert second.status == OrderStatus.READY_FOR_PICKUP
    assert _db.session.scalar(select(func.count()).select_from(DispensedPack).where(
        DispensedPack.traceability_code == code(1))) == 2


def test_a_rejected_lot_never_frees_the_code(db, shop, approve, ordering, visit):
    order, _payment = _dispensed(shop, approve, ordering, visit, fulfilment="pickup")
    lot = _lot(shop.store, order.lines[0].drug)
    returns.cancel_after_dispensing(order, shop.pharmacist, "not_collected")
    _db.session.commit()
    quarantine.assess(lot, "reject", "Packaging opened", shop.pharmacist)
    _db.session.commit()
    assert _db.session.scalar(select(DispensedPack.freed_at)) is None


def test_only_a_pharmacist_of_the_store_takes_an_order_back(db, as_user, shop, approve, ordering, visit):
    order, _payment = _dispensed(shop, approve, ordering, visit, fulfilment="pickup")
    elsewhere = factories.make_user("pharmacist")
    elsewhere.pharmacist_profile.home_store_id = factories.make_store(code="BJ9").id
    _db.session.commit()
    with pytest.raises(DomainError, match="another store"):
        returns.cancel_after_dispensing(order, elsewhere, "not_collected")
    _db.session.rollback()
    form = {"reason": "not_collected", "note": ""}
    assert as_user(elsewhere).post(f"/orders/{order.id}/take-back", data=form).status_code == 404
    assert as_user(order.patient).post(f"/orders/{order.id}/take-back", data=form).status_code in (403, 404)
    assert _db.session.get(Order, order.id).status == OrderStatus.READY_FOR_PICKUP
    counter = as_user(shop.pharmacist)
    page = counter.get(f"/orders/{order.id}/dispense").get_data(as_text=True)
    assert 'id="take-back-form"' in page
    assert counter.post(f"/orders/{order.id}/take-back", data={"reason": ""}).status_code == 400
    assert counter.post(f"/orders/{order.id}/take-back", data=form).status_code == 303
    assert _db.session.get(Order, order.id).status == OrderStatus.REFUNDED


def test_the_store_sees_a_returned_parcel_and_replaces_it_from_its_pages(db, as_user, shop, approve, ordering,
                                                                         visit, courier):
    order, _payment = _dispensed(shop, approve, ordering, visit, INSULIN)
    delivery = _on_the_road(shop, order, courier)
    rider = as_user(courier)
    trip = f"/deliveries/{delivery.id}"
    assert rider.post(trip, data={"step": "in_transit", "temperature": "10"}).status_code == 303
    page = rider.get(f"/deliveries/{delivery.id}").get_data(as_text=True)
    assert 'id="step-returned"' in page and 'id="step-delivered"' not in page
    assert rider.post(trip, data={"step": "returned", "note": "warm"}).status_code == 303
    counter = as_user(shop.pharmacist)
    listing = counter.get("/orders/store").get_data(as_text=True)
    assert f'data-order-id="{order.id}"' in listing and "Cold chain broken on the way" in listing
    page = counter.get(f"/orders/{order.id}/dispense").get_data(as_text=True)
    assert 'id="replace-form"' in page and 'id="take-back-form"' in page
    shop.pharmacist.locale = "zh"
    assert "途中冷链中断" in as_user(shop.pharmacist).get("/orders/store").get_data(as_text=True)
    shop.pharmacist.locale = "en"
    _db.session.commit()
    [line] = order.lines
    lot = _lot(shop.store, line.drug)
    form = {f"lot_{line.id}": lot.lot_number, f"codes_{line.id}": code(2, INSULIN_PREFIX),
            "checklist": EVERY_CHECK, "courier_id": courier.id, "cold_box": "y", "ice_packs": "2",
            "packing_temperature": "9"}
    answer = counter.post(f"/orders/{order.id}/replace", data=form)
    assert answer.status_code == 400 and "outside 2–8" in answer.get_data(as_text=True)
    assert _db.session.get(Order, order.id).status == OrderStatus.OUT_FOR_DELIVERY  # nothing half-written
    form["packing_temperature"] = "5"
    assert counter.post(f"/orders/{order.id}/replace", data=form).status_code == 303
    _db.session.expire_all()
    assert _db.session.get(Delivery, delivery.id).status == D.ASSIGNED
