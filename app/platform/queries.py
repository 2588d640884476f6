"""What operations staff see of the push: counts by status, the oldest pending age, the latest error."""

from datetime import UTC

from sqlalchemy import func, select

from app.database import utcnow
from app.extensions import db
from app.outbox.models import OutboxEvent, OutboxStatus


def health() -> dict:
    """Events by status, the oldest pending one's age in seconds, and the latest error."""
    by_status = dict(db.session.execute(
        select(OutboxEvent.status, func.count()).group_by(OutboxEvent.status)).all())
    oldest = db.session.scalar(select(func.min(OutboxEvent.created_at))
                               .where(OutboxEvent.status == OutboxStatus.PENDING))
    if oldest is not None and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=UTC)
    last_error = db.session.execute(
        select(OutboxEvent.id, OutboxEvent.last_error)
        .where(OutboxEvent.last_error != "",
               OutboxEvent.status.in_((OutboxStatus.PENDING, OutboxStatus.DEAD)))
        .order_by(OutboxEvent.next_attempt_at.desc(), OutboxEvent.id.desc()).limit(1)).first()
    return {"by_status": {status.value: by_status.get(status, 0) for status in OutboxStatus},
            "oldest_pending_seconds": (utcnow() - oldest).total_seconds() if oldest else None,
            "last_error": tuple(last_error) if last_error else None}
