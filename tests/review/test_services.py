"""Acceptance 3 of the review issue, at the service level: claims, who may review, what can be approved."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.accounts.models import PharmacistProfile, Role
from app.audit.models import AuditEvent
from app.checks.knowledge import Severity
from app.database import utcnow
from app.errors import DomainError, InvalidTransition
from app.prescribing import services as rx
from app.prescribing.states import PrescriptionStatus
from app.review import queries
from app.review import services as review
from app.review.models import Decision
from tests import factories
from tests.prescribing.conftest import sign_and_submit
from tests.review.conftest import AMLODIPINE, METFORMIN_OVER_MAXIMUM, METHOTREXATE_DAILY

S = PrescriptionStatus


def test_signing_runs_the_checks_and_queues_the_prescription_with_its_findings(db, sign):
    clean = sign(AMLODIPINE)
    assert clean.status == S.AWAITING_REVIEW
    assert (clean.review.findings_count, clean.review.worst_severity, clean.findings) == (0, None, [])
    flagged = sign(METHOTREXATE_DAILY)
    assert flagged.review.worst_severity == Severity.CONTRAINDICATED
    assert any(f.kind == "weekly_only" and f.severity == Severity.CONTRAINDICATED for f in flagged.findings)
    assert flagged.review.knowledge_base_version == flagged.findings[0].knowledge_base_version
    assert [entry.prescription_id for entry in queries.queue(50)] == [clean.id, flagged.id]  # oldest first


def test_the_same_prescription_cannot_be_claimed_while_another_pharmacist_holds_it(db, sign, pharmacists):
    wang, zhao = pharmacists
    prescription = sign(AMLODIPINE)
    review.claim(prescription, wang)
    db.session.commit()
    with pytest.raises(DomainError) as refused:
        review.claim(prescription, zhao)
    assert "Another pharmacist is reviewing this prescription." in str(refused.value.reasons[""])
    db.session.rollback()
    assert prescription.review.claimed_by_id == wang.id
    review.claim(prescription, wang)  # the holder may claim again (e.g. a second tab)


def test_an_abandoned_claim_is_free_after_15_minutes_and_swept_by_the_worker(db, sign, pharmacists):
    wang, zhao = pharmacists
    prescription = sign(AMLODIPINE)
    review.claim(prescription, wang, now=utcnow() - timedelta(minutes=16))
    db.session.commit()
    assert review.holder(prescription.review) is None
    assert review.sweep_abandoned_claims(100) == 1
    db.session.commit()
    assert prescription.review.claimed_by_id is None
    assert db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "prescription.review_claim_expired"))
    review.claim(prescription, zhao)
    assert prescription.review.claimed_by_id == zhao.id


def test_a_claim_younger_than_15_minutes_is_kept(db, sign, pharmacists):
    wang, _ = pharmacists
    prescription = sign(AMLODIPINE)
    review.claim(prescription, wang, now=utcnow() - timedelta(minutes=14))
    db.session.commit()
    assert review.sweep_abandoned_claims(100) == 0
    assert review.holder(prescription.review) == wang


def test_the_prescriber_cannot_review_their_own_prescription(db, sign, visit):
    prescription = sign(AMLODIPINE)
    # The prescriber's account later works as a pharmacist: still not the one to review this.
    doctor = visit.doctor
    doctor.role = Role.PHARMACIST
    db.session.add(PharmacistProfile(user_id=doctor.id, licence_number="PH-SELF-1",
                                     home_store_id=factories.make_store().id))
    db.session.commit()
    with pytest.raises(DomainError) as refused:
        review.claim(prescription, doctor)
    assert "another pharmacist must review it" in str(refused.value.reasons[""])


def test_only_a_licensed_pharmacist_reviews(db, sign, visit):
    prescription = sign(AMLODIPINE)
    with pytest.raises(DomainError):
        review.claim(prescription, factories.make_user(Role.DOCTOR))


def _claimed(prescription, pharmacist):
    from app.extensions import db

    review.claim(prescription, pharmacist)
    db.session.commit()
    return prescription


def test_a_contraindicated_finding_cannot_be_approved(db, sign, pharmacists):
    wang, _ = pharmacists
    prescription = _claimed(sign(METHOTREXATE_DAILY), wang)
    with pytest.raises(DomainError) as refused:
        review.decide(prescription, wang, "approved", justification="I know better.")
    assert "A contraindicated finding cannot be approved" in str(refused.value.reasons["decision"])
    db.session.rollback()
    assert prescription.status == S.AWAITING_REVIEW and prescription.review.decision is None


def test_a_major_finding_is_approved_only_with_a_written_justification(db, sign, pharmacists):
    wang, _ = pharmacists
    prescription = _claimed(sign(METFORMIN_OVER_MAXIMUM), wang)
    assert prescription.review.worst_severity == Severity.MAJOR
    with pytest.raises(DomainError) as refused:
        review.decide(prescription, wang, "approved")
    assert "justification" in refused.value.reasons
    db.session.rollback()
    decided = review.decide(prescription, wang, "approved",
                            justification="Endocrinologist's plan: 3 g/day under monitoring, eGFR 95.")
    db.session.commit()
    assert (prescription.status, decided.decision) == (S.APPROVED, Decision.APPROVED)
    assert decided.turnaround_seconds >= 0 and decided.claimed_by_id is None


def test_a_decision_needs_the_claim(db, sign, pharmacists):
    wang, zhao = pharmacists
    prescription = _claimed(sign(AMLODIPINE), wang)
    with pytest.raises(DomainError):
        review.decide(prescription, zhao, "approved")


def test_returning_needs_a_reason_and_sends_it_back_to_the_doctor(db, sign, pharmacists):
    wang, _ = pharmacists
    prescription = _claimed(sign(AMLODIPINE), wang)
    with pytest.raises(DomainError) as refused:
        review.decide(prescription, wang, "returned")
    assert "reason_codes" in refused.value.reasons
    db.session.rollback()
    with pytest.raises(DomainError) as refused:
        review.decide(prescription, wang, "returned", reason_codes=["other"])
    assert "note" in refused.value.reasons
    db.session.rollback()
    review.decide(prescription, wang, "returned", reason_codes=["dose"], note="Start at 2.5 mg: age 82.")
    db.session.commit()
    assert prescription.status == S.RETURNED
    assert prescription.review.reasons == ["dose"]
    with pytest.raises(InvalidTransition):
        review.claim(prescription, wang)


def test_a_returned_prescription_is_revised_into_a_new_version_that_is_reviewed_again(
        db, sign, pharmacists, visit):
    wang, _ = pharmacists
    prescription = _claimed(sign(AMLODIPINE), wang)
    review.decide(prescription, wang, "returned", reason_codes=["dose"])
    db.session.commit()
    # The consultation has ended meanwhile: the doctor still answers the return.
    visit.consultation.status = "completed"
    db.session.commit()
    revised = rx.revise(prescription, visit.doctor)
    rx.remove_item(revised, visit.doctor, revised.items[0])
    rx.add_item(revised, visit.doctor, drug_id=visit.drugs["AMLODIPINE-5MG-TAB"].id, dose="2.5",
                dose_unit="mg", frequency="QD", duration_days=7)
    sign_and_submit(revised, visit.doctor, factories.PASSWORD)
    db.session.commit()
    assert (prescription.status, revised.status, revised.version) == (S.SUPERSEDED, S.AWAITING_REVIEW, 2)
    assert [entry.prescription_id for entry in queries.queue(50)] == [revised.id]


def test_the_doctor_cancels_a_returned_prescription(db, sign, pharmacists, visit):
    wang, _ = pharmacists
    prescription = _claimed(sign(AMLODIPINE), wang)
    review.decide(prescription, wang, "returned", reason_codes=["indication"])
    db.session.commit()
    rx.cancel(prescription, visit.doctor)
    db.session.commit()
    assert prescription.status == S.CANCELLED
    with pytest.raises(InvalidTransition):
        rx.cancel(prescription, visit.doctor)


def test_an_expired_prescription_cannot_be_approved(db, sign, pharmacists):
    wang, _ = pharmacists
    prescription = _claimed(sign(AMLODIPINE), wang)
    with pytest.raises(DomainError) as refused:
        review.decide(prescription, wang, "approved", now=utcnow() + timedelta(days=4))
    assert "expired" in str(refused.value.reasons["decision"])
