"""Payment verbs: start, capture, release; and applying Stripe's word (webhooks) to our rows.

Money follows the clinical state. A card is authorized at booking (manual capture)
and captured when the doctor accepts; if the consultation ends before that, the
authorization is cancelled and the patient is never charged. Wallets (Alipay,
WeChat Pay) cannot be captured later: they are charged at once and refunded instead.

The patient's own payment becomes 'authorized' or 'captured' only through a verified
webhook. Capture, cancel and refund are our own calls: their answer from Stripe is
applied at once (localstripe sends no event for them; Stripe's later events are no-ops).
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.audit.services import record
from app.database import utcnow
from app.errors import DomainError
from app.extensions import db
from app.integrations.stripe_gateway import CardDeclined, GatewayError, Intent, gateway
from app.payments.models import LIVE_STATUSES, Payment, PaymentStatus, Refund, StripeEvent

log = logging.getLogger(__name__)

# Offline test cards offered by the payment page when talking to localstripe.
TEST_CARDS = {"pm_card_visa": "Visa 4242", "pm_card_chargeCustomerFail": "Declined card 0341"}
WALLETS = frozenset({"alipay", "wechat_pay"})


@dataclass(frozen=True)
class PayableHandlers:
    """What a payable (a consultation, an order) does when its payment changes."""

    on_paid: Callable[[Payment], None]
    on_failed: Callable[[Payment], None]


payable_handlers: dict[str, PayableHandlers] = {}


def register_payable(payable_type: str, handlers: PayableHandlers) -> None:
    payable_handlers[payable_type] = handlers


def live_payment(payable_type: str, payable_id: int) -> Payment | None:
    return db.session.scalar(
        select(Payment).where(Payment.payable_type == payable_type, Payment.payable_id == payable_id,
                              Payment.status.in_(LIVE_STATUSES))
        .order_by(Payment.id.desc())
    )


def create_payment(*, payable_type: str, payable_id: int, patient, amount_fen: int,
                   method_type: str = "card") -> Payment:
    """A pending payment row; the caller commits it before asking Stripe (see attach_intent)."""
    if method_type not in current_app.config["PAYMENT_METHOD_TYPES"]:
        raise DomainError({"method_type": _l("Choose a payment method.")})
    if live_payment(payable_type, payable_id) is not None:
        raise DomainError(_l("This has already been paid or a payment is in progress."))
    payment = Payment(
        payable_type=payable_type, payable_id=payable_id, patient_id=patient.id,
        amount_fen=amount_fen, currency=current_app.config["PAYMENT_CURRENCY"],
        method_type=method_type, capture_method="automatic" if method_type in WALLETS else "manual",
    )
    db.session.add(payment)
    db.session.flush()
    record("payment.created", obj=payment, patient=patient,
           detail=f"{payable_type}:{payable_id} {amount_fen} fen {method_type}")
    return payment


def attach_intent(payment: Payment, test_card: str | None = None) -> Intent:
    """Create the PaymentIntent for a pending payment (idempotent per payment row)."""
    if test_card is not None and test_card not in TEST_CARDS:
        raise DomainError({"test_card": _l("Choose a test card.")})
    try:
        intent = gateway().create_intent(
            amount=payment.amount_fen, currency=payment.currency, capture_method=payment.capture_method,
            method_types=[payment.method_type], idempotency_key=payment.idempotency_key,
            metadata={"payment_id": str(payment.id),
                      "payable": f"{payment.payable_type}:{payment.payable_id}"},
            payment_method=test_card,
        )
    except CardDeclined as error:
        payment.stripe_payment_intent_id = payment.stripe_payment_intent_id or error.intent_id
        _mark_failed(payment, error.message)
        raise DomainError(_l("The payment was declined: %(reason)s", reason=error.message)) from error
    except GatewayError as error:
        _mark_failed(payment, str(error))
        raise DomainError(_l("The payment service is not available. Please try again later.")) from error
    payment.stripe_payment_intent_id = intent.id
    db.session.flush()
    return intent


def _mark_failed(payment: Payment, message: str) -> None:
    payment.status = PaymentStatus.FAILED
    payment.failure_message = (message or "")[:255]
    payment.closed_at = utcnow()
    db.session.flush()
    record("payment.failed", obj=payment, patient=payment.patient_id, detail=payment.failure_message)
    handlers = payable_handlers.get(payment.payable_type)
    if handlers:
        handlers.on_failed(payment)


def _locked(payment: Payment) -> Payment:
    """Re-read the payment under a row lock so two releases cannot both act."""
    return db.session.scalar(
        select(Payment).where(Payment.id == payment.id).with_for_update().execution_options(
            populate_existing=True)
    )


def apply_intent(payment: Payment, intent: Intent) -> bool:
    """Move the payment to what Stripe says; True when something changed."""
    now = utcnow()
    target = {
        "requires_capture": PaymentStatus.AUTHORIZED,
        "succeeded": PaymentStatus.CAPTURED,
        "canceled": PaymentStatus.CANCELED,
    }.get(intent.status)
    if intent.status == "requires_payment_method" and intent.failure_message:
        if payment.status == PaymentStatus.PENDING:
            _mark_failed(payment, intent.failure_message)
            return True
        return False
    if target is None or target == payment.status:
        return False
    if payment.status in (PaymentStatus.CANCELED, PaymentStatus.REFUNDED, PaymentStatus.FAILED):
        return False  # closed: a late or replayed event cannot reopen it
    if payment.status == PaymentStatus.CAPTURED and target == PaymentStatus.AUTHORIZED:
        return False  # out-of-order delivery: never step back
    was_unpaid = payment.status == PaymentStatus.PENDING
    payment.status = target
    if target == PaymentStatus.AUTHORIZED:
        payment.authorized_at = now
    elif target == PaymentStatus.CAPTURED:
        payment.captured_at = now
        payment.authorized_at = payment.authorized_at or now
    else:
        payment.closed_at = now
    db.session.flush()
    record(f"payment.{target}", obj=payment, patient=payment.patient_id, detail=intent.id)
    handlers = payable_handlers.get(payment.payable_type)
    if was_unpaid and target in (PaymentStatus.AUTHORIZED, PaymentStatus.CAPTURED) and handlers:
        handlers.on_paid(payment)
    return True


def capture(payment: Payment) -> None:
    """Take the authorized money (the doctor accepted); exactly once."""
    payment = _locked(payment)
    if payment.status != PaymentStatus.AUTHORIZED:
        return
    try:
        intent = gateway().capture(payment.stripe_payment_intent_id, f"payment-{payment.id}-capture")
    except GatewayError as error:
        raise DomainError(_l("The payment could not be taken. Please try again.")) from error
    apply_intent(payment, intent)


def release(payment: Payment | None, reason: str) -> None:
    """Give the money back: cancel an authorization, refund a capture; exactly once."""
    if payment is None:
        return
    payment = _locked(payment)
    try:
        if payment.status in (PaymentStatus.PENDING, PaymentStatus.AUTHORIZED):
            if payment.stripe_payment_intent_id:
                intent = gateway().cancel(payment.stripe_payment_intent_id, f"payment-{payment.id}-cancel")
                apply_intent(payment, intent)
            if payment.status == PaymentStatus.PENDING:
                payment.status = PaymentStatus.CANCELED
                payment.closed_at = utcnow()
        elif payment.status == PaymentStatus.CAPTURED:
            remaining = payment.amount_fen - payment.amount_refunded_fen
            result = gateway().refund(payment.stripe_payment_intent_id, remaining,
                                      f"payment-{payment.id}-refund-{reason}", reason)
            db.session.add(Refund(payment=payment, stripe_refund_id=result.id, amount_fen=remaining,
                                  status=result.status, reason=reason))
            payment.amount_refunded_fen += remaining
            payment.status = PaymentStatus.REFUNDED
            payment.closed_at = utcnow()
        else:
            return
    except GatewayError as error:
        raise DomainError(_l("The refund could not be made. Please try again.")) from error
    db.session.flush()
    record("payment.released", obj=payment, patient=payment.patient_id, detail=f"{reason}: {payment.status}")


def _payment_for(obj: dict) -> Payment | None:
    intent_id = obj.get("payment_intent") if obj.get("object") in ("charge", "refund") else obj.get("id")
    payment = None
    if intent_id:
        payment = db.session.scalar(select(Payment).where(Payment.stripe_payment_intent_id == intent_id))
    if payment is None and obj.get("object") == "payment_intent":
        # The event can overtake the request that stores the intent id: match our own metadata.
        payment_id = (obj.get("metadata") or {}).get("payment_id", "")
        if payment_id.isdigit():
            candidate = db.session.get(Payment, int(payment_id))
            if candidate is not None and candidate.stripe_payment_intent_id in (None, intent_id):
                candidate.stripe_payment_intent_id = intent_id
                payment = candidate
    return payment


def handle_event(event: dict) -> str:
    """Apply one verified webhook event; a redelivered event id changes nothing."""
    try:
        with db.session.begin_nested():
            stored = StripeEvent(event_id=event["id"], type=event.get("type", ""))
            db.session.add(stored)
    except IntegrityError:
        return "duplicate"
    obj = (event.get("data") or {}).get("object") or {}
    payment = _payment_for(obj)
    if payment is None:
        log.warning("Stripe event %s (%s) names no payment of ours", event["id"], stored.type)
        stored.outcome = "unknown payment"
    elif obj.get("object") == "payment_intent":
        metadata = obj.get("metadata") or {}
        expected = f"{payment.payable_type}:{payment.payable_id}"
        amount = int(obj.get("amount") or 0)
        if metadata.get("payable") not in (None, expected) or amount != payment.amount_fen:
            log.warning("Stripe event %s does not match payment %s", event["id"], payment.id)
            stored.outcome = "mismatch"
        else:
            changed = apply_intent(_locked(payment), Intent.from_object(obj))
            stored.outcome = "applied" if changed else "no change"
    else:
        stored.outcome = "noted"  # refunds are recorded when we make them
    stored.payment_id = payment.id if payment else None
    stored.processed_at = utcnow()
    db.session.flush()
    return stored.outcome
