"""Review verbs: queue a signed prescription with its findings, claim, release, decide, sweep claims."""

from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select, update

from app.accounts.models import Role
from app.audit.services import record
from app.checks import adapters, loader
from app.checks.knowledge import Severity
from app.database import claim as claim_rows
from app.database import utcnow
from app.errors import DomainError, InvalidTransition
from app.extensions import db
from app.notifications import notices
from app.prescribing import services as prescribing
from app.prescribing.models import Prescription
from app.prescribing.services import is_valid
from app.prescribing.states import MACHINE as PRESCRIPTION
from app.prescribing.states import PrescriptionStatus
from app.review.models import CheckFinding, Decision, PrescriptionReview
from app.review.reasons import RETURN_REASONS
from app.review.states import MACHINE, ReviewStatus

S = PrescriptionStatus
# An abandoned claim (the pharmacist walked away) frees the prescription for others after this.
CLAIM_MINUTES = 15
# Findings the doctor must explain to sign: the pharmacist cannot approve a contraindicated one and
# needs a written justification for a major one, so the prescriber's reasoning must be on record.
NEEDS_PRESCRIBER_REASON = frozenset({Severity.CONTRAINDICATED, Severity.MAJOR})
REASON_MAX_LENGTH = 2000


def submit(prescription: Prescription, prescriber_reason: str = "") -> PrescriptionReview:
    """Run the automatic checks on a just-signed prescription and put it in the review queue.

    Called by whoever signed it, in the same transaction, right after `prescribing.services.sign()`
    (which holds both versions' locks): a major or contraindicated finding is refused without the
    prescriber's reason, which is kept with each such finding. The replaced version leaves the queue.
    """
    reason = (prescriber_reason or "").strip()
    if len(reason) > REASON_MAX_LENGTH:
        raise DomainError({"prescriber_reason": _l("Write at most %(count)d characters.",
                                                   count=REASON_MAX_LENGTH)})
    kb = loader.get()
    findings = adapters.check_prescription(prescription, kb=kb)
    if not reason and any(finding.severity in NEEDS_PRESCRIBER_REASON for finding in findings):
        raise DomainError({"prescriber_reason": _l(
            "A major or contraindicated finding can only be signed with your reason for prescribing it "
            "anyway.")})
    if prescription.previous_version_id is not None:
        _withdraw(prescription.previous_version_id)
    for finding in findings:
        db.session.add(CheckFinding(
            prescription_id=prescription.id, severity=finding.severity, kind=finding.kind,
            rule_id=finding.rule_id, drug_code=finding.drug_code, line=finding.line,
            other_code=finding.other_code, other_on=str(finding.other_on) if finding.other_on else None,
            message_en=finding.message_en, message_zh=finding.message_zh, source=finding.source,
            knowledge_base_version=kb.version,
            prescriber_reason=reason if finding.severity in NEEDS_PRESCRIBER_REASON else None))
    review = PrescriptionReview(
        prescription_id=prescription.id, queued_at=prescription.signed_at, findings_count=len(findings),
        worst_severity=max((f.severity for f in findings), default=None), knowledge_base_version=kb.version)
    db.session.add(review)
    db.session.flush()
    record("prescription.checked", obj=prescription, patient=prescription.patient_id,
           detail=f"findings={len(findings)}; worst={review.worst_severity or '-'}; kb={kb.version}")
    return review


def _locked_review(prescription_id: int) -> PrescriptionReview | None:
    statement = select(PrescriptionReview).where(PrescriptionReview.prescription_id == prescription_id)
    return db.session.scalar(statement.with_for_update().execution_options(populate_existing=True))


def _withdraw(prescription_id: int) -> None:
    """A newer version was signed: the older one's open review is closed, its claim dropped."""
    review = _locked_review(prescription_id)
    if review is not None and review.status == ReviewStatus.OPEN:
        MACHINE.move(review, ReviewStatus.WITHDRAWN)
        review.claimed_by_id = review.claimed_at = None
        db.session.flush()


def claim_lapsed(claimed_at: datetime | None, now: datetime | None = None) -> bool:
    """A claim taken at `claimed_at` was abandoned: it no longer holds the prescription."""
    return claimed_at is not None and claimed_at <= (now or utcnow()) - timedelta(minutes=CLAIM_MINUTES)


def claim_expired(review: PrescriptionReview, now: datetime | None = None) -> bool:
    return claim_lapsed(review.claimed_at, now)


def holder(review: PrescriptionReview, now: datetime | None = None):
    """Who holds the claim now, or None when it is free (never claimed, released or abandoned)."""
    if review.claimed_by_id is None or claim_expired(review, now):
        return None
    return review.claimed_by


def _check_reviewer(prescription: Prescription, pharmacist) -> None:
    licensed = pharmacist.role == Role.PHARMACIST and pharmacist.pharmacist_profile is not None
    if not licensed or not pharmacist.is_active:
        raise DomainError(_l("Only a licensed pharmacist can review prescriptions."))
    if pharmacist.id in (prescription.doctor_id, prescription.signed_by_id):
        raise DomainError(_l("You wrote this prescription; another pharmacist must review it."))


def _open_review(prescription: Prescription, review: PrescriptionReview | None = None) -> PrescriptionReview:
    review = review or prescription.review
    if review is None or review.status != ReviewStatus.OPEN or prescription.status != S.AWAITING_REVIEW:
        raise InvalidTransition(_l("This prescription is no longer waiting for review."))
    return review


