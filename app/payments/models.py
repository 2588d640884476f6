"""Payments tied to Stripe PaymentIntents, their refunds, and the webhook events already seen."""

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.database import UTCDateTime, enum_column, utcnow
from app.extensions import db
from app.payments.declines import decline_message


class PaymentStatus(StrEnum):
    PENDING = "pending"  # PaymentIntent created, not yet confirmed by Stripe
    AUTHORIZED = "authorized"  # card held (manual capture), not charged yet
    CAPTURED = "captured"  # money taken
    FAILED = "failed"  # declined; the payable is still unpaid
    CANCELED = "canceled"  # authorization released, the patient was never charged
    REFUNDED = "refunded"  # captured, then given back in full


LIVE_STATUSES = frozenset({PaymentStatus.PENDING, PaymentStatus.AUTHORIZED, PaymentStatus.CAPTURED})


class Payment(db.Model):
    __tablename__ = "payments"
    __table_args__ = (
        sa.CheckConstraint("amount_fen > 0", name="amount_positive"),
        sa.CheckConstraint(
            "amount_refunded_fen >= 0 AND amount_refunded_fen <= amount_fen", name="refund_within_amount"
        ),
        sa.Index("ix_payments_payable", "payable_type", "payable_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    payable_type: Mapped[str] = mapped_column(sa.String(30))
    payable_id: Mapped[int]
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    amount_fen: Mapped[int]
    currency: Mapped[str] = mapped_column(sa.String(3), default="CNY")
    method_type: Mapped[str] = mapped_column(sa.String(20), default="card")
    capture_method: Mapped[str] = mapped_column(sa.String(20), default="manual")
    status: Mapped[PaymentStatus] = mapped_column(
        enum_column(PaymentStatus, "payment_status"), default=PaymentStatus.PENDING
    )
    stripe_payment_intent_id: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    amount_refunded_fen: Mapped[int] = mapped_column(default=0)
    failure_message: Mapped[str | None] = mapped_column(sa.String(255))  # Stripe's words, for staff
    failure_code: Mapped[str | None] = mapped_column(sa.String(64))  # Stripe's decline code
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    authorized_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    captured_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When `flask payments reconcile` last asked Stripe about this payment (it asks at most
    # once per PAYMENT_RECONCILE_MINUTES, so an abandoned intent is not asked about every sweep).
    reconciled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    refunds = relationship("Refund", back_populates="payment", order_by="Refund.id")
    operations = relationship("PaymentOperation", back_populates="payment", order_by="PaymentOperation.id")

    @property
    def idempotency_key(self) -> str:
        return f"payment-{self.id}-intent"

    @property
    def failure_reason(self):
        """Why the payment failed, in the payer's language (Stripe's message is English only)."""
        return decline_message(self.failure_code)


class Refund(db.Model):
    __tablename__ = "refunds"
    __table_args__ = (sa.CheckConstraint("amount_fen > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(sa.ForeignKey("payments.id"), index=True)
    stripe_refund_id: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    amount_fen: Mapped[int]
    status: Mapped[str] = mapped_column(sa.String(20), default="pending")
    reason: Mapped[str] = mapped_column(sa.String(60))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    payment = relationship("Payment", back_populates="refunds")


class StripeEvent(db.Model):
    """Every verified webhook event, once: the UNIQUE event id makes a redelivery a no-op."""

    __tablename__ = "stripe_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[str] = mapped_column(sa.String(255), unique=True)
    type: Mapped[str] = mapped_column(sa.String(80))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    payment_id: Mapped[int | None] = mapped_column(sa.ForeignKey("payments.id"))
    outcome: Mapped[str] = mapped_column(sa.String(120), default="")


class OperationKind(StrEnum):
    CAPTURE = "capture"  # take the authorized money
    CANCEL = "cancel"  # release an authorization (or an intent not yet confirmed)
    REFUND = "refund"  # give captured money back


class OperationStatus(StrEnum):
    PENDING = "pending"  # to be performed (again) from next_attempt_at on
    DONE = "done"  # Stripe did it and our rows say so
    FAILED = "failed"  # Stripe refused it for good, or every attempt failed: operations decide


class PaymentOperation(db.Model):
    """A call to Stripe we owe: recorded with the state change that needs it, performed after commit.

    The row is the intent; performing claims it (attempts + a lease in next_attempt_at), calls
    Stripe with no lock held, then records the answer. A retry sends the same idempotency key,
    so Stripe does the thing once however many times we ask.
    """

    __tablename__ = "payment_operations"
    __table_args__ = (
        sa.CheckConstraint("amount_fen > 0", name="amount_positive"),
        sa.CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        # One capture and one cancel per payment, ever; refunds may be several (partial ones).
        sa.Index("uq_payment_operations_one_capture_or_cancel", "payment_id", "kind", unique=True,
                 sqlite_where=sa.text("kind IN ('capture', 'cancel')"),
                 postgresql_where=sa.text("kind IN ('capture', 'cancel')")),
        sa.Index("ix_payment_operations_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(sa.ForeignKey("payments.id"), index=True)
    kind: Mapped[OperationKind] = mapped_column(enum_column(OperationKind, "payment_operation_kind"))
    amount_fen: Mapped[int]
    reason: Mapped[str] = mapped_column(sa.String(60), default="")
    status: Mapped[OperationStatus] = mapped_column(
        enum_column(OperationStatus, "payment_operation_status"), default=OperationStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_error: Mapped[str | None] = mapped_column(sa.String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    payment = relationship("Payment", back_populates="operations")

    @property
    def idempotency_key(self) -> str:
        """From the payment and this row only: a retry repeats it, another operation never shares it."""
        return f"payment-{self.payment_id}-{self.kind}-{self.id}"
