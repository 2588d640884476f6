"""The append-only audit trail of who did what to which record, from where."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from app.database import UTCDateTime, utcnow
from app.extensions import db


class AuditEvent(db.Model):
    __tablename__ = "audit_events"
    __table_args__ = (
        sa.Index("ix_audit_events_patient_time", "patient_id", "occurred_at"),
        sa.Index("ix_audit_events_action_time", "action", "occurred_at"),
        # The audit page: newest first a page at a time (rows of one INSERT share a time; the id orders
        # them), and its object-type filter.
        sa.Index("ix_audit_events_time_id", "occurred_at", "id"),
        sa.Index("ix_audit_events_object_time", "object_type", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    actor_role: Mapped[str | None] = mapped_column(sa.String(20))
    action: Mapped[str] = mapped_column(sa.String(60))
    object_type: Mapped[str | None] = mapped_column(sa.String(60))
    object_id: Mapped[str | None] = mapped_column(sa.String(60))
    patient_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    ip: Mapped[str | None] = mapped_column(sa.String(45))
    detail: Mapped[str | None] = mapped_column(sa.String(500))

    actor = relationship("User", foreign_keys=[actor_id])
    patient = relationship("User", foreign_keys=[patient_id])


class AppendOnlyError(RuntimeError):
    """Raised when code tries to change or delete an audit row."""


@event.listens_for(Session, "before_flush")
def _refuse_audit_changes(session: Session, _context, _instances) -> None:
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, AuditEvent):
            raise AppendOnlyError("audit events are append-only")
