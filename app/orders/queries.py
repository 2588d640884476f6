"""What the order pages read: a patient's orders, an order's payment."""

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from app.extensions import db
from app.orders.models import PAYABLE, Order, OrderLine
from app.orders.states import HOLDING_STATUSES, OrderStatus
from app.payments.models import Payment
from app.prescribing.rules import supply_last_day
from app.prescribing.services import local_date

# A patient has a handful of orders a month; the newest fifty cover years of monthly refills.
SHOWN = 50


def for_patient(patient) -> list[Order]:
    """The patient's newest orders with their store and lines (ix_orders_patient_placed)."""
    return db.session.scalars(
        select(Order).where(Order.patient_id == patient.id)
        .options(joinedload(Order.store), selectinload(Order.lines).joinedload(OrderLine.drug))
        .order_by(Order.placed_at.desc(), Order.id.desc()).limit(SHOWN)).all()


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
