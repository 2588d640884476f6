"""Placing an order, the money and the stock that follow it, and closing it before dispensing.

Money follows the order (app/payments): a card is authorized when the patient pays and captured only
when the medicines are handed over or leave the store; a wallet is charged at once and refunded
instead. The stock is reserved first-expiry-first-out in the webhook's transaction, the one that
records the authorization: if it cannot be reserved, the authorization is cancelled there too and the
patient is told why. Calls to Stripe happen after the commit (app/payments/operations.py).
"""

import logging
from contextlib import suppress
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.audit.services import record
from app.database import utcnow
from app.errors import DomainError
from app.extensions import db
from app.inventory import availability, reservations, transfers
from app.inventory.inputs import drug_label
from app.inventory.models import StockTransfer, Store, TransferStatus
from app.inventory.reservation_expiry import hold_expired_handlers
from app.inventory.rules import TRANSFER_TRANSIT_DAYS
from app.orders import notices
from app.orders.models import PAYABLE, Fulfilment, Order, OrderLine
from app.orders.queries import holding_order
from app.orders.states import MACHINE, PATIENT_CANCELLABLE
from app.orders.states import OrderStatus as S
from app.patients.models import Address
from app.payments import services as payments
from app.payments.models import Payment
from app.prescribing.models import Prescription
from app.prescribing.services import is_valid, local_date
from app.prescribing.states import PrescriptionStatus
from app.reminders import plans as reminder_plans

log = logging.getLogger(__name__)

NOT_APPROVED = _l("Only a prescription approved by a pharmacist can be ordered.")
ALREADY_ORDERED = _l("This prescription has already been ordered. Open the order to follow it.")


def wanted(prescription: Prescription) -> tuple[dict, int]:
    """({drug: packs}, the longest days' supply) of the prescription's lines."""
    items: dict = {}
    for item in prescription.items:
        items[item.drug] = items.get(item.drug, 0) + item.quantity_packs
    return items, max((item.days_supply for item in prescription.items), default=1)


def check_orderable(prescription: Prescription, now: datetime | None = None) -> None:
    """Refuse an order for a prescription that is not approved, no longer valid or already ordered."""
    if prescription.status == PrescriptionStatus.SUPERSEDED:
        raise DomainError(_l("This version of the prescription was replaced by a newer one; order from "
                             "the newest version."))
    if prescription.status != PrescriptionStatus.APPROVED:
        raise DomainError(NOT_APPROVED)
    if not is_valid(prescription, now):
        raise DomainError(_l("This prescription was valid until %(date)s and can no longer be filled. "
                             "Book a follow-up consultation for a new one.",
                             date=prescription.valid_until.isoformat()))
    if holding_order(prescription.id) is not None:
        raise DomainError(ALREADY_ORDERED)


def never_delivered(prescription: Prescription) -> list:
    """The drugs of the prescription the catalogue bars from delivery (pickup only)."""
    return [item.drug for item in prescription.items if not item.drug.is_deliverable]


def store_options(prescription: Prescription, patient, *, address: Address | None = None,
                  now: datetime | None = None) -> availability.Availability:
    """The stores that can fill the prescription now and after a transfer; with `address`, only those
    delivering there (and cold chain only from capable stores)."""
    items, days = wanted(prescription)
    return availability.stores_that_can_fill(items, days, delivery_city=address.city if address else None,
                                             now=now)


def delivery_fee(prescription: Prescription) -> int:
    """The delivery fee in fen: a cold-chain parcel travels in a cold box with ice packs."""
    cold = any(item.drug.is_cold_chain for item in prescription.items)
    return current_app.config["ORDER_COLD_CHAIN_DELIVERY_FEE_FEN" if cold else "ORDER_DELIVERY_FEE_FEN"]


def patient_address(patient, address_id) -> Address:
    address = db.session.get(Address, address_id) if isinstance(address_id, int) else None
    if address is None or address.patient_id != patient.id or not address.is_active:
        raise DomainError({"address": _l("Choose one of your delivery addresses.")})
    return address


def _chosen(options: availability.Availability, store_id) -> availability.FillOption | None:
    for option in (*options.now, *options.after_transfer):
        if option.store.id == store_id:
            return option
    return None