def claim(prescription: Prescription, pharmacist, now: datetime | None = None) -> PrescriptionReview:
    """Take the prescription for review; refused while another pharmacist holds a live claim."""
    _check_reviewer(prescription, pharmacist)
    review = _open_review(prescription)
    now = now or utcnow()
    # One conditional UPDATE: of two pharmacists claiming at once, the database lets exactly one
    # change the row (the other's WHERE no longer matches once the first commits).
    taken = db.session.execute(
        update(PrescriptionReview)
        .where(PrescriptionReview.id == review.id, PrescriptionReview.status == ReviewStatus.OPEN,
               or_(PrescriptionReview.claimed_by_id.is_(None),
                   PrescriptionReview.claimed_by_id == pharmacist.id,
                   PrescriptionReview.claimed_at <= now - timedelta(minutes=CLAIM_MINUTES)))
        .values(claimed_by_id=pharmacist.id, claimed_at=now)
        .execution_options(synchronize_session=False)).rowcount
    db.session.refresh(review)
    if taken != 1:
        raise DomainError(_l("Another pharmacist is reviewing this prescription."))
    record("prescription.review_claimed", obj=prescription, patient=prescription.patient_id, actor=pharmacist)
    return review


def release(prescription: Prescription, pharmacist) -> None:
    review = _open_review(prescription)
    if review.claimed_by_id != pharmacist.id:
        raise DomainError(_l("You do not hold this prescription."))
    review.claimed_by_id = review.claimed_at = None
    db.session.flush()
    record("prescription.review_released", obj=prescription, patient=prescription.patient_id,
           actor=pharmacist)


def _clean_reasons(codes) -> list[str]:
    chosen = [code for code in dict.fromkeys(codes or []) if code]
    if not chosen:
        raise DomainError({"reason_codes": _l("Choose at least one reason for returning it.")})
    if any(code not in RETURN_REASONS for code in chosen):
        raise DomainError({"reason_codes": _l("Choose reasons from the list.")})
    return chosen


def decide(prescription: Prescription, pharmacist, decision, *, reason_codes=(), note: str = "",
           justification: str = "", now: datetime | None = None) -> PrescriptionReview:
    """Approve or return; the rules that make a decision impossible are checked here, not in the page.

    The prescription and then its review are locked first (the order sign() takes them too), so a
    decision and the doctor signing a newer version cannot both succeed.
    """
    _check_reviewer(prescription, pharmacist)
    prescription = prescribing.lock(prescription)
    review = _open_review(prescription, _locked_review(prescription.id))
    now = now or utcnow()
    try:
        decision = Decision(decision)
    except ValueError:
        raise DomainError({"decision": _l("Choose approve or return.")}) from None
    if decision == Decision.APPROVED and not is_valid(prescription, now):
        raise DomainError({"decision": _l(
            "This prescription has expired and can no longer be approved; return it to the doctor.")})
    if holder(review, now) is None or review.claimed_by_id != pharmacist.id:
        raise DomainError(_l("Claim the prescription before deciding; another pharmacist may hold it."))
    note, justification = (note or "").strip(), (justification or "").strip()
    severities = {finding.severity for finding in prescription.findings}
    if decision == Decision.APPROVED:
        if Severity.CONTRAINDICATED in severities:
            raise DomainError({"decision": _l(
                "A contraindicated finding cannot be approved; return the prescription to the doctor.")})
        if Severity.MAJOR in severities and not justification:
            raise DomainError({"justification": _l(
                "A major finding can only be approved with your written justification.")})
        reasons = []
    else:
        reasons = _clean_reasons(reason_codes)
        if "other" in reasons and not note:
            raise DomainError({"note": _l("Explain the other reason in the note.")})
    MACHINE.move(review, ReviewStatus(decision.value))
    review.decision, review.decided_by_id, review.decided_at = decision, pharmacist.id, now
    review.reason_codes, review.note, review.justification = ",".join(reasons), note, justification
    review.turnaround_seconds = max(int((now - review.queued_at).total_seconds()), 0)
    review.claimed_by_id = review.claimed_at = None
    PRESCRIPTION.move(prescription, S.APPROVED if decision == Decision.APPROVED else S.RETURNED)
    db.session.flush()
    record(f"prescription.{decision}", obj=prescription, patient=prescription.patient_id, actor=pharmacist,
           detail=f"reasons={review.reason_codes or '-'}; turnaround_s={review.turnaround_seconds}")
    notices.prescription_decided(prescription, decision == Decision.APPROVED)
    return review


def sweep_abandoned_claims(limit: int, now: datetime | None = None) -> int:
    """Worker job: clear claims older than the limit, so the queue shows them as free again."""
    cutoff = (now or utcnow()) - timedelta(minutes=CLAIM_MINUTES)
    stale = db.session.scalars(claim_rows(
        select(PrescriptionReview).where(PrescriptionReview.status == ReviewStatus.OPEN,
                                         PrescriptionReview.claimed_at <= cutoff)
        .order_by(PrescriptionReview.id).limit(limit), db.session.get_bind().dialect.name)).all()
    for review in stale:
        # Re-read under the lock: the pharmacist may have renewed the claim in the meantime.
        if review.claimed_at is None or review.claimed_at > cutoff:
            continue
        record("prescription.review_claim_expired", obj=review.prescription,
               patient=review.prescription.patient_id, detail=f"held_by={review.claimed_by_id}")
        review.claimed_by_id = review.claimed_at = None
    db.session.flush()
    return len(stale)
