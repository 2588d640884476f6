"""Get or make the research tokens of many subjects at once (patients, staff, orders, prescriptions)."""

import secrets

from sqlalchemy import any_, bindparam, select
from sqlalchemy.dialects import postgresql

from app.database import utcnow
from app.extensions import db
from app.outbox.services import insert_all
from app.platform.models import ResearchToken

PATIENT, STAFF, ORDER, PRESCRIPTION = "patient", "staff", "order", "prescription"


def among(column, ids):
    """`column IN ids`, as one array parameter on PostgreSQL (`= ANY(…)`): a backfill passes thousands of
    ids, and a statement with a placeholder for each cost more to build and parse than its rows."""
    values = sorted(set(ids))
    if db.engine.dialect.name == "postgresql":
        return column == any_(bindparam(None, values, type_=postgresql.ARRAY(column.type)))
    return column.in_(values)


def tokens(subject_type: str, ids) -> dict[int, str]:
    """{id: token} for every id, making the missing ones. Two transactions making the same subject's
    token at once both end with the one that committed first (INSERT … ON CONFLICT DO NOTHING)."""
    wanted = set(ids)
    found = _existing(subject_type, wanted)
    missing = wanted - found.keys()
    if missing:
        now = utcnow()
        statement, parameters = insert_all(ResearchToken.__table__, [
            {"subject_type": subject_type, "subject_id": one, "token": secrets.token_hex(16),
             "created_at": now} for one in sorted(missing)])
        found.update(db.session.execute(
            statement.on_conflict_do_nothing().returning(ResearchToken.subject_id, ResearchToken.token),
            parameters).all())
        if raced := missing - found.keys():  # made meanwhile by another transaction
            found.update(_existing(subject_type, raced))
    return found


def _existing(subject_type: str, ids: set[int]) -> dict[int, str]:
    found: dict[int, str] = {}
    ordered = sorted(ids)
    for start in range(0, len(ordered), 1000):  # bound the IN list
        chunk = ordered[start:start + 1000]
        found.update(db.session.execute(select(ResearchToken.subject_id, ResearchToken.token).where(
            ResearchToken.subject_type == subject_type, among(ResearchToken.subject_id, chunk))).all())
    return found


def token(subject_type: str, subject_id: int) -> str:
    return tokens(subject_type, [subject_id])[subject_id]
