"""The SMS outbox."""

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.database import UTCDateTime, enum_column, utcnow
from app.extensions import db


class SmsStatus(StrEnum):
    QUEUED = "queued"
    SENT = "sent"  # the provider accepted it
    FAILED = "failed"  # refused for good, out of attempts, or the carrier reported a failure
    SENDING = "sending"  # claimed by a worker under a lease; see services.take_due
    DELIVERED = "delivered"  # the carrier confirmed delivery (a signed status callback)
    UNDELIVERED = "undelivered"  # the carrier could not deliver it (a status callback)
    CANCELLED = "cancelled"  # withdrawn unsent: the patient opted out, or a reminder plan changed


class SmsKind(StrEnum):
    """Why a message is sent, which decides whether an opt-out stops it and whether quiet hours
    delay it: one-time codes and safety recalls go to an opted-out patient too."""

    CODE = "code"  # a one-time code the user is waiting for
    NOTICE = "notice"  # news about the patient's own consultation, prescription or order
    DOSE = "dose"  # a dose reminder (answered with 1 / 2)
    REFILL = "refill"  # the supply runs out soon
    SAFETY = "safety"  # a recall of a lot the patient received


# Sent even to a number that answered STOP: the user asked for the code, and a recall is a safety duty.
IGNORES_OPT_OUT = frozenset({SmsKind.CODE, SmsKind.SAFETY})


class OutboundSms(db.Model):
    __tablename__ = "outbound_sms"
    __table_args__ = (
        sa.CheckConstraint("attempts >= 0", name="attempts_non_negative"),
        sa.Index("ix_outbound_sms_due", "status", "next_attempt_at"),
        # Status callbacks find their row by the provider's message id.
        sa.Index("ix_outbound_sms_provider_message_id", "provider_message_id"),
        # A patient's reminders still to send, cancelled when their plan is rebuilt.
        sa.Index("ix_outbound_sms_user_kind_status", "user_id", "kind", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    to_phone: Mapped[str] = mapped_column(sa.String(20))
    purpose: Mapped[str] = mapped_column(sa.String(40))  # the template's name
    kind: Mapped[SmsKind] = mapped_column(enum_column(SmsKind, "sms_kind"), default=SmsKind.NOTICE,
                                          server_default=SmsKind.NOTICE.value)
    body: Mapped[str] = mapped_column(sa.Text)
    # Bodies holding a one-time code are blanked once sent, or once the code expires unsent.
    is_sensitive: Mapped[bool] = mapped_column(default=False)
    redacted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    status: Mapped[SmsStatus] = mapped_column(
        enum_column(SmsStatus, "sms_status"), default=SmsStatus.QUEUED
    )
    # Sends started (counted just before each provider call, so a crash counts too).
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # When it was meant to go out (a reminder's dose time; a notice moved out of quiet hours); a
    # retry moves next_attempt_at, never this.
    scheduled_for: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Who holds a `sending` row, and until when; past that another worker may claim it again.
    claimed_by: Mapped[str | None] = mapped_column(sa.String(120))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    provider_message_id: Mapped[str | None] = mapped_column(sa.String(64))
    last_error: Mapped[str | None] = mapped_column(sa.String(255))
    # The provider's error code (Twilio's, e.g. 21610 for a number that answered STOP).
    error_code: Mapped[int | None] = mapped_column()
    # The carrier's last word from a status callback: delivered, undelivered or failed.
    status_reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class SmsOptOut(db.Model):
    """A phone number that answered STOP (or 退订): nothing but codes and recalls goes to it until it
    answers START. Kept per number, as the carrier keeps it, whoever the number belongs to."""

    __tablename__ = "sms_opt_outs"

    phone: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    opted_out_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    keyword: Mapped[str] = mapped_column(sa.String(20))
