"""What waits for each member of staff: the counts behind the navigation badges and staff homes."""

import hashlib
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from flask import g, has_request_context
from sqlalchemy import bindparam, func, select

from app.accounts.models import Role, User
from app.consultations.models import Consultation
from app.consultations.states import ConsultationStatus
from app.extensions import db
from app.patients.models import Condition
from app.prescribing.models import Prescription
from app.prescribing.states import PrescriptionStatus
from app.review.models import PrescriptionReview
from app.review.states import ReviewStatus

_WAITING = Consultation.status == ConsultationStatus.WAITING
# Accepting or ending a consultation moves it between the queue page's lists. Every change of the
# recently-ended list leaves the waiting or the in-progress set (a consultation ends only from one of
# them), so those two sets say when the page changed: both are open work, and the summary stays the
# same size however many consultations the doctor has ended over the years.
_MINE = Consultation.status == ConsultationStatus.IN_PROGRESS


def _summary(ids, where=None):
    """How many rows, and sums that change when the set of rows changes (over the rows `where` picks)."""
    count, total, highest = func.count(), func.sum(ids), func.max(ids)
    if where is not None:
        count, total, highest = count.filter(where), total.filter(where), highest.filter(where)
    return count, func.coalesce(total, 0), func.coalesce(highest, 0)


# Each built once: the navigation badges run them on every staff page.
@cache
def _doctors_consultations():
    """The queue's summary and the summary of the doctor's consultations in progress, in one statement
    (ix_consultations_doctor_queue: doctor, status)."""
    return (select(*_summary(Consultation.id, _WAITING), *_summary(Consultation.id, _MINE))
            .where(Consultation.doctor_id == bindparam("user_id"), _WAITING | _MINE))


@cache
def _doctors_returned():
    # A returned version leaves this status when the doctor signs its revision (superseded) or cancels it.
    return select(*_summary(Prescription.id)).where(Prescription.doctor_id == bindparam("user_id"),
                                                   Prescription.status == PrescriptionStatus.RETURNED)


@cache
def _open_reviews():
    # Claims and releases change who is shown reviewing an entry, not the count. Open reviews alone
    # are the queue (app.review.queries says why), read from ix_prescription_reviews_open.
    return (select(*_summary(PrescriptionReview.id), func.count(PrescriptionReview.claimed_by_id),
                   func.coalesce(func.sum(PrescriptionReview.claimed_by_id), 0),
                   func.max(PrescriptionReview.claimed_at))
            .where(PrescriptionReview.status == ReviewStatus.OPEN))


def _snapshot(user) -> tuple[dict[str, int], tuple]:
    """The counts, and everything the queue pages show that a poll should notice changing."""
    if user.role == Role.DOCTOR:
        consultations = db.session.execute(_doctors_consultations(), {"user_id": user.id}).one()
        returned = db.session.execute(_doctors_returned(), {"user_id": user.id}).one()
        return {"consultations": consultations[0], "returned": returned[0]}, (*consultations, *returned)
    if user.role == Role.PHARMACIST:
        row = db.session.execute(_open_reviews()).one()
        return {"review": row[0]}, tuple(row)
    return {}, ()


def _snapshot_once(user) -> tuple[dict[str, int], tuple]:
    """The snapshot, taken once per request: a queue page asks for it twice (the navigation badges
    and the version its polling starts from), and both must describe the same moment anyway."""
    if not has_request_context():
        return _snapshot(user)
    taken = g.setdefault("queue_snapshots", {})
    if user.id not in taken:
        taken[user.id] = _snapshot(user)
    return taken[user.id]


def counts_for(user) -> dict[str, int]:
    """Counts by queue name for `user`'s role; an empty dict for roles without a queue."""
    return dict(_snapshot_once(user)[0])


def counts_and_version(user) -> tuple[dict[str, int], str]:
    """The counts, and an opaque version that changes whenever the user's queue pages would."""
    counts, state = _snapshot_once(user)
    counts = dict(counts)
    version = hashlib.sha256(repr(state).encode()).hexdigest()[:16] if state else ""
    return counts, version


@dataclass(frozen=True)
class Returned:
    """A returned prescription as the doctor's lists show it."""

    id: int
    version: int
    patient_id: int
    patient_name: str
    condition_code: str
    condition_name: str
    decided_at: datetime | None
    reasons: list[str]


@cache
def _returned_rows():
    return (select(Prescription.id, Prescription.version, Prescription.patient_id,
                   User.display_name, Condition.icd10_code, Condition.name,
                   PrescriptionReview.decided_at, PrescriptionReview.reason_codes)
            .join(User, User.id == Prescription.patient_id)
            .join(Condition, Condition.id == Prescription.condition_id)
            .outerjoin(PrescriptionReview, PrescriptionReview.prescription_id == Prescription.id)
            .where(Prescription.doctor_id == bindparam("doctor_id"),
                   Prescription.status == PrescriptionStatus.RETURNED)
            .order_by(Prescription.signed_at, Prescription.id).limit(bindparam("limit")))


def returned_prescriptions(doctor, limit: int = 20) -> list[Returned]:
    """This doctor's prescriptions a pharmacist returned and that are not yet replaced, oldest first:
    plain rows (the queue page and the doctor's home show them on every load)."""
    rows = db.session.execute(_returned_rows(), {"doctor_id": doctor.id, "limit": limit})
    return [Returned(*row[:7], reasons=[code for code in (row[7] or "").split(",") if code]) for row in rows]
