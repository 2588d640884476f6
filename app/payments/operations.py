"""Performing payment operations and reconciling with Stripe, never while a row lock is held.

Each step is its own short transaction, so these functions commit: callers (a view after its
own commit, the worker, `flask payments …`) call them with nothing of theirs left uncommitted.

perform(): claim the operation (attempts + 1 and a lease, one conditional UPDATE, commit), call
Stripe with no transaction open, then record the answer under the payment's row lock. A timeout
leaves the row pending with a growing delay; the next attempt sends the same idempotency key,
so Stripe captures or refunds once however often it is asked. After the last attempt, or when
Stripe refuses for good, the row is marked failed, logged and audited for operations staff.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import or_, select, update

from app.audit.services import record
from app.database import utcnow
from app.extensions import db
from app.integrations.stripe_gateway import GatewayError, GatewayUnavailable, Intent, RefundResult, gateway
from app.payments.models import (
    OperationKind,
    OperationStatus,
    Payment,
    PaymentOperation,
    PaymentStatus,
    Refund,
)
from app.payments.services import apply_intent
from app.payments.states import MACHINE, OPERATION

log = logging.getLogger(__name__)

FIRST_RETRY_SECONDS = 30
LONGEST_RETRY_SECONDS = 3600


@dataclass(frozen=True)
class Claimed:
    """What the call to Stripe needs, read inside the claim so that no row is touched during it."""

    id: int
    payment_id: int
    kind: OperationKind
    amount_fen: int
    reason: str
    intent_id: str | None
    idempotency_key: str
    attempts: int


def _claim(operation_id: int, now: datetime) -> Claimed | None:
    lease = now + timedelta(seconds=current_app.config["PAYMENT_OPERATION_LEASE_SECONDS"])
    claimed = db.session.execute(
        update(PaymentOperation)
        .where(PaymentOperation.id == operation_id, PaymentOperation.status == OperationStatus.PENDING,
               PaymentOperation.next_attempt_at <= now)
        .values(attempts=PaymentOperation.attempts + 1, next_attempt_at=lease)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:  # done, failed, or another performer holds its lease
        db.session.commit()
        return None
    operation, intent_id = db.session.execute(
        select(PaymentOperation, Payment.stripe_payment_intent_id)
        .join(Payment, Payment.id == PaymentOperation.payment_id)
        .where(PaymentOperation.id == operation_id).execution_options(populate_existing=True)
    ).one()
    found = Claimed(operation.id, operation.payment_id, operation.kind, operation.amount_fen,
                    operation.reason, intent_id, operation.idempotency_key, operation.attempts)
    db.session.commit()
    return found


def _call_stripe(job: Claimed) -> Intent | RefundResult:
    stripe = gateway()
    if job.kind == OperationKind.CAPTURE:
        return stripe.capture(job.intent_id, job.idempotency_key)
    if job.kind == OperationKind.CANCEL:
        return stripe.cancel(job.intent_id, job.idempotency_key)
    return stripe.refund(job.intent_id, job.amount_fen, job.idempotency_key, job.reason)


def _locked_rows(job: Claimed) -> tuple[Payment, PaymentOperation]:
    """The payment, then the operation, under row locks (the order every payment change takes)."""
    payment = db.session.scalar(select(Payment).where(Payment.id == job.payment_id).with_for_update()
                                .execution_options(populate_existing=True))
    operation = db.session.scalar(select(PaymentOperation).where(PaymentOperation.id == job.id)
                                  .with_for_update().execution_options(populate_existing=True))
    return payment, operation


def _reached(operation: PaymentOperation, payment: Payment) -> bool:
    """Whether the payment is where the operation meant to take it (by our call or otherwise)."""
    if operation.kind == OperationKind.CAPTURE:
        return payment.status in (PaymentStatus.CAPTURED, PaymentStatus.REFUNDED)
    if operation.kind == OperationKind.CANCEL:
        return payment.status not in (PaymentStatus.PENDING, PaymentStatus.AUTHORIZED)
    return False


def _finish(operation: PaymentOperation, payment: Payment, target: OperationStatus, detail: str) -> None:
    OPERATION.move(operation, target)
    if target == OperationStatus.DONE:
        operation.done_at = utcnow()
        record(f"payment.{operation.kind}_done", obj=payment, patient=payment.patient_id,
               detail=f"operation {operation.id}: {detail}")
        return
    operation.last_error = detail[:255]
    log.error("payment operation %s (%s of payment %s) failed for good: %s; left for operations staff",
              operation.id, operation.kind, payment.id, detail)
    record("payment.operation_failed", obj=payment, patient=payment.patient_id,
           detail=f"operation {operation.id} {operation.kind}: {detail}")


def _record_success(job: Claimed, answer: Intent | RefundResult) -> None:
    payment, operation = _locked_rows(job)
    if operation.status != OperationStatus.PENDING:
        return  # an earlier attempt whose lease ran out was recorded meanwhile
    if isinstance(answer, RefundResult):
        db.session.add(Refund(payment_id=payment.id, stripe_refund_id=answer.id, amount_fen=job.amount_fen,
                              status=answer.status, reason=job.reason))
        payment.amount_refunded_fen += job.amount_fen
        if payment.amount_refunded_fen == payment.amount_fen and MACHINE.can_move(payment.status,
                                                                                    PaymentStatus.REFUNDED):
            MACHINE.move(payment, PaymentStatus.REFUNDED)
            payment.closed_at = utcnow()
        _finish(operation, payment, OperationStatus.DONE, answer.id)
        return
    apply_intent(payment, answer)
    if _reached(operation, payment):
        _finish(operation, payment, OperationStatus.DONE, f"{answer.id} {answer.status}")
    else:
        _finish(operation, payment, OperationStatus.FAILED, f"Stripe answered {answer.status}")


def _retry_later(job: Claimed, error: Exception, now: datetime) -> None:
    payment, operation = _locked_rows(job)
    if operation.status != OperationStatus.PENDING:
        return
    if operation.attempts >= current_app.config["PAYMENT_OPERATION_MAX_ATTEMPTS"]:
        _finish(operation, payment, OperationStatus.FAILED, f"no answer after {operation.attempts} attempts: "
                                                             f"{error}")
        return
    delay = min(FIRST_RETRY_SECONDS * 2 ** (operation.attempts - 1), LONGEST_RETRY_SECONDS)
    operation.next_attempt_at = now + timedelta(seconds=delay)
    operation.last_error = str(error)[:255]
    log.warning("payment operation %s (%s of payment %s): %s; retrying in %ss", operation.id, operation.kind,
                payment.id, error, delay)


def _record_refusal(job: Claimed, error: GatewayError) -> None:
    """Stripe said no for good. For a capture or cancel, what the intent really is decides: a
    cancel of an intent already cancelled (or a capture already taken) has reached its end."""
    intent = None
    if job.kind != OperationKind.REFUND and job.intent_id:
        intent = gateway().retrieve(job.intent_id)  # GatewayUnavailable: retried like a timeout
    payment, operation = _locked_rows(job)
    if operation.status != OperationStatus.PENDING:
        return
    if intent is not None:
        apply_intent(payment, intent)
    if _reached(operation, payment):
        _finish(operation, payment, OperationStatus.DONE, f"already so at Stripe ({error})")
    else:
        _finish(operation, payment, OperationStatus.FAILED, str(error))


def _attempt(job: Claimed, now: datetime) -> None:
    if not job.intent_id:  # a cancel queued before the intent existed: nothing to send
        _record_refusal(job, GatewayError("the payment has no PaymentIntent"))
        return
    try:
        answer = _call_stripe(job)
    except GatewayUnavailable as error:
        _retry_later(job, error, now)
    except GatewayError as error:
        _record_refusal(job, error)
    else:
        _record_success(job, answer)


def perform(operation_id: int, now: datetime | None = None) -> bool:
    """Perform one operation if it is due and nobody else holds it; False when there was nothing to do."""
    now = now or utcnow()
    job = _claim(operation_id, now)
    if job is None:
        return False
    try:
        _attempt(job, now)
    except GatewayUnavailable as error:  # no answer to the look-up that follows a refusal
        db.session.rollback()
        _retry_later(job, error, now)
    db.session.commit()
    return True


def _perform_all(ids: list[int], now: datetime | None) -> int:
    db.session.commit()  # end the read: no transaction stays open while Stripe is asked
    return sum(1 for operation_id in ids if perform(operation_id, now))


def perform_due(limit: int, now: datetime | None = None) -> int:
    """Worker job: every operation whose time has come (new, retried, or whose performer died)."""
    now = now or utcnow()
    ids = list(db.session.scalars(
        select(PaymentOperation.id)
        .where(PaymentOperation.status == OperationStatus.PENDING, PaymentOperation.next_attempt_at <= now)
        .order_by(PaymentOperation.next_attempt_at, PaymentOperation.id).limit(limit)))
    return _perform_all(ids, now)


def perform_for_payable(payable_type: str, payable_id: int) -> bool:
    """Right after a view's commit: perform what the action queued; True when nothing is left pending."""
    pending = (select(PaymentOperation.id)
               .join(Payment, Payment.id == PaymentOperation.payment_id)
               .where(Payment.payable_type == payable_type, Payment.payable_id == payable_id,
                      PaymentOperation.status == OperationStatus.PENDING)
               .order_by(PaymentOperation.id))
    try:
        _perform_all(list(db.session.scalars(pending)), None)
    except Exception:
        # The user's action is committed; the worker performs what is left.
        db.session.rollback()
        log.exception("payment operations of %s %s not performed; left to the worker",
                      payable_type, payable_id)
    left = db.session.scalar(pending.limit(1))
    db.session.commit()
    return left is None


