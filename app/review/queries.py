"""What the review pages read: the queue, and the history a pharmacist needs beside a new version."""

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.prescribing.models import Prescription
from app.prescribing.states import PrescriptionStatus
from app.review.models import Decision, PrescriptionReview
from app.review.states import ReviewStatus

S = PrescriptionStatus


def _waiting():
    return (PrescriptionReview.status == ReviewStatus.OPEN,
            PrescriptionReview.prescription_id == Prescription.id,
            Prescription.status == S.AWAITING_REVIEW)


def queue_size() -> int:
    return db.session.scalar(select(func.count()).select_from(PrescriptionReview).join(Prescription)
                             .where(*_waiting()))


def queue(limit: int) -> list[PrescriptionReview]:
    """The `limit` prescriptions waiting longest for review, oldest signed first (first in, first
    reviewed)."""
    shown = selectinload(PrescriptionReview.prescription)
    return list(db.session.scalars(
        select(PrescriptionReview).join(Prescription)
        .where(*_waiting())
        .options(shown.selectinload(Prescription.patient), shown.selectinload(Prescription.doctor),
                 shown.selectinload(Prescription.condition), shown.selectinload(Prescription.items),
                 selectinload(PrescriptionReview.claimed_by))
        .order_by(PrescriptionReview.queued_at, PrescriptionReview.id).limit(limit)))


def earlier_versions(prescription: Prescription) -> list[Prescription]:
    """The versions this one replaces, newest first (a chain is a handful of versions at most)."""
    found, current = [], prescription.previous_version
    while current is not None:
        found.append(current)
        current = current.previous_version
    return found


def returns(versions: list[Prescription]) -> list[PrescriptionReview]:
    """The pharmacists' returns among those versions: why the doctor was asked to change it."""
    return [v.review for v in versions if v.review is not None and v.review.decision == Decision.RETURNED]


def later_versions(prescription: Prescription) -> list[Prescription]:
    """The versions that replaced this one, oldest first."""
    found = []
    while (newer := db.session.scalar(
            select(Prescription).where(Prescription.previous_version_id == prescription.id))) is not None:
        found.append(newer)
        prescription = newer
    return found


def reviewable_by(prescription: Prescription, pharmacist) -> bool:
    """Open for review, decided by this pharmacist, or an earlier version of one of those: a pharmacist
    re-reviewing version 2 reads version 1 and why it was returned."""
    for version in [prescription, *later_versions(prescription)]:
        found = version.review
        if found is None:
            continue
        if (found.decision is None and version.status == S.AWAITING_REVIEW) \
                or found.decided_by_id == pharmacist.id:
            return True
    return False
