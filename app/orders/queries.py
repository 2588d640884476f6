"""What the order pages read: a patient's orders, an order's payment."""

from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from app.delivery.models import Delivery
from app.delivery.states import DeliveryStatus
from app.extensions import db
from app.orders.models import PAYABLE, Order, OrderLine
from app.orders.states import HOLDING_STATUSES, OrderStatus
from app.pagination import Page, Sort, paginate
from app.payments.models import Payment
from app.prescribing.rules import supply_last_day
from app.prescribing.services import local_date

# A patient has a handful of orders a month: a page covers about two years of monthly refills.
PAGE_SIZE = 20
# Newest first through ix_orders_patient_placed (patient_id, placed_at, id); the id breaks ties.
NEWEST_FIRST = Sort([Order.placed_at, Order.id], [datetime, int], descending=True)


def for_patient(patient, *, after: str | None = None, size: int | None = None) -> Page:
    """A page of the patient's orders, newest first, with the store and lines each row shows."""
    statement = (select(Order).where(Order.patient_id == patient.id)
                 .options(joinedload(Order.store), selectinload(Order.lines).joinedload(OrderLine.drug)))
    return paginate(statement, NEWEST_FIRST, after=after, size=size or PAGE_SIZE,
                    key=lambda order: (order.placed_at, order.id))


# The store's work, oldest first: what to dispense, what waits at the counter, and a parcel the courier
# brought back (it waits for a replacement or a refund).
AT_THE_STORE = (OrderStatus.PAID, OrderStatus.DISPENSING, OrderStatus.READY_FOR_PICKUP)


def _at_the_store(store_id: int | None):
    # Every status the page can list goes through ix_orders_store_status (store_id, status, placed_at);
    # only parcels out for delivery are then narrowed to those brought back.
    out = OrderStatus.OUT_FOR_DELIVERY
    return (select(Order).outerjoin(Delivery, Delivery.order_id == Order.id)
            .where(Order.store_id == store_id, Order.status.in_((*AT_THE_STORE, out)),
                   (Order.status != out) | (Delivery.status == DeliveryStatus.RETURNED)))


def store_queue(store_id: int | None, limit: int) -> tuple[list[Order], int]:
    """The store's `limit` oldest orders waiting for it, with the patient, lines and delivery each row
    shows, and how many wait in all (counted only when the list is full)."""
    shown = db.session.scalars(
        _at_the_store(store_id)
        .options(joinedload(Order.patient), selectinload(Order.lines).joinedload(OrderLine.drug),
                 joinedload(Order.delivery))
        .order_by(Order.placed_at, Order.id).limit(limit)).unique().all()
    total = len(shown)
    if total == limit:
        total = db.session.scalar(_at_the_store(store_id).with_only_columns(func.count(Order.id)))
    return shown, total


def holding_order(prescription_id: int) -> Order | None:
    """The order that holds this prescription version (open or completed), if any."""
    return db.session.scalar(select(Order).where(Order.prescription_id == prescription_id,
                                                 Order.status.in_(HOLDING_STATUSES)))


def current_payment(order: Order) -> Payment | None:
    """The order's latest payment attempt, whatever its state."""
    return db.session.scalar(select(Payment).where(Payment.payable_type == PAYABLE,
                                                   Payment.payable_id == order.id)
                             .order_by(Payment.id.desc()).limit(1))


# A new supply needs a new prescription: the order page offers a follow-up for a refill once this many
# days of the dispensed supply or fewer remain (counting today).
REFILL_DAYS = 7


def supply_end(order: Order) -> date | None:
    """The last day the dispensed supply lasts (the longest line), or None before dispensing."""
    if order.dispensed_at is None or not order.lines:
        return None
    return supply_last_day(local_date(order.dispensed_at), max(line.days_supply for line in order.lines))


def refill_due(order: Order, today: date) -> date | None:
    """The supply's last day when a refill should be asked for now, else None."""
    end = supply_end(order)
    if end is None or order.status != OrderStatus.COMPLETED:
        return None
    return end if (end - today).days + 1 <= REFILL_DAYS else None
