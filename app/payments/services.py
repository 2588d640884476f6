"""Payment verbs: start, capture, release; and applying Stripe's word (webhooks) to our rows.

Money follows the clinical state. A card is authorized at booking (manual capture)
and captured when the doctor accepts; if the consultation ends before that, the
authorization is cancelled and the patient is never charged. Wallets (Alipay,
WeChat Pay) cannot be captured later: they are charged at once and refunded instead.

The patient's own payment becomes 'authorized' or 'captured' only through a verified
webhook (or `flask payments reconcile` asking Stripe when the webhook never came). Capture,
cancel and refund are our own calls: the verbs here only record them as payment operations,
in the caller's transaction; app/payments/operations.py performs them after the commit and
applies Stripe's answer (localstripe sends no event for them; Stripe's later events are no-ops).
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.audit.services import record
from app.database import utcnow
from app.errors import DomainError
from app.extensions import db
from app.integrations.stripe_gateway import CardDeclined, GatewayError, GatewayUnavailable, Intent, gateway
from app.payments.declines import decline_message
from app.payments.models import (
    LIVE_STATUSES,
    OperationKind,
    OperationStatus,
    Payment,
    PaymentOperation,
    PaymentStatus,
    StripeEvent,
)
from app.payments.states import MACHINE

log = logging.getLogger(__name__)

# Offline test cards the payment page offers while STRIPE_TEST_CARDS is on (development, tests).
TEST_CARDS = {"pm_card_visa": "Visa 4242", "pm_card_chargeCustomerFail": _l("Declined card 0341")}
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


def start(pending: Callable[[], Payment], *, test_card: str | None = None) -> Intent:
    """Start paying: the pending payment row that `pending()` returns, then its PaymentIntent.

    Like app/payments/operations.py this commits, in two short steps: the row carries the
    idempotency key Stripe is sent, so it is stored before Stripe is asked, and Stripe is asked
    with no transaction and no row lock open. A declined card keeps its failed payment and audit
    row (committed) and raises the DomainError the payer reads. With STRIPE_TEST_CARDS on, the
    intent is confirmed at once with an offline test card instead of Stripe's Payment Element.
    """
    test_cards = current_app.config["STRIPE_TEST_CARDS"]
    if test_cards and test_card not in TEST_CARDS:
        raise DomainError({"test_card": _l("Choose a test card.")})
    payment = pending()
    db.session.commit()
    try:
        return attach_intent(payment, test_card if test_cards else None)
    except DomainError:
        db.session.commit()  # the declined payment and its audit row stay, whatever the caller does
        raise


def resume(payment: Payment) -> Intent:
    """The intent of a payment the payer left before finishing (its Payment Element is shown again)."""
    return gateway().retrieve(payment.stripe_payment_intent_id)


def attach_intent(payment: Payment, test_card: str | None = None) -> Intent:
    """Create the PaymentIntent for a pending payment (idempotent per payment row).

    Called with no transaction open (the payment row was committed first): the call to Stripe
    holds no lock. A payment closed while Stripe was asked gets its new intent cancelled.
    """
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
        payment = _locked(payment)
        payment.stripe_payment_intent_id = payment.stripe_payment_intent_id or error.intent_id
        if payment.status == PaymentStatus.PENDING:
            _mark_failed(payment, error.message, error.code or "card_declined")
        raise DomainError(_l("The payment was declined: %(reason)s",
                             reason=decline_message(error.code))) from error
    except GatewayUnavailable as error:
        # Stripe may have made the intent: the payment stays pending so that trying again sends
        # the same idempotency key (and reconcile closes it if nobody does).
        log.warning("no answer from Stripe creating the intent of payment %s: %s", payment.id, error)
        raise DomainError(_l("The payment service is not available. Please try again later.")) from error
    except GatewayError as error:
        payment = _locked(payment)
        if payment.status == PaymentStatus.PENDING:
            _mark_failed(payment, str(error))
        raise DomainError(_l("The payment service is not available. Please try again later.")) from error
    payment = _locked(payment)
    payment.stripe_payment_intent_id = intent.id
    if payment.status in (PaymentStatus.CANCELED, PaymentStatus.FAILED):
        _queue(payment, OperationKind.CANCEL, payment.amount_fen, "closed while paying")
    db.session.flush()
    return intent


def _mark_failed(payment: Payment, message: str, code: str | None = None) -> None:
    MACHINE.move(payment, PaymentStatus.FAILED)
    payment.failure_message = (message or "")[:255]
    payment.failure_code = (code or "")[:64] or None
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


INTENT_STATUS = {
    "requires_capture": PaymentStatus.AUTHORIZED,
    "succeeded": PaymentStatus.CAPTURED,
    "canceled": PaymentStatus.CANCELED,
}


def apply_intent(payment: Payment, intent: Intent) -> bool:
    """Move the payment to what Stripe says, along the state table; True when something changed.

    The caller holds the payment's row lock. A move the table refuses changes nothing: a late or
    replayed event cannot reopen a closed payment, step a captured one back, or "cancel" money
    already taken. Money that reaches a payment we already closed is given back.
    """
    now = utcnow()
    target = INTENT_STATUS.get(intent.status)
    if intent.status == "requires_payment_method" and intent.failure_message:
        if payment.status == PaymentStatus.PENDING:
            _mark_failed(payment, intent.failure_message, intent.failure_code)
            return True
        return False
    if target is None or target == payment.status:
        return False
    if not MACHINE.can_move(payment.status, target):
        if payment.status == PaymentStatus.CANCELED and target in (PaymentStatus.AUTHORIZED,
                                                                   PaymentStatus.CAPTURED):
            _give_back_late_money(payment, target)
        else:
            log.warning("payment %s is %s; Stripe's %s for %s changes nothing", payment.id, payment.status,
                        intent.status, intent.id)
        return False
    was_unpaid = payment.status in (PaymentStatus.PENDING, PaymentStatus.FAILED)
    MACHINE.move(payment, target)
    if was_unpaid:
        payment.closed_at = None  # a declined payment the payer retried in Stripe's form
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


def _give_back_late_money(payment: Payment, held_as: PaymentStatus) -> None:
    """The card was held (or charged) after we cancelled the payment: release (or refund) it."""
    log.warning("payment %s is %s but Stripe holds its money (%s); giving it back", payment.id,
                payment.status, held_as)
    if held_as == PaymentStatus.AUTHORIZED:
        _queue(payment, OperationKind.CANCEL, payment.amount_fen, "late authorization")
    elif _refund_still_owed(payment) > 0:
        _queue(payment, OperationKind.REFUND, _refund_still_owed(payment), "late charge")


def _queue(payment: Payment, kind: OperationKind, amount_fen: int, reason: str) -> PaymentOperation:
    """Record a call to Stripe we owe (once per capture / cancel); it is made after the commit."""
    if kind in (OperationKind.CAPTURE, OperationKind.CANCEL):
        existing = db.session.scalar(select(PaymentOperation).where(
            PaymentOperation.payment_id == payment.id, PaymentOperation.kind == kind))
        if existing is not None:
            return existing
    operation = PaymentOperation(payment_id=payment.id, kind=kind, amount_fen=amount_fen,
                                 reason=(reason or "")[:60], next_attempt_at=utcnow())
    db.session.add(operation)
    db.session.flush()
    record(f"payment.{kind}_requested", obj=payment, patient=payment.patient_id,
           detail=f"operation {operation.id}: {amount_fen} fen {operation.reason}".strip())
    return operation


def capture(payment: Payment) -> PaymentOperation | None:
    """Ask for the authorized money to be taken (the doctor accepted); the capture follows the commit."""
    payment = _locked(payment)
    if payment.status != PaymentStatus.AUTHORIZED:
        return None
    return _queue(payment, OperationKind.CAPTURE, payment.amount_fen, "capture")


def _refund_still_owed(payment: Payment) -> int:
    """What is left to give back once the refunds already asked for are made (read, not cached)."""
    queued = db.session.scalar(select(func.coalesce(func.sum(PaymentOperation.amount_fen), 0)).where(
        PaymentOperation.payment_id == payment.id, PaymentOperation.kind == OperationKind.REFUND,
        PaymentOperation.status == OperationStatus.PENDING))
    return payment.amount_fen - payment.amount_refunded_fen - queued


def release(payment: Payment | None, reason: str) -> PaymentOperation | None:
    """Give the money back: cancel an authorization, refund a capture; each asked for once.

    Nothing is sent to Stripe here (the caller holds row locks): the operation is recorded and
    performed after the commit. A payment whose intent was never created is closed at once.
    """
    if payment is None:
        return None
    payment = _locked(payment)
    operation = None
    if payment.status == PaymentStatus.PENDING and not payment.stripe_payment_intent_id:
        MACHINE.move(payment, PaymentStatus.CANCELED)
        payment.closed_at = utcnow()
    elif payment.status in (PaymentStatus.PENDING, PaymentStatus.AUTHORIZED):
        operation = _queue(payment, OperationKind.CANCEL, payment.amount_fen, reason)
    elif payment.status == PaymentStatus.CAPTURED:
        owed = _refund_still_owed(payment)
        if owed <= 0:
            return None
        operation = _queue(payment, OperationKind.REFUND, owed, reason)
    else:
        return None
    db.session.flush()
    record("payment.released", obj=payment, patient=payment.patient_id, detail=f"{reason}: {payment.status}")
    return operation


def _payment_for(obj: dict) -> Payment | None:
    intent_id = obj.get("payment_intent") if obj.get("object") in ("charge", "refund") else obj.get("id")
    payment = None
    if intent_id:
        payment = db.session.scalar(select(Payment).where(Payment.stripe_payment_intent_id == intent_id))
    if payment is None and obj.get("object") == "payment_intent":
        # The event can overtake the request that stores the intent id: match our own metadata.
        payment_id = (obj.get("metadata") or {}).get("payment_id", "")
        if isinstance(payment_id, str) and payment_id.isascii() and payment_id.isdigit() \
                and len(payment_id) < 19:
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
        if metadata.get("payable") not in (None, expected) or obj.get("amount") != payment.amount_fen:
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
