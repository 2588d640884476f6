"""Orders: paying reserves the stock in the webhook's transaction; cancelling, stock gone and an
expired hold give the money back exactly once and release what was held."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from app.database import utcnow
from app.errors import DomainError
from app.extensions import db as _db
from app.integrations.stripe_gateway import Intent
from app.inventory import ledger, reservations
from app.inventory.reservation_expiry import release_expired_reservations
from app.notifications.models import OutboundSms
from app.orders import services as orders
from app.orders.models import PAYABLE, Order
from app.orders.states import OrderStatus
from app.payments import operations
from app.payments import services as payments
from app.payments.models import OperationKind, PaymentOperation, PaymentStatus
from tests.orders.conftest import PACKS

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _held(order) -> int:
    return sum(ledger.holdings((PAYABLE, order.id), order.store_id).values())


def _operations(payment, kind) -> int:
    return _db.session.scalar(select(func.count()).select_from(PaymentOperation).where(
        PaymentOperation.payment_id == payment.id, PaymentOperation.kind == kind))


def _texts(patient, purpose) -> list[str]:
    return list(_db.session.scalars(select(OutboundSms.body).where(OutboundSms.user_id == patient.id,
                                                                   OutboundSms.purpose == purpose)))


def test_payment_reserves_the_packs_and_texts_the_patient(db, shop, approve, ordering, texted):
    order, payment = ordering.paid(approve(), shop.store)
    _db.session.refresh(order)
    assert order.status == OrderStatus.PAID and order.paid_at is not None
    assert payment.status == PaymentStatus.AUTHORIZED  # held, not charged: captured at the handover
    assert _held(order) == PACKS
    [text] = _texts(texted, "order_paid")
    assert f"order {order.id} is paid" in text and "ready for pickup" in text


def test_a_webhook_delivered_twice_reserves_once(db, shop, approve, ordering, flow):
    order = ordering.place(approve(), shop.store)
    payment = ordering.pay(order)
    flow.confirm(payment, event_id="evt_order_twice")
    flow.confirm(payment, event_id="evt_order_twice")
    flow.confirm(payment, event_id="evt_order_again")  # a new event for the same intent
    assert _held(_db.session.get(Order, order.id)) == PACKS


def test_cancelling_before_dispensing_releases_the_hold_and_the_money_once(db, shop, approve, ordering,
                                                                           flow, texted):
    order, payment = ordering.paid(approve(), shop.store)
    orders.cancel_by_patient(order, texted)
    _db.session.commit()
    assert operations.perform_for_payable(PAYABLE, order.id)
    flow.confirm(payment, event_id="evt_after_cancel")  # Stripe's late word changes nothing
    flow.confirm(payment, event_id="evt_after_cancel")
    _db.session.expire_all()
    order = _db.session.get(Order, order.id)
    assert order.status == OrderStatus.CANCELLED and order.close_reason == "patient_cancelled"
    assert _held(order) == 0
    assert _operations(payment, OperationKind.CANCEL) == 1
    assert _operations(payment, OperationKind.CAPTURE) == 0
    assert _db.session.get(type(payment), payment.id).status == PaymentStatus.CANCELED
    assert flow.intent(payment)["status"] == "canceled"  # never charged
    assert _texts(texted, "order_cancelled")


def test_a_wallet_payment_cancelled_before_dispensing_is_refunded_once(db, shop, approve, ordering):
    prescription = approve()
    order = ordering.place(prescription, shop.store)
    payment = orders.start_payment(order, method_type="alipay")
    payment.stripe_payment_intent_id = "pi_wallet_test"
    _db.session.commit()
    # A wallet is charged at once: what Stripe reports once the patient approved it in the wallet app.
    payments.apply_intent(payment, Intent(id="pi_wallet_test", status="succeeded", amount=order.total_fen,
                                          currency=payment.currency, metadata={}))
    _db.session.commit()
    assert _db.session.get(Order, order.id).status == OrderStatus.PAID
    orders.cancel_by_patient(order, prescription.patient)
    _db.session.commit()
    with pytest.raises(DomainError, match="can no longer be cancelled"):
        orders.cancel_by_patient(order, prescription.patient)  # a second click
    _db.session.rollback()
    assert _operations(payment, OperationKind.REFUND) == 1
    assert _operations(payment, OperationKind.CANCEL) == 0
    assert _held(_db.session.get(Order, order.id)) == 0


def test_stock_gone_before_the_payment_arrives_cancels_the_authorization(db, shop, approve, ordering,
                                                                         flow, texted, visit):
    prescription = approve()
    order = ordering.place(prescription, shop.store)
    # Meanwhile another order takes every pack of amlodipine the store has.
    amlodipine = visit.drugs["AMLODIPINE-5MG-TAB"]
    reservations.reserve(shop.store, {amlodipine: 20}, 7, ("order", 999_999), None)
    _db.session.commit()
    payment = ordering.pay(order)
    flow.confirm(payment)
    _db.session.expire_all()
    order = _db.session.get(Order, order.id)
    assert order.status == OrderStatus.CANCELLED and order.close_reason == "stock_unavailable"
    assert _held(order) == 0
    assert _operations(payment, OperationKind.CANCEL) == 1
    operations.perform_for_payable(PAYABLE, order.id)
    assert flow.intent(payment)["status"] == "canceled"
    [text] = _texts(texted, "order_cancelled")
    assert "no longer has the stock" in text


def test_an_expired_hold_cancels_the_order_and_releases_the_money(app, db, shop, approve, ordering,
                                                                  texted):
    order, payment = ordering.paid(approve(), shop.store)
    hours = app.config["RESERVATION_HOLD_HOURS"]
    assert release_expired_reservations(50, now=utcnow() + timedelta(hours=hours) - timedelta(minutes=1)) == 0
    assert _db.session.get(Order, order.id).status == OrderStatus.PAID
    assert release_expired_reservations(50, now=utcnow() + timedelta(hours=hours, minutes=1)) == 1
    _db.session.commit()
    order = _db.session.get(Order, order.id)
    assert order.status == OrderStatus.CANCELLED and order.close_reason == "reservation_expired"
    assert _held(order) == 0
    assert _operations(payment, OperationKind.CANCEL) == 1
    assert _texts(texted, "order_reservation_expired")


def test_an_order_left_unpaid_is_cancelled_after_the_payment_window(app, db, shop, approve, ordering):
    prescription = approve()
    prescription.valid_until += timedelta(days=3)  # extended by the doctor: validity is not what ends it
    order = ordering.place(prescription, shop.store)
    hours = app.config["ORDER_PAYMENT_HOURS"]
    placed = _db.session.get(Order, order.id).placed_at
    assert orders.cancel_unpaid(50, now=placed + timedelta(hours=hours) - timedelta(seconds=1)) == 0
    assert orders.cancel_unpaid(50, now=placed + timedelta(hours=hours)) == 1
    _db.session.commit()
    order = _db.session.get(Order, order.id)
    assert order.status == OrderStatus.CANCELLED and order.close_reason == "not_paid"


def test_an_unpaid_order_ends_with_its_prescriptions_last_valid_day(db, shop, approve, ordering):
    prescription = approve()
    ordering.place(prescription, shop.store)
    last_day_noon = datetime.combine(prescription.valid_until, time(12), tzinfo=SHANGHAI)
    assert orders.cancel_unpaid(50, now=last_day_noon) == 0
    assert orders.cancel_unpaid(50, now=last_day_noon + timedelta(hours=12)) == 1  # the next day, 00:00


def test_a_store_that_needs_a_transfer_asks_for_lots_lasting_the_supply(db, shop, approve, ordering):
    from app.inventory.models import StockTransfer
    from tests import factories

    prescription = approve()
    empty = factories.make_store(code="EMPTY")
    [option] = [o for o in orders.store_options(prescription, prescription.patient).after_transfer
                if o.store.code == "EMPTY"]
    assert [t.from_store.code for t in option.transfers] == ["SH1"]
    order, _payment = ordering.paid(prescription, empty)
    order = _db.session.get(Order, order.id)
    assert order.status == OrderStatus.PAID and order.ready_after is not None
    [transfer] = _db.session.scalars(select(StockTransfer).where(StockTransfer.to_store_id == empty.id))
    assert (transfer.from_store_id, transfer.packs_requested) == (shop.store.id, PACKS)
    assert transfer.min_shelf_days == prescription.items[0].days_supply == 28  # a pack of 28, once a day
    assert _held(order) == 0  # nothing to hold at the empty store until the packs arrive
    # The patient cancels: the stock stays where it was.
    orders.cancel_by_patient(order, prescription.patient)
    _db.session.commit()
    _db.session.refresh(transfer)
    assert (transfer.order_id, transfer.status) == (order.id, "cancelled")
