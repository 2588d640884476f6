"""emit(): add events to the caller's transaction; the worker pushes them to the data platform later."""

import json
import uuid
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from app.database import utcnow
from app.extensions import db
from app.outbox.models import OutboxEvent, OutboxStatus


def event_row(event_type: str, aggregate_type: str, aggregate_id: int, patient_id: int | None,
              resource: dict, *, source_key: str | None = None, key: str | None = None) -> dict:
    """One outbox row as values; `resource` must already carry `key` (its idempotency key)."""
    now = utcnow()
    return {"event_type": event_type, "aggregate_type": aggregate_type, "aggregate_id": aggregate_id,
            "source_key": source_key or f"{event_type}:{aggregate_type}:{aggregate_id}",
            "idempotency_key": key or str(uuid.uuid4()), "patient_id": patient_id,
            "resource_type": resource.get("resourceType", ""),
            "payload": json.dumps(resource, ensure_ascii=False, separators=(",", ":")),
            "status": OutboxStatus.PENDING, "attempts": 0, "next_attempt_at": now, "last_error": "",
            "created_at": now}


def insert_all(table: sa.Table, rows: list[dict]):
    """(INSERT statement, parameters) for `rows`, all with the same keys, ready for ON CONFLICT and
    RETURNING. On PostgreSQL the rows travel as one JSON parameter that the server unpacks
    (json_to_recordset): a backfill inserts a thousand rows at a time, and a statement with a placeholder
    per value cost more to render and parse than the rows took to store. Elsewhere an executemany."""
    if db.engine.dialect.name != "postgresql":
        return sqlite.insert(table), rows
    names = list(rows[0])
    values = json.dumps(rows, ensure_ascii=False, separators=(",", ":"), default=_json_value)
    records = (sa.func.json_to_recordset(sa.cast(sa.bindparam(None, values, type_=sa.Text), postgresql.JSON))
               .table_valued(*[sa.column(name, table.c[name].type) for name in names])
               .render_derived(with_types=True))
    return postgresql.insert(table).from_select(names, sa.select(*[records.c[name] for name in names])), None


def _json_value(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not a column value insert_all can send")


def emit(rows: list[dict]) -> int:
    """Insert the events in one statement; an event whose source key exists already is skipped, so a
    code path that runs twice (or a backfill over what was pushed live) never writes one twice.
    Returns how many were new."""
    if not rows:
        return 0
    statement, parameters = insert_all(OutboxEvent.__table__, rows)
    statement = statement.on_conflict_do_nothing(index_elements=["source_key"])
    result = db.session.execute(statement.returning(OutboxEvent.id), parameters)
    return len(result.all())


def new_key() -> str:
    return str(uuid.uuid4())
