"""Delivery: packing (the cold chain in a cold box at 2–8 °C), the courier's trip, the card captured
when the parcel leaves, excursions that stop the handover, and proof of delivery."""

import re

import pytest
from sqlalchemy import func, select

from app.delivery import services as deliveries
from app.delivery.models import Delivery
from app.delivery.states import DeliveryStatus as D
from app.errors import DomainError
from app.extensions import db as _db
from app.orders import dispensing
from app.orders.models import PAYABLE, Order
from app.orders.states import OrderStatus
from app.payments import operations
from app.payments.models import OperationKind, PaymentOperation, PaymentStatus
from tests import factories
from tests.orders.conftest import home_address
from tests.orders.test_dispensing import EVERY_CHECK, _lot, code, coded  # noqa: F401  (fixture)

pytestmark = pytest.mark.usefixtures("coded")  # every drug here has a product code
INSULIN = ("INSULIN-GLARGINE-300IU-PEN", {"dose": "10", "dose_unit": "IU"})


def _dispensed(shop, approve, ordering, visit, *lines):
    visit.drugs["INSULIN-GLARGINE-300IU-PEN"].traceability_prefix = "8690003"
    prescription = approve(*lines)
    address = home_address(prescription.patient)
    order, payment = ordering.paid(prescription, shop.store, fulfilment="delivery", address=address)
    order = _db.session.get(Order, order.id)
    [line] = order.lines
    scan = (_lot(shop.store, line.drug).lot_number, code(1, line.drug.traceability_prefix))
    dispensing.dispense(order, shop.pharmacist, {line.id: scan}, EVERY_CHECK)
    _db.session.commit()
    return order, payment


def _captures(payment) -> int:
    return _db.session.scalar(select(func.count()).select_from(PaymentOperation).where(
        PaymentOperation.payment_id == payment.id, PaymentOperation.kind == OperationKind.CAPTURE))


def test_a_parcel_is_captured_when_it_leaves_and_completed_with_the_code(db, shop, approve, ordering, visit,
                                                                       courier, flow):
    order, payment = _dispensed(shop, approve, ordering, visit)
    assert order.status == OrderStatus.DISPENSING
    delivery = deliveries.pack(order, shop.pharmacist, courier_id=courier.id)
    _db.session.commit()
    assert _captures(payment) == 0  # still only held while it waits at the store
    deliveries.picked_up(delivery, courier)
    _db.session.commit()
    operations.perform_for_payable(PAYABLE, order.id)
    assert _captures(payment) == 1
    assert _db.session.get(type(payment), payment.id).status == PaymentStatus.CAPTURED
    order = _db.session.get(Order, order.id)
    assert order.status == OrderStatus.OUT_FOR_DELIVERY and len(order.handover_code) == 6
    assert deliveries.delivered(delivery, courier, code="000000" if order.handover_code != "000000"
                                else "111111") is False
    _db.session.commit()
    assert deliveries.delivered(delivery, courier, code=order.handover_code) is True
    _db.session.commit()
    assert _db.session.get(Order, order.id).status == OrderStatus.COMPLETED
    assert _db.session.get(Delivery, delivery.id).status == D.DELIVERED
    deliveries.confirm_receipt(order, order.patient)
    _db.session.commit()
    assert _db.session.get(Delivery, delivery.id).received_confirmed_at is not None


def test_a_relative_may_take_the_parcel_with_their_name_and_relationship(db, shop, approve, ordering, visit,
                                                                         courier):
    order, _payment = _dispensed(shop, approve, ordering, visit)
    delivery = deliveries.pack(order, shop.pharmacist, courier_id=courier.id)
    deliveries.picked_up(delivery, courier)
    with pytest.raises(DomainError, match="recipient's name"):
        deliveries.delivered(delivery, courier, recipient="Wang Fang")
    assert deliveries.delivered(delivery, courier, recipient="Wang Fang", relationship="daughter")
    assert (delivery.recipient_name, delivery.recipient_relationship) == ("Wang Fang", "daughter")


@pytest.mark.parametrize(("reading", "packed"),
                         [("2.0", True), ("8.0", True), ("1.9", False), ("8.1", False)])
def test_a_cold_chain_parcel_is_packed_between_2_and_8_degrees(db, shop, approve, ordering, visit,
                                                               courier, reading, packed):
    order, _payment = _dispensed(shop, approve, ordering, visit, INSULIN)
    with pytest.raises(DomainError, match="cold box with ice packs"):
        deliveries.pack(order, shop.pharmacist, courier_id=courier.id, packing_temperature="5.0")
    _db.session.rollback()
    pack = lambda: deliveries.pack(order, shop.pharmacist, courier_id=courier.id, cold_box=True,  # noqa: E731
                                   ice_packs="2", packing_temperature=reading)
    if packed:
        assert pack().packing_temperature_c is not None
    else:
        with pytest.raises(DomainError, match="outside 2–8"):
            pack()


