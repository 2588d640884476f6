"""The SMS an order sends its patient: paid, ready, out for delivery, delivered, cancelled (and why),
refunded after dispensing, its hold expired.

Each is a row in the SMS outbox, in the caller's transaction, sent as app.notifications.notices says.
"""

from app.notifications.notices import notify
from app.orders.models import Order


def _send(order: Order, template: str, **context) -> None:
    from app.templating import yuan  # the template helpers import every feature's labels

    patient = order.patient
    notify(patient, template, order=order.id, total=yuan(order.total_fen),
           store=order.store.name_zh if patient.locale == "zh" else order.store.name_en, **context)


def paid(order: Order) -> None:
    _send(order, "order_paid", pickup=order.fulfilment == "pickup")


def ready_for_pickup(order: Order) -> None:
    _send(order, "order_ready", code=order.handover_code)


def out_for_delivery(order: Order) -> None:
    _send(order, "order_out_for_delivery", code=order.handover_code)


def delivered(order: Order) -> None:
    _send(order, "order_delivered")


def refunded(order: Order) -> None:
    _send(order, "order_refunded")


def cancelled(order: Order, why) -> None:
    _send(order, "order_cancelled", why=why)


def reservation_expired(order: Order) -> None:
    _send(order, "order_reservation_expired")
