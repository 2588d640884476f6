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
    DEAD = "dead"  # refused for good (or never valid); operations staff look at it and may replay it
    WITHDRAWN = "withdrawn"  # the patient withdrew data-sharing consent before it was sent


class OutboxEvent(db.Model):
    __tablename__ = "outbox_events"
    __table_args__ = (
        sa.Index("ix_outbox_events_due", "status", "next_attempt_at"),
        sa.Index("ix_outbox_events_patient_status", "patient_id", "status"),
        sa.CheckConstraint("attempts >= 0", name="attempts_non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_type: Mapped[str] = mapped_column(sa.String(60))
    aggregate_type: Mapped[str] = mapped_column(sa.String(30))
    aggregate_id: Mapped[int] = mapped_column()
    # What the event is about, inside the app ("medication.dispensed:order_lines:12"): unique, so an
    # event is written once per fact however often the code path runs. It never leaves the app.
    source_key: Mapped[str] = mapped_column(sa.String(120), unique=True)
    # A random UUID, the event's idempotency key at the platform: the receiver stores an event once
    # per key, so a retried push is never counted twice; being random it says nothing about the row.
    idempotency_key: Mapped[str] = mapped_column(sa.String(36), unique=True)
    # Whose data it is: a withdrawn consent withdraws the patient's unsent events.
    patient_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    resource_type: Mapped[str] = mapped_column(sa.String(40), default="", server_default="")
    # The de-identified FHIR resource as JSON: exactly what is sent, built field by field.
    payload: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[OutboxStatus] = mapped_column(enum_column(OutboxStatus, "outbox_status"),
                                                 default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # A worker's claim: set when it takes the row, cleared with the outcome. A lapsed lease (the
    # worker died) lets another worker take the row again.
    claimed_by: Mapped[str | None] = mapped_column(sa.String(120))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str] = mapped_column(sa.String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
