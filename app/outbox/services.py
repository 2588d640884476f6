"""emit(): add events to the caller's transaction; the worker pushes them to the data platform later."""

import json
import uuid

from sqlalchemy.dialects import postgresql, sqlite

from app.database import utcnow
from app.extensions import db
from app.outbox.models import OutboxEvent, OutboxStatus


def event_row(event_type: str, aggregate_type: str, aggregate_id: int, patient_id: int | None,
              resource: dict, *, source_key: str | None = None, key: str | None = None) -> dict:
    """One outbox row as values; `resource` must already carry `key` (its idempotency key)."""
    return {"event_type": event_type, "aggregate_type": aggregate_type, "aggregate_id": aggregate_id,
            "source_key": source_key or f"{event_type}:{aggregate_type}:{aggregate_id}",
            "idempotency_key": key or str(uuid.uuid4()), "patient_id": patient_id,
            "resource_type": resource.get("resourceType", ""),
            "payload": json.dumps(resource, ensure_ascii=False, separators=(",", ":")),
            "status": OutboxStatus.PENDING, "attempts": 0, "next_attempt_at": utcnow(), "last_error": "",
            "created_at": utcnow()}


def emit(rows: list[dict]) -> int:
    """Insert the events in one statement; an event whose source key exists already is skipped, so a
    code path that runs twice (or a backfill over what was pushed live) never writes one twice.
    Returns how many were new."""
    if not rows:
        return 0
    dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(OutboxEvent).on_conflict_do_nothing(index_elements=["source_key"])
    result = db.session.execute(statement.returning(OutboxEvent.id), rows)
    return len(result.all())


def new_key() -> str:
    return str(uuid.uuid4())
