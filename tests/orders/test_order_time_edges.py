"""An order's time limits at their edges. On a prescription's last valid day and the day after it: filled
and paid up to the last second of that day (in China), refused from midnight with the reason in the
patient's language, and a payment that arrives too late given back. The 24 hours an order waits to be
paid before the worker cancels it, and the 3 days a store that needs a transfer expects to take."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from app.database import utcnow
from app.errors import DomainError
from app.extensions import db as _db
from app.orders import services as orders
from app.orders.models import Order
from app.orders.states import OrderStatus
from app.prescribing import services as rx
from tests import factories

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _orders() -> int:
    return _db.session.scalar(select(func.count()).select_from(Order))


def test_ordered_in_the_last_second_of_its_last_valid_day(db, shop, approve):
    prescription = approve()
    last_second = datetime.combine(prescription.valid_until, time(23, 59, 59), tzinfo=SHANGHAI)
    order = orders.place(prescription, prescription.patient, store_id=shop.store.id, fulfilment="pickup",
                         now=last_second)
    _db.session.commit()
    assert _db.session.get(Order, order.id).status == OrderStatus.AWAITING_PAYMENT


def test_not_ordered_from_midnight_after_it_with_the_reason(db, shop, approve):
    prescription = approve()
    midnight = datetime.combine(prescription.valid_until + timedelta(days=1), time(0, 0), tzinfo=SHANGHAI)
    with pytest.raises(DomainError) as refused:
        orders.place(prescription, prescription.patient, store_id=shop.store.id, fulfilment="pickup",
                     now=midnight)
    last_day = prescription.valid_until.isoformat()
    reason = refused.value.reasons[""]
    with force_locale("en"):
        assert str(reason) == (f"This prescription was valid until {last_day} and can no longer be filled. "
                               "Book a follow-up consultation for a new one.")
    with force_locale("zh"):
        assert str(reason) == f"此处方有效期至 {last_day}，已无法调配。请预约复诊以获得新处方。"
    _db.session.rollback()
    assert _orders() == 0


def test_paid_on_its_last_valid_day_and_not_the_day_after(db, shop, approve, ordering):
    prescription = approve()
    order = ordering.place(prescription, shop.store)
    prescription.valid_until = rx.local_date(utcnow())  # today is its last valid day
    _db.session.commit()
    assert orders.start_payment(order).amount_fen == order.total_fen
    _db.session.rollback()

    prescription.valid_until -= timedelta(days=1)  # yesterday was
    _db.session.commit()
    with pytest.raises(DomainError) as refused:
        orders.start_payment(order)
    with force_locale("en"):
        assert str(refused.value.reasons[""]) == (
            "This prescription is no longer valid, so the order cannot be paid. Cancel it and book a "
            "follow-up consultation for a new prescription.")
    with force_locale("zh"):
        assert str(refused.value.reasons[""]) == (
            "此处方已失效，订单无法支付。请取消订单，并预约复诊以获得新处方。")


@pytest.mark.parametrize(("days_back", "status"), [
    pytest.param(0, OrderStatus.PAID, id="arrives-on-the-last-day"),
    pytest.param(1, OrderStatus.CANCELLED, id="arrives-the-day-after"),
])
def test_a_payment_arriving_after_the_last_valid_day_is_given_back(db, shop, approve, ordering, flow,
                                                                   days_back, status):
    prescription = approve()
    order = ordering.place(prescription, shop.store)
    payment = ordering.pay(order)
    # The patient paid; the card network answers after the prescription's last day has gone.
    prescription.valid_until = rx.local_date(utcnow()) - timedelta(days=days_back)
    _db.session.commit()
    flow.confirm(payment)
    order = _db.session.get(Order, order.id)
    assert order.status == status
    if status == OrderStatus.CANCELLED:
        assert order.close_reason == "prescription_invalid"


def test_an_unpaid_order_waits_24_hours_to_the_second(db, shop, approve, ordering):
    prescription = approve()
    prescription.valid_until += timedelta(days=2)  # extended by the doctor: only the payment window ends it
    order = ordering.place(prescription, shop.store)
    placed = _db.session.get(Order, order.id).placed_at
    assert orders.cancel_unpaid(50, now=placed + timedelta(hours=24) - timedelta(seconds=1)) == 0
    assert _db.session.get(Order, order.id).status == OrderStatus.AWAITING_PAYMENT
    assert orders.cancel_unpaid(50, now=placed + timedelta(hours=24)) == 1
    _db.session.commit()
    order = _db.session.get(Order, order.id)
    assert (order.status, order.close_reason) == (OrderStatus.CANCELLED, "not_paid")


def test_a_store_that_needs_a_transfer_expects_the_medicine_in_3_days(db, client, login_as, shop, approve,
                                                                      ordering):
    prescription = approve()
    empty = factories.make_store(code="EMPTY")
    _db.session.commit()
    order = ordering.place(prescription, empty)
    expected = empty.today() + timedelta(days=3)
    assert _db.session.get(Order, order.id).ready_after == expected
    login_as(prescription.patient)
    page = client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert f'id="ready-after">{expected.isoformat()}<' in page
