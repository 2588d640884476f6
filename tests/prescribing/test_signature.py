"""Acceptance 3: the e-signature freezes the content; a change is a new version; old hashes verify."""

import pytest
import sqlalchemy as sa
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.errors import DomainError, InvalidTransition
from app.extensions import db
from app.prescribing import services as rx
from app.prescribing.models import FrozenPrescriptionError, Prescription, PrescriptionItem
from app.prescribing.states import PrescriptionStatus
from tests import factories
from tests.prescribing.conftest import item, sign_and_submit


def actions(prescription) -> list[tuple[str, int | None]]:
    return [tuple(row) for row in db.session.execute(
        select(AuditEvent.action, AuditEvent.patient_id)
        .where(AuditEvent.object_type == "prescriptions", AuditEvent.object_id == str(prescription.id))
        .order_by(AuditEvent.id))]


def test_a_wrong_password_is_refused_and_audited(visit, draft):
    item(draft, visit.doctor, visit.drugs)
    with pytest.raises(rx.WrongPassword) as refused:
        sign_and_submit(draft, visit.doctor, "not-my-password")
    assert "password" in refused.value.reasons
    assert (draft.status, draft.signed_at, draft.content_sha256) == (PrescriptionStatus.DRAFT, None, None)
    assert ("prescription.sign_refused", visit.patient.id) in actions(draft)


def test_signing_stores_signer_time_and_hash_and_waits_for_review(visit, draft):
    item(draft, visit.doctor, visit.drugs)
    sign_and_submit(draft, visit.doctor, factories.PASSWORD)
    db.session.commit()
    db.session.expire_all()  # read back what the database holds
    signed = db.session.get(Prescription, draft.id)
    assert signed.status == PrescriptionStatus.AWAITING_REVIEW
    assert signed.signed_by_id == visit.doctor.id and signed.signed_at is not None
    assert len(signed.content_sha256) == 64
    assert rx.verify_signature(signed)
    assert [action for action, patient in actions(signed) if patient == visit.patient.id][-3:] == [
        "prescription.signed", "prescription.submitted_for_review", "prescription.checked"]


def test_an_empty_prescription_cannot_be_signed(visit, draft):
    with pytest.raises(DomainError):
        sign_and_submit(draft, visit.doctor, factories.PASSWORD)


def test_changing_a_signed_prescription_creates_a_new_version_and_the_old_hash_still_verifies(visit, draft):
    item(draft, visit.doctor, visit.drugs)
    sign_and_submit(draft, visit.doctor, factories.PASSWORD)
    db.session.commit()
    old_hash = draft.content_sha256

    revision = rx.revise(draft, visit.doctor)
    assert (revision.version, revision.previous_version_id, revision.status) == (
        2, draft.id, PrescriptionStatus.DRAFT)
    rx.remove_item(revision, visit.doctor, revision.items[0])
    item(revision, visit.doctor, visit.drugs, dose="10", duration_days=5)
    sign_and_submit(revision, visit.doctor, factories.PASSWORD)
    db.session.commit()
    db.session.expire_all()

    old, new = db.session.get(Prescription, draft.id), db.session.get(Prescription, revision.id)
    assert old.status == PrescriptionStatus.SUPERSEDED and new.status == PrescriptionStatus.AWAITING_REVIEW
    assert old.content_sha256 == old_hash and rx.verify_signature(old)
    assert rx.verify_signature(new) and new.content_sha256 != old_hash
    assert [(i.dose, i.duration_days) for i in old.items] == [(5, 7)]
    assert not rx.is_valid(old)  # only the newest version can be filled
    with pytest.raises(DomainError):  # a version is revised once: the chain does not fork
        rx.revise(old, visit.doctor)


def test_signed_content_is_frozen_even_past_the_services(visit, draft):
    line = item(draft, visit.doctor, visit.drugs)
    sign_and_submit(draft, visit.doctor, factories.PASSWORD)
    db.session.commit()
    with pytest.raises(InvalidTransition):
        rx.remove_item(draft, visit.doctor, line)
    draft.chronic_reason = "edited afterwards"
    with pytest.raises(FrozenPrescriptionError):
        db.session.flush()
    db.session.rollback()
    line = db.session.get(PrescriptionItem, line.id)
    line.duration_days = 6
    with pytest.raises(FrozenPrescriptionError):
        db.session.flush()
    db.session.rollback()


def test_a_change_made_behind_the_application_no_longer_verifies(visit, draft):
    line = item(draft, visit.doctor, visit.drugs)
    sign_and_submit(draft, visit.doctor, factories.PASSWORD)
    db.session.commit()
    db.session.execute(sa.update(PrescriptionItem).where(PrescriptionItem.id == line.id)
                       .values(duration_days=6))
    db.session.expire_all()
    assert not rx.verify_signature(db.session.get(Prescription, draft.id))


def test_every_change_is_audited_with_the_patient(visit, draft):
    rx.set_supply(draft, visit.doctor, "long", assessment="Stable for a year.")
    line = item(draft, visit.doctor, visit.drugs, duration_days=84)
    rx.remove_item(draft, visit.doctor, line)
    item(draft, visit.doctor, visit.drugs, duration_days=84)
    rx.confirm_long(draft, visit.patient)
    sign_and_submit(draft, visit.doctor, factories.PASSWORD)
    assert actions(draft) == [(action, visit.patient.id) for action in (
        "prescription.drafted", "prescription.supply_set", "prescription.item_added",
        "prescription.item_removed", "prescription.item_added", "prescription.long_confirmed",
        "prescription.signed", "prescription.submitted_for_review", "prescription.checked")]
