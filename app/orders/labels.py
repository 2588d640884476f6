"""What an order's states and ways of fulfilment are called on screen, built once."""

from flask_babel import lazy_gettext as _l

from app.labels import badge
from app.orders.states import OrderStatus as S

STATUSES = {
    S.AWAITING_PAYMENT: (_l("Awaiting payment"), "warning"),
    S.PAID: (_l("Paid; the store is preparing it"), "info"),
    S.DISPENSING: (_l("Being dispensed"), "info"),
    S.READY_FOR_PICKUP: (_l("Ready for pickup"), "success"),
    S.OUT_FOR_DELIVERY: (_l("Out for delivery"), "primary"),
    S.COMPLETED: (_l("Completed"), "success"),
    S.CANCELLED: (_l("Cancelled"), "secondary"),
    S.REFUNDED: (_l("Refunded"), "secondary"),
}

FULFILMENTS = {"pickup": _l("Pickup in the store"), "delivery": _l("Delivery")}


def status(value, language: str | None = None) -> tuple[str, str]:
    """(name in the reader's language, badge colour); an unknown state is shown as its code."""
    return badge(STATUSES, value, language)
