"""The SMS an order sends its patient: paid, ready, out for delivery, delivered, cancelled (and why),
refunded after dispensing, its hold expired.

Each is a row in the SMS outbox, in the caller's transaction; the worker sends it. Only a patient who
agreed to SMS (the sms_reminders consent) and verified a phone is texted: the order page shows the
same news to everyone.
"""

from app.orders.models import Order
from app.patients.models import ConsentKind
from app.patients.queries import active_consent


def _send(order: Order, template: str, **context) -> None:
    from app.notifications.services import queue_sms  # the outbox renders templates with the app
    from app.templating import yuan  # the template helpers import every feature's labels

    patient = order.patient
    if not patient.has_verified_phone or active_consent(patient, ConsentKind.SMS_REMINDERS) is None:
        return
    queue_sms(to_phone=patient.phone, template=template, locale=patient.locale, user=patient,
              order=order.id, store=order.store.name_zh if patient.locale == "zh" else order.store.name_en,
              total=yuan(order.total_fen), **context)


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