def retry(operation_id: int) -> PaymentOperation | None:
    """Operations staff put a failed operation back in the queue (from its first attempt)."""
    operation = db.session.scalar(select(PaymentOperation).where(PaymentOperation.id == operation_id)
                                  .with_for_update())
    if operation is None:
        return None
    OPERATION.move(operation, OperationStatus.PENDING)
    operation.attempts = 0
    operation.next_attempt_at = utcnow()
    record("payment.operation_retried", obj=operation, detail=operation.last_error)
    db.session.flush()
    return operation


def failed_operations(limit: int = 100) -> list[PaymentOperation]:
    return list(db.session.scalars(select(PaymentOperation)
                                   .where(PaymentOperation.status == OperationStatus.FAILED)
                                   .order_by(PaymentOperation.id).limit(limit)))


def _reconcile_one(payment_id: int, intent_id: str | None, now: datetime) -> bool:
    intent = None
    if intent_id:
        try:
            intent = gateway().retrieve(intent_id)
        except GatewayError as error:
            log.warning("reconcile: could not ask Stripe about payment %s: %s", payment_id, error)
            return False
    payment = db.session.scalar(select(Payment).where(Payment.id == payment_id).with_for_update()
                                .execution_options(populate_existing=True))
    if payment.status != PaymentStatus.PENDING or payment.stripe_payment_intent_id != intent_id:
        db.session.commit()  # settled (or given an intent) while Stripe was asked
        return False
    payment.reconciled_at = now
    if intent is None:
        # The request that was to create the intent died before storing it. Close the payment so
        # the patient can pay again; should Stripe hold an intent after all, its webhook finds
        # the payment by our metadata and the money is given back (apply_intent).
        MACHINE.move(payment, PaymentStatus.CANCELED)
        payment.closed_at = now
        changed = True
    else:
        changed = apply_intent(payment, intent)
    record("payment.reconciled", obj=payment, patient=payment.patient_id,
           detail=f"{intent.id} {intent.status}" if intent else "no PaymentIntent: closed")
    db.session.commit()
    return changed


