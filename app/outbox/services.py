"""emit(): add an event to the caller's transaction; it is pushed to the data platform later."""

import json

from app.extensions import db
from app.outbox.models import OutboxEvent


def emit(event_type: str, aggregate, payload: dict, *, key: str | None = None) -> OutboxEvent:
    """One event about `aggregate` (a row with a table name and an id); `key` defaults to the type and
    the aggregate, so an event is emitted once per aggregate."""
    aggregate_type = aggregate.__tablename__
    event = OutboxEvent(event_type=event_type, aggregate_type=aggregate_type, aggregate_id=aggregate.id,
                        idempotency_key=key or f"{event_type}:{aggregate_type}:{aggregate.id}",
                        payload=json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str))
    db.session.add(event)
    db.session.flush()
    return event
