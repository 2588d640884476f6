"""record(): the one helper every view that reads or changes patient data calls; record_many() for lists."""

from flask import g, has_request_context, request
from flask_login import current_user
from sqlalchemy import insert

from app.audit.models import AuditEvent
from app.database import utcnow
from app.extensions import db

ROWS_PER_INSERT = 1_000


def _client_ip() -> str | None:
    if not has_request_context():
        return None
    return request.remote_addr


def _signed_in(actor):
    if actor is None and has_request_context() and current_user.is_authenticated:
        return current_user._get_current_object()
    return actor


def record(
    action: str,
    *,
    obj=None,
    object_type: str | None = None,
    object_id=None,
    patient=None,
    actor=None,
    detail: str | None = None,
) -> AuditEvent:
    """Add an audit row to the current transaction (the caller commits).

    `obj` is any model instance with an `id`; `patient` a patient User or id.
    The actor defaults to the signed-in user; anonymous actions (failed logins,
    registrations) record no actor but always the client IP.
    """
    actor = _signed_in(actor)
    if obj is not None:
        object_type = object_type or obj.__tablename__
        object_id = obj.id if object_id is None else object_id
    patient_id = getattr(patient, "id", patient)
    event = AuditEvent(
        actor_id=getattr(actor, "id", None),
        actor_role=str(actor.role) if actor is not None else None,
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        patient_id=patient_id,
        ip=_client_ip(),
        detail=detail[:500] if detail else None,
    )
    db.session.add(event)
    db.session.flush()
    if has_request_context():
        g.audit_recorded = True
    return event


def record_read(action: str, *, patient=None, object_type: str | None = None,
                detail: str | None = None) -> None:
    """The row `record(action, patient=…, object_type=…, detail=…)` writes, as one cached Core INSERT
    rather than an ORM object and a flush: for list pages, where the flush was a tenth of the
    request's CPU. Nothing is returned, since no object joins the session; the caller commits."""
    actor = _signed_in(None)
    db.session.execute(insert(AuditEvent.__table__), [dict(
        occurred_at=utcnow(), actor_id=getattr(actor, "id", None),
        actor_role=str(actor.role) if actor is not None else None, action=action,
        object_type=object_type,
        object_id=None, patient_id=getattr(patient, "id", patient), ip=_client_ip(),
        detail=detail[:500] if detail else None)])
    if has_request_context():
        g.audit_recorded = True


def record_many(action: str, objects, *, actor=None, detail: str | None = None,
                object_type: str | None = None) -> int:
    """One audit row per object (each with its `id` and `patient_id`), written as ONE multi-row INSERT:
    what a list page that names several patients leaves, instead of a round trip per row. The object
    type is each object's table, or `object_type` for plain rows. With no objects it writes the single
    row `record(action)` would. Returns the number of rows written."""
    objects = list(objects)
    if not objects:
        record(action, actor=actor, detail=detail)
        return 1
    actor = _signed_in(actor)
    now, ip = utcnow(), _client_ip()
    rows = [dict(occurred_at=now, actor_id=getattr(actor, "id", None),
                 actor_role=str(actor.role) if actor is not None else None, action=action,
                 object_type=object_type or obj.__tablename__, object_id=str(obj.id),
                 patient_id=obj.patient_id, ip=ip, detail=detail[:500] if detail else None)
            for obj in objects]
    # An executemany of one cached single-row INSERT: SQLAlchemy batches it into multi-row VALUES
    # (insertmanyvalues) at run time. Building `.values(rows)` instead compiles a new statement of
    # every length on every request, which cost more than the page itself. Chunks of 1,000 rows stay
    # under the drivers' bound-parameter limits (PostgreSQL 65,535).
    statement = insert(AuditEvent.__table__)
    for start in range(0, len(rows), ROWS_PER_INSERT):
        db.session.execute(statement, rows[start:start + ROWS_PER_INSERT])
    if has_request_context():
        g.audit_recorded = True
    return len(rows)