def test_a_reading_of_10_degrees_on_the_way_stops_the_handover(db, shop, approve, ordering, visit,
                                                               courier):
    order, _payment = _dispensed(shop, approve, ordering, visit, INSULIN)
    delivery = deliveries.pack(order, shop.pharmacist, courier_id=courier.id, cold_box=True, ice_packs="2",
                               packing_temperature="4.5")
    deliveries.picked_up(delivery, courier, "5.0")
    _db.session.commit()
    with pytest.raises(DomainError, match="temperature"):
        deliveries.in_transit(delivery, courier, "")  # a cold-chain reading is not optional
    _db.session.rollback()
    deliveries.in_transit(delivery, courier, "10.0")
    _db.session.commit()
    assert _db.session.get(Delivery, delivery.id).has_open_excursion
    with pytest.raises(DomainError, match="cold chain was broken"):
        deliveries.delivered(delivery, courier, code=order.handover_code, reading="5.0")
    _db.session.rollback()
    assert _db.session.get(Order, order.id).status == OrderStatus.OUT_FOR_DELIVERY


def test_a_courier_cannot_act_on_another_couriers_delivery(db, client, login_as, shop, approve, ordering,
                                                           visit, courier):
    order, _payment = _dispensed(shop, approve, ordering, visit)
    delivery = deliveries.pack(order, shop.pharmacist, courier_id=courier.id)
    other = factories.make_user("courier")
    _db.session.commit()
    with pytest.raises(DomainError, match="another courier"):
        deliveries.picked_up(delivery, other)
    _db.session.rollback()
    login_as(other)
    assert client.get(f"/deliveries/{delivery.id}").status_code == 404
    assert client.post(f"/deliveries/{delivery.id}", data={"step": "picked_up"}).status_code == 404
    assert f'data-delivery-id="{delivery.id}"' not in client.get("/deliveries/").get_data(as_text=True)
    assert _db.session.get(Delivery, delivery.id).status == D.ASSIGNED


def test_the_courier_records_the_trip_from_the_phone_pages(db, as_user, shop, approve, ordering, visit,
                                                           courier):
    order, _payment = _dispensed(shop, approve, ordering, visit, INSULIN)
    counter = as_user(shop.pharmacist)
    answer = counter.post(f"/orders/{order.id}/pack", data={"courier_id": courier.id, "cold_box": "y",
                                                           "ice_packs": "2", "packing_temperature": "5"})
    assert answer.status_code == 303
    delivery = _db.session.scalar(select(Delivery).where(Delivery.order_id == order.id))
    rider = as_user(courier)
    assert f'data-delivery-id="{delivery.id}"' in rider.get("/deliveries/").get_data(as_text=True)
    for step, form in (("picked_up", {"temperature": "5"}), ("in_transit", {"temperature": "5.5"})):
        assert rider.post(f"/deliveries/{delivery.id}", data={"step": step, **form}).status_code == 303
    _db.session.expire_all()
    the_code = _db.session.get(Order, order.id).handover_code
    done = {"step": "delivered", "code": the_code, "temperature": "6"}
    rider.post(f"/deliveries/{delivery.id}", data=done)
    page = rider.get(f"/deliveries/{delivery.id}").get_data(as_text=True)
    assert 'data-status="delivered"' in page and "5.5 °C" in page
    assert _db.session.get(Order, order.id).status == OrderStatus.COMPLETED


def test_each_step_form_on_the_trip_page_sends_its_own_step_once(db, as_user, shop, approve, ordering, visit,
                                                                  courier):
    order, _payment = _dispensed(shop, approve, ordering, visit, INSULIN)
    delivery = deliveries.pack(order, shop.pharmacist, courier_id=courier.id, cold_box=True, ice_packs="2",
                               packing_temperature="5")
    deliveries.picked_up(delivery, courier, "5")
    _db.session.commit()
    page = as_user(courier).get(f"/deliveries/{delivery.id}").get_data(as_text=True)
    forms = re.findall(r'<form[^>]*data-step="(\w+)"[^>]*>(.*?)</form>', page, re.S)
    assert [step for step, _body in forms] == ["in_transit", "delivered", "failed_attempt", "returned"]
    for step, body in forms:  # a browser sends the first field of a name: an empty one would be a 400
        assert re.findall(r'name="step"[^>]*value="([^"]*)"', body) == [step]
