"""The outbox: one row per event for the data platform, written with the change it records."""

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.database import UTCDateTime, enum_column, utcnow
from app.extensions import db


class OutboxStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    DEAD = "dead"  # given up after repeated failures; operations staff look at it


class OutboxEvent(db.Model):
    __tablename__ = "outbox_events"
    __table_args__ = (sa.Index("ix_outbox_events_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_type: Mapped[str] = mapped_column(sa.String(60))
    aggregate_type: Mapped[str] = mapped_column(sa.String(30))
    aggregate_id: Mapped[int] = mapped_column()
    # The receiver drops an event whose key it has seen: a retried push is never counted twice.
    idempotency_key: Mapped[str] = mapped_column(sa.String(80), unique=True)
    payload: Mapped[str] = mapped_column(sa.Text)  # JSON, with nothing that identifies the patient
    status: Mapped[OutboxStatus] = mapped_column(enum_column(OutboxStatus, "outbox_status"),
                                                 default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str] = mapped_column(sa.String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
