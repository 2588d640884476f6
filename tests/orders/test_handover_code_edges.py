"""The patient's 6-digit handover code at its limit: after 4 wrong tries the right code still hands the
medicines over; after the 5th wrong one it no longer works, at the counter and at the door, and the
staff member reads why in their language."""

import pytest
from flask_babel import force_locale

from app.delivery import services as deliveries
from app.errors import DomainError
from app.extensions import db as _db
from app.orders import dispensing
from app.orders.models import Order
from app.orders.states import OrderStatus
from tests.orders.test_delivery import _dispensed
from tests.orders.test_dispensing import EVERY_CHECK, _paid, _scan, coded  # noqa: F401  (fixture)

pytestmark = pytest.mark.usefixtures("coded")

AT_THE_COUNTER = ("Too many wrong codes: this code no longer works. The patient can get a new one on their "
                  "order page.", "错误次数过多：此取药码已失效。患者可在订单页面获取新的取药码。")
AT_THE_DOOR = ("Too many wrong codes: this code no longer works. Ask the patient for a new one from their "
               "order page.", "错误次数过多：此收货码已失效。请患者在订单页面获取新的收货码。")
TRIES = [pytest.param(4, True, id="4-wrong-then-right"), pytest.param(5, False, id="5-wrong-then-refused")]


def _wrong(order) -> str:
    return f"{(int(order.handover_code) + 1) % 1_000_000:06d}"


def _in_both_languages(reason) -> tuple[str, str]:
    with force_locale("en"):
        english = str(reason)
    with force_locale("zh"):
        chinese = str(reason)
    return english, chinese


@pytest.mark.parametrize(("wrong_tries", "handed_over"), TRIES)
def test_the_pickup_code_at_the_counter(db, shop, approve, ordering, wrong_tries, handed_over):
    order, _payment = _paid(shop, approve, ordering)
    dispensing.dispense(order, shop.pharmacist, _scan(order), EVERY_CHECK)
    _db.session.commit()
    for _ in range(wrong_tries):
        assert dispensing.hand_over(order, shop.pharmacist, _wrong(order)) is False
        _db.session.commit()
    if handed_over:
        assert dispensing.hand_over(order, shop.pharmacist, order.handover_code) is True
        _db.session.commit()
        assert _db.session.get(Order, order.id).status == OrderStatus.COMPLETED
        return
    with pytest.raises(DomainError) as refused:
        dispensing.hand_over(order, shop.pharmacist, order.handover_code)
    assert _in_both_languages(refused.value.reasons[""]) == AT_THE_COUNTER
    _db.session.rollback()
    assert _db.session.get(Order, order.id).status == OrderStatus.READY_FOR_PICKUP


@pytest.mark.parametrize(("wrong_tries", "handed_over"), TRIES)
def test_the_delivery_code_at_the_door(db, shop, approve, ordering, visit, courier, wrong_tries,
                                       handed_over):
    order, _payment = _dispensed(shop, approve, ordering, visit)
    delivery = deliveries.pack(order, shop.pharmacist, courier_id=courier.id)
    deliveries.picked_up(delivery, courier)
    _db.session.commit()
    order = _db.session.get(Order, order.id)
    for _ in range(wrong_tries):
        assert deliveries.delivered(delivery, courier, code=_wrong(order)) is False
        _db.session.commit()
    if handed_over:
        assert deliveries.delivered(delivery, courier, code=order.handover_code) is True
        _db.session.commit()
        assert _db.session.get(Order, order.id).status == OrderStatus.COMPLETED
        return
    with pytest.raises(DomainError) as refused:
        deliveries.delivered(delivery, courier, code=order.handover_code)
    assert _in_both_languages(refused.value.reasons["code"]) == AT_THE_DOOR
    _db.session.rollback()
    assert _db.session.get(Order, order.id).status == OrderStatus.OUT_FOR_DELIVERY
