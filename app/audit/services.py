"""record(): the one helper every view that reads or changes patient data calls."""

from flask import g, has_request_context, request
from flask_login import current_user

from app.audit.models import AuditEvent
from app.extensions import db


def _client_ip() -> str | None:
    if not has_request_context():
        return None
    return request.remote_addr


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
    if actor is None and has_request_context() and current_user.is_authenticated:
        actor = current_user._get_current_object()
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