def place(prescription: Prescription, patient, *, store_id, fulfilment: str, address_id=None,
          now: datetime | None = None) -> Order:
    """An order awaiting payment for the prescription at the store the patient chose."""
    if prescription.patient_id != patient.id:
        raise DomainError(NOT_APPROVED)
    check_orderable(prescription, now)
    if fulfilment not in (Fulfilment.PICKUP, Fulfilment.DELIVERY):
        raise DomainError({"fulfilment": _l("Choose pickup in a store or delivery.")})
    address = None
    if fulfilment == Fulfilment.DELIVERY:
        barred = never_delivered(prescription)
        if barred:
            raise DomainError({"fulfilment": _l(
                "%(drug)s may not be delivered; choose pickup in a store.", drug=drug_label(barred[0]))})
        address = patient_address(patient, address_id)
    store = db.session.get(Store, store_id) if isinstance(store_id, int) else None
    if store is None or not store.is_active:
        raise DomainError({"store": _l("Choose one of the stores listed.")})
    option = _chosen(store_options(prescription, patient, address=address, now=now), store.id)
    if option is None:
        if address is not None:
            raise DomainError({"store": _l("%(store)s cannot deliver this prescription to %(city)s. Choose "
                                           "another store or pickup.", store=store.code, city=address.city)})
        raise DomainError({"store": _l("%(store)s cannot fill this prescription now. Choose another store.",
                                       store=store.code)})
    lines = [OrderLine(position=index, prescription_item_id=item.id, drug_id=item.drug_id,
                       packs=item.quantity_packs, days_supply=item.days_supply,
                       unit_price_fen=item.drug.price_fen)
             for index, item in enumerate(prescription.items, start=1)]
    goods = sum(line.total_fen for line in lines)
    fee = delivery_fee(prescription) if address is not None else 0
    order = Order(prescription_id=prescription.id, patient_id=patient.id, store_id=store.id,
                  fulfilment=fulfilment, address_id=address.id if address else None,
                  delivery_address=_address_text(address), goods_fen=goods, delivery_fee_fen=fee,
                  total_fen=goods + fee, currency=current_app.config["PAYMENT_CURRENCY"], lines=lines,
                  ready_after=(store.today(now) + timedelta(days=TRANSFER_TRANSIT_DAYS)
                               if option.transfers else None))
    try:
        with db.session.begin_nested():
            db.session.add(order)
    except IntegrityError:  # another tab placed one a moment ago (uq_orders_prescription_holding)
        raise DomainError(ALREADY_ORDERED) from None
    record("order.placed", obj=order, patient=patient, detail=f"prescription={prescription.id}; "
           f"store={store.code}; {fulfilment}; total={order.total_fen}")
    return order


def _address_text(address: Address | None) -> str:
    if address is None:
        return ""
    parts = (address.province, address.city, address.district, address.street, address.postal_code)
    return f"{address.recipient}, {address.phone}, " + " ".join(part for part in parts if part)


def locked(order: Order) -> Order:
    """Re-read the order under a row lock: payment, cancellation and the worker act one at a time."""
    return db.session.scalar(select(Order).where(Order.id == order.id).with_for_update()
                             .execution_options(populate_existing=True))


def start_payment(order: Order, *, method_type: str = "card") -> Payment:
    """The pending payment of an order awaiting payment; the prescription must still be valid."""
    order = locked(order)
    if order.status != S.AWAITING_PAYMENT:
        raise DomainError(_l("This order is no longer waiting for payment."))
    prescription = order.prescription
    if not is_valid(prescription) or prescription.status != PrescriptionStatus.APPROVED:
        raise DomainError(_l("This prescription is no longer valid, so the order cannot be paid. Cancel "
                             "it and book a follow-up consultation for a new prescription."))
    return payments.create_payment(payable_type=PAYABLE, payable_id=order.id, patient=order.patient,
                                   amount_fen=order.total_fen, method_type=method_type)


def _reserve_or_explain(order: Order) -> str | None:
    """Reserve the order's stock (or ask for its transfers); None when done, else why it failed.
    Runs in a savepoint: a failed reservation leaves nothing half-written in the webhook's transaction."""
    prescription = order.prescription
    items, days = wanted(prescription)
    try:
        with db.session.begin_nested():
            if order.ready_after is None:
                reservations.reserve(order.store, items, days, (PAYABLE, order.id), None,
                                     patient=order.patient_id)
            else:
                _request_transfers(order, items, days)
    except DomainError as error:
        return str(error)
    return None


def _request_transfers(order: Order, items: dict, days: int) -> None:
    """Ask the nearest stores for what the chosen store lacks; each pick keeps lots that last the supply."""
    options = availability.stores_that_can_fill(items, days)
    option = _chosen(options, order.store_id)
    if option is None or not option.transfers:
        # Stock arrived meanwhile (or left the senders): reserve here if the store can fill it now.
        reservations.reserve(order.store, items, days, (PAYABLE, order.id), None, patient=order.patient_id)
        order.ready_after = None
        return
    for needed in option.transfers:
        transfers.request_transfer(needed.from_store, order.store, needed.drug, needed.packs, None,
                                   note=f"order {order.id}", min_shelf_days=days, order_id=order.id)


def _on_paid(payment: Payment) -> None:
    """Inside the verified webhook's transaction: the order is paid, its stock reserved, or the money
    goes straight back with the reason."""
    order = db.session.scalar(select(Order).where(Order.id == payment.payable_id).with_for_update())
    if order is None:
        return
    if order.status != S.AWAITING_PAYMENT:
        log.info("payment %s arrived for order %s in %s; releasing", payment.id, order.id, order.status)
        payments.release(payment, "closed")
        return
    prescription = order.prescription
    if not is_valid(prescription) or prescription.status != PrescriptionStatus.APPROVED:
        _close(order, S.CANCELLED, None, "prescription_invalid", payment)
        notices.cancelled(order, _l("The prescription was no longer valid when the payment arrived."))
        return
    problem = _reserve_or_explain(order)
    if problem is not None:
        _close(order, S.CANCELLED, None, "stock_unavailable", payment)
        record("order.stock_unavailable", obj=order, patient=order.patient_id, detail=problem[:200])
        notices.cancelled(order, _l("The store no longer has the stock for it."))
        return
    MACHINE.move(order, S.PAID)
    order.paid_at = utcnow()
    db.session.flush()
    record("order.paid", obj=order, patient=order.patient_id, detail=f"payment {payment.id}")
    notices.paid(order)


