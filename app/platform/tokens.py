"""Get or make the research tokens of many subjects at once (patients, staff, orders, prescriptions)."""

import secrets

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from app.extensions import db
from app.platform.models import ResearchToken

PATIENT, STAFF, ORDER, PRESCRIPTION = "patient", "staff", "order", "prescription"


def tokens(subject_type: str, ids) -> dict[int, str]:
    """{id: token} for every id, making the missing ones. Two transactions making the same subject's
    token at once both end with the one that committed first (INSERT … ON CONFLICT DO NOTHING)."""
    wanted = set(ids)
    found = _existing(subject_type, wanted)
    missing = wanted - found.keys()
    if missing:
        dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
        db.session.execute(dialect.insert(ResearchToken).on_conflict_do_nothing(), [
            {"subject_type": subject_type, "subject_id": one, "token": secrets.token_hex(16)}
            for one in sorted(missing)])
        found.update(_existing(subject_type, missing))
    return found


def _existing(subject_type: str, ids: set[int]) -> dict[int, str]:
    found: dict[int, str] = {}
    ordered = sorted(ids)
    for start in range(0, len(ordered), 1000):  # bound the IN list
        chunk = ordered[start:start + 1000]
        found.update(db.session.execute(select(ResearchToken.subject_id, ResearchToken.token).where(
            ResearchToken.subject_type == subject_type, ResearchToken.subject_id.in_(chunk))).all())
    return found


def token(subject_type: str, subject_id: int) -> str:
    return tokens(subject_type, [subject_id])[subject_id]