def reconcile_when_due(limit: int) -> int:
    """Worker job: reconcile every PAYMENT_RECONCILE_EVERY_SECONDS (each worker keeps its own clock;
    two workers reconciling at once is harmless, each payment is re-read under its lock)."""
    state = current_app.extensions.setdefault("payments_reconcile", {})
    now = utcnow()
    if state.get("next_at") and now < state["next_at"]:
        return 0
    state["next_at"] = now + timedelta(seconds=current_app.config["PAYMENT_RECONCILE_EVERY_SECONDS"])
    return reconcile(limit, now)


def reconcile(limit: int, now: datetime | None = None) -> int:
    """Ask Stripe about payments still pending after PAYMENT_RECONCILE_MINUTES and apply what it says
    (a missed webhook), then perform overdue operations. Returns how many rows it moved."""
    now = now or utcnow()
    cutoff = now - timedelta(minutes=current_app.config["PAYMENT_RECONCILE_MINUTES"])
    rows = db.session.execute(
        select(Payment.id, Payment.stripe_payment_intent_id)
        .where(Payment.status == PaymentStatus.PENDING, Payment.created_at <= cutoff,
               or_(Payment.reconciled_at.is_(None), Payment.reconciled_at <= cutoff))
        .order_by(Payment.created_at, Payment.id).limit(limit)).all()
    db.session.commit()
    moved = 0
    for payment_id, intent_id in rows:
        try:
            moved += _reconcile_one(payment_id, intent_id, now)
        except Exception:
            db.session.rollback()
            log.exception("reconcile: payment %s", payment_id)
    return moved + perform_due(limit, now)
