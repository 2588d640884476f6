"""What the review pages read: the queue, and the history a pharmacist needs beside a new version."""

from dataclasses import dataclass
from datetime import datetime
from functools import cache

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import aliased, joinedload, selectinload

from app.accounts.models import User
from app.checks.knowledge import Severity
from app.extensions import db
from app.patients import catalog
from app.patients.models import Condition
from app.prescribing.models import Prescription, PrescriptionItem
from app.prescribing.states import PrescriptionStatus
from app.review.models import Decision, PrescriptionReview
from app.review.services import claim_lapsed
from app.review.states import ReviewStatus

S = PrescriptionStatus


# The queue is the open reviews alone: a review is opened in the transaction that moves its
# prescription to awaiting review, and every move out of that state (approve, return, a newer version
# signed) closes it in the same transaction. Filtering on the prescription's status as well made
# PostgreSQL multiply two selectivities that are one fact, expect no rows, and sort every open review
# instead of reading the oldest few from ix_prescription_reviews_open (23 ms at 755 open reviews).
_WAITING = PrescriptionReview.status == ReviewStatus.OPEN


def queue_size() -> int:
    return db.session.scalar(select(func.count()).select_from(PrescriptionReview).where(_WAITING))


@dataclass(frozen=True)
class Waiting:
    """A queue entry as the page prints it; `held_by_*` name who holds a live claim, if anyone does."""

    prescription_id: int
    patient_id: int
    queued_at: datetime
    findings_count: int
    worst_severity: Severity | None
    patient_name: str
    diagnosis: str
    doctor_name: str
    drugs: int
    held_by_id: int | None
    held_by_name: str | None

    @property
    def id(self) -> int:
        """The prescription's id: what the page links to and the audit rows name."""
        return self.prescription_id


@cache
def _queue():
    """The oldest :limit open reviews as plain columns, built once: the page prints names and counts,
    and loading the reviews, prescriptions, patients, doctors, diagnoses and lines as objects cost
    more than the rest of the request."""
    patient, doctor, holder = aliased(User), aliased(User), aliased(User)
    drugs = (select(func.count(PrescriptionItem.id))
             .where(PrescriptionItem.prescription_id == Prescription.id)
             .correlate(Prescription).scalar_subquery())
    return (select(Prescription.id, Prescription.patient_id, PrescriptionReview.queued_at,
                   PrescriptionReview.findings_count, PrescriptionReview.worst_severity,
                   PrescriptionReview.claimed_by_id, PrescriptionReview.claimed_at,
                   patient.display_name, Condition.icd10_code, Condition.name, doctor.display_name,
                   holder.display_name, drugs)
            .select_from(PrescriptionReview)
            .join(Prescription, Prescription.id == PrescriptionReview.prescription_id)
            .join(patient, patient.id == Prescription.patient_id)
            .join(doctor, doctor.id == Prescription.doctor_id)
            .join(Condition, Condition.id == Prescription.condition_id)
            .outerjoin(holder, holder.id == PrescriptionReview.claimed_by_id)
            .where(_WAITING)
            .order_by(PrescriptionReview.queued_at, PrescriptionReview.id).limit(bindparam("limit")))


def queue(limit: int, *, language: str = "en", now: datetime | None = None) -> list[Waiting]:
    """The `limit` prescriptions waiting longest for review, oldest signed first (first in, first
    reviewed), their diagnoses named in `language`."""
    entries = []
    for (prescription_id, patient_id, queued_at, findings_count, worst, claimed_by_id, claimed_at,
         patient_name, code, condition_name, doctor_name, holder_name, drugs) in db.session.execute(
            _queue(), {"limit": limit}):
        # A claim left longer than the limit no longer holds the entry (services.holder's rule).
        live = claimed_by_id is not None and not claim_lapsed(claimed_at, now)
        entries.append(Waiting(
            prescription_id, patient_id, queued_at, findings_count, worst, patient_name,
            catalog.icd10_name(code, language, condition_name), doctor_name, drugs,
            claimed_by_id if live else None, holder_name if live else None))
    return entries


@cache
def _for_page():
    """A prescription with what the review page shows of it: its review and who claimed or decided
    it, the patient and their profile, the doctor, diagnosis and consultation in one joined statement,
    then its lines with their drugs and its findings (one statement each). Built once."""
    review = joinedload(Prescription.review)
    return (select(Prescription).where(Prescription.id == bindparam("id"))
            .options(review.joinedload(PrescriptionReview.claimed_by),
                     review.joinedload(PrescriptionReview.decided_by),
                     joinedload(Prescription.patient).joinedload(User.patient_profile),
                     joinedload(Prescription.doctor), joinedload(Prescription.condition),
                     joinedload(Prescription.consultation),
                     selectinload(Prescription.items).joinedload(PrescriptionItem.drug),
                     selectinload(Prescription.findings)))


def for_page(prescription_id: int) -> Prescription | None:
    return db.session.scalar(_for_page(), {"id": prescription_id})


def earlier_versions(prescription: Prescription) -> list[Prescription]:
    """The versions this one replaces, newest first (a chain is a handful of versions at most)."""
    found, current = [], prescription.previous_version
    while current is not None:
        found.append(current)
        current = current.previous_version
    return found


def returns(versions: list[Prescription]) -> list[PrescriptionReview]:
    """The pharmacists' returns among those versions, newest first: why the doctor was asked to change
    it (one statement for all of them, with who returned each)."""
    if not versions:
        return []
    returned = {review.prescription_id: review for review in db.session.scalars(
        select(PrescriptionReview).options(joinedload(PrescriptionReview.decided_by))
        .where(PrescriptionReview.prescription_id.in_([v.id for v in versions]),
               PrescriptionReview.decision == Decision.RETURNED))}
    return [returned[v.id] for v in versions if v.id in returned]


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
