"""The SMS outbox."""

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.database import UTCDateTime, enum_column, utcnow
from app.extensions import db


class SmsStatus(StrEnum):
    # The admin dashboard lists the first three by position: new states go at the end.
    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"
    SENDING = "sending"  # claimed by a worker under a lease; see services.take_due


class OutboundSms(db.Model):
    __tablename__ = "outbound_sms"
    __table_args__ = (
        sa.CheckConstraint("attempts >= 0", name="attempts_non_negative"),
        sa.Index("ix_outbound_sms_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    to_phone: Mapped[str] = mapped_column(sa.String(20))
    purpose: Mapped[str] = mapped_column(sa.String(40))
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
    # Who holds a `sending` row, and until when; past that another worker may claim it again.
    claimed_by: Mapped[str | None] = mapped_column(sa.String(120))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    provider_message_id: Mapped[str | None] = mapped_column(sa.String(64))
    last_error: Mapped[str | None] = mapped_column(sa.String(255))
