"""What waits for each member of staff: the counts behind the navigation badges and staff homes."""

import hashlib

from flask import g, has_request_context
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.accounts.models import Role
from app.consultations.models import Consultation
from app.consultations.states import ConsultationStatus
from app.extensions import db
from app.prescribing.models import Prescription
from app.prescribing.states import PrescriptionStatus
from app.review.models import PrescriptionReview
from app.review.states import ReviewStatus


def _waiting_consultations(doctor_id: int):
    return (Consultation.doctor_id == doctor_id, Consultation.status == ConsultationStatus.WAITING)


def _returned_prescriptions(doctor_id: int):
    # A returned version leaves this status when the doctor signs its revision (superseded) or cancels it.
    return (Prescription.doctor_id == doctor_id, Prescription.status == PrescriptionStatus.RETURNED)


def _open_reviews():
    return (PrescriptionReview.status == ReviewStatus.OPEN,
            PrescriptionReview.prescription_id == Prescription.id,
            Prescription.status == PrescriptionStatus.AWAITING_REVIEW)


def _summary(*where, ids, extra=()):
    """One aggregate row: how many, and sums that change when the set of rows changes."""
    return select(func.count(), func.coalesce(func.sum(ids), 0), func.coalesce(func.max(ids), 0),
                  *extra).where(*where)


def _snapshot(user) -> tuple[dict[str, int], tuple]:
    """The counts, and everything the queue pages show that a poll should notice changing."""
    if user.role == Role.DOCTOR:
        waiting = db.session.execute(_summary(*_waiting_consultations(user.id), ids=Consultation.id)).one()
        returned = db.session.execute(_summary(*_returned_prescriptions(user.id), ids=Prescription.id)).one()
        # Accepting or ending a consultation moves it between the queue page's other two lists.
        mine = db.session.execute(_summary(
            Consultation.doctor_id == user.id,
            Consultation.status.in_((ConsultationStatus.IN_PROGRESS, ConsultationStatus.COMPLETED,
                                     ConsultationStatus.REFERRED, ConsultationStatus.DECLINED)),
            ids=Consultation.id, extra=(func.count(Consultation.ended_at),))).one()
        return {"consultations": waiting[0], "returned": returned[0]}, (*waiting, *returned, *mine)
    if user.role == Role.PHARMACIST:
        # Claims and releases change who is shown reviewing an entry, not the count.
        row = db.session.execute(_summary(
            *_open_reviews(), ids=PrescriptionReview.id,
            extra=(func.count(PrescriptionReview.claimed_by_id),
                   func.coalesce(func.sum(PrescriptionReview.claimed_by_id), 0),
                   func.max(PrescriptionReview.claimed_at)))).one()
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


def returned_prescriptions(doctor, limit: int = 20, *, with_patients: bool = True) -> list[Prescription]:
    """This doctor's prescriptions a pharmacist returned and that are not yet replaced, oldest first;
    `with_patients=False` where the list names no patient (the queue page), so none is loaded."""
    loads = [selectinload(Prescription.review)]
    if with_patients:
        loads += [selectinload(Prescription.patient), selectinload(Prescription.condition)]
    return list(db.session.scalars(
        select(Prescription).where(*_returned_prescriptions(doctor.id))
        .options(*loads).order_by(Prescription.signed_at, Prescription.id).limit(limit)))
