"""What the order pages read: a patient's orders, an order's payment."""

from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from app.extensions import db
from app.orders.models import PAYABLE, Order, OrderLine
from app.orders.states import HOLDING_STATUSES
from app.payments.models import Payment

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