def _on_failed(payment: Payment) -> None:
    """A declined payment leaves the order awaiting payment; the patient may try again."""
    record("order.payment_failed", object_type="orders", object_id=payment.payable_id,
           patient=payment.patient_id, detail=payment.failure_message)


def _close(order: Order, status: S, user, reason: str, payment: Payment | None = None) -> None:
    """Cancel the order: its reservation released and its money given back (each once)."""
    if order.status in (S.PAID, S.DISPENSING) and order.ready_after is None:
        # Nothing may be held any more: the hold expired and the worker gave it back.
        with suppress(DomainError):
            reservations.release(order.store, (PAYABLE, order.id), user, reason="cancelled",
                                 patient=order.patient_id)
    _cancel_transfers(order, user)
    MACHINE.move(order, status)
    order.closed_at = utcnow()
    order.closed_by_id = getattr(user, "id", None)
    order.close_reason = reason
    payments.release(payment or payments.live_payment(PAYABLE, order.id), reason)
    db.session.flush()
    record(f"order.{status}", obj=order, patient=order.patient_id, actor=user, detail=reason)
    reminder_plans.stop_order(order)


def _cancel_transfers(order: Order, user) -> None:
    """Stock asked from other stores for this order stays where it is; one already shipped arrives
    and is simply stock of the receiving store."""
    pending = db.session.scalars(select(StockTransfer).where(
        StockTransfer.order_id == order.id,
        StockTransfer.status.in_((TransferStatus.REQUESTED, TransferStatus.PICKED)))).all()
    for transfer in pending:
        transfers.cancel_transfer(transfer, user, note=f"order {order.id} cancelled")


def cancel_by_patient(order: Order, patient) -> None:
    """The patient cancels before anything is picked from the shelves: nothing is charged (or the
    wallet payment is refunded) and the reservation is released."""
    if order.patient_id != patient.id:
        raise DomainError(_l("This order can no longer be cancelled."))
    order = locked(order)
    if order.status not in PATIENT_CANCELLABLE:
        raise DomainError(_l("This order can no longer be cancelled: the store has started dispensing it."))
    _close(order, S.CANCELLED, patient, "patient_cancelled")
    notices.cancelled(order, _l("You cancelled it."))


def hold_expired(order_id: int) -> None:
    """The worker gave back the stock an order held past the hold time: the order is cancelled and its
    money released (app/inventory/reservation_expiry calls this in the same transaction)."""
    # The worker holds the order's lots; a patient cancelling takes the order first, then its lots.
    # NOWAIT turns that crossing into an error at once: the sweep rolls back and tries next time.
    postgres = db.session.get_bind().dialect.name == "postgresql"
    order = db.session.scalar(select(Order).where(Order.id == order_id).with_for_update(nowait=postgres)
                              .execution_options(populate_existing=True))
    if order is None or order.status not in (S.PAID, S.DISPENSING):
        return
    MACHINE.move(order, S.CANCELLED)
    order.closed_at = utcnow()
    order.close_reason = "reservation_expired"
    payments.release(payments.live_payment(PAYABLE, order.id), "reservation_expired")
    db.session.flush()
    record("order.cancelled", obj=order, patient=order.patient_id, detail="reservation_expired")
    notices.reservation_expired(order)


def due_unpaid(limit: int, now: datetime | None = None):
    """Orders left unpaid past ORDER_PAYMENT_HOURS, or whose prescription's last valid day has passed."""
    now = now or utcnow()
    cutoff = now - timedelta(hours=current_app.config["ORDER_PAYMENT_HOURS"])
    today = local_date(now)
    return (select(Order).join(Prescription, Prescription.id == Order.prescription_id)
            .where(Order.status == S.AWAITING_PAYMENT,
                   (Order.placed_at <= cutoff) | (Prescription.valid_until < today))
            .order_by(Order.placed_at, Order.id).limit(limit))


def cancel_unpaid(limit: int, now: datetime | None = None) -> int:
    """Worker job: cancel orders nobody paid in time; a payment still pending is cancelled with them."""
    handled = 0
    for order in db.session.scalars(due_unpaid(limit, now)).all():
        order = locked(order)
        if order.status != S.AWAITING_PAYMENT:
            continue
        _close(order, S.CANCELLED, None, "not_paid")
        handled += 1
    return handled


payments.register_payable(PAYABLE, payments.PayableHandlers(on_paid=_on_paid, on_failed=_on_failed))
hold_expired_handlers.append(hold_expired)
