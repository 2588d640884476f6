"""The consultation services check who acts themselves: called directly with the wrong user, they refuse
and change nothing (the views in front are not the only callers)."""

import pytest
from sqlalchemy import func, select

from app.accounts.models import Role
from app.consultations import services as consultations
from app.consultations.models import Consultation, ConsultationMessage
from app.consultations.states import ConsultationStatus
from app.errors import DomainError
from app.extensions import db as _db
from app.payments.models import PaymentOperation
from tests import factories

S = ConsultationStatus
NOTE = dict(complaint="Thirst", findings="HbA1c 7.1%", assessment="Stable", plan="Continue metformin")


def strangers() -> dict:
    """Everyone who is neither of the two, by the part they would play."""
    inactive = factories.make_user(Role.DOCTOR)
    inactive.is_active = False
    users = {"another patient": factories.make_patient(), "another doctor": factories.make_user(Role.DOCTOR),
             "an inactive doctor": inactive, "a pharmacist": factories.make_user(Role.PHARMACIST),
             "an admin": factories.make_user(Role.ADMIN)}
    _db.session.commit()  # each refusal rolls back; the users stay
    return users


def refused(db, consultation, verb, user, *args, **kwargs) -> str:
    status = consultation.status
    with pytest.raises(DomainError) as error:
        verb(consultation, user, *args, **kwargs)
    db.session.rollback()
    assert db.session.get(Consultation, consultation.id).status == status
    return str(error.value)


def test_only_the_patient_may_cancel(db, flow):
    consultation = flow.paid()
    for who, user in strangers().items():
        assert refused(db, consultation, consultations.cancel, user) \
            == "Only the patient of this consultation can do this.", who
    assert refused(db, consultation, consultations.cancel, consultation.doctor) \
        == "Only the patient of this consultation can do this."
    assert db.session.scalar(select(func.count()).select_from(PaymentOperation)) == 0  # nothing released


@pytest.mark.parametrize("verb, args", [
    (consultations.accept, ()),
    (consultations.decline, ("Outside my specialty",)),
], ids=["accept", "decline"])
def test_only_the_assigned_active_doctor_may_take_up_or_decline_a_waiting_consultation(db, flow, verb, args):
    consultation = flow.paid()
    everyone_else = strangers() | {"the patient": consultation.patient}
    for who, user in everyone_else.items():
        assert refused(db, consultation, verb, user, *args) \
            == "Only the doctor of this consultation can do this.", who
    consultation.doctor.is_active = False  # deactivated while the consultation waited
    db.session.commit()
    refused(db, consultation, verb, consultation.doctor, *args)
    assert db.session.scalar(select(func.count()).select_from(PaymentOperation)) == 0  # nothing captured


@pytest.mark.parametrize("verb, args, kwargs", [
    (consultations.save_note, (), NOTE),
    (consultations.refer, ("Needs an examination",), {}),
    (consultations.complete, (), {}),
], ids=["save_note", "refer", "complete"])
def test_only_the_assigned_doctor_may_write_the_note_refer_or_complete(db, flow, verb, args, kwargs):
    consultation = flow.accepted()
    consultations.save_note(consultation, consultation.doctor, **NOTE)
    db.session.commit()
    for who, user in (strangers() | {"the patient": consultation.patient}).items():
        assert refused(db, consultation, verb, user, *args, **kwargs) \
            == "Only the doctor of this consultation can do this.", who
    verb(consultation, consultation.doctor, *args, **kwargs)  # the doctor still can


def test_only_the_patient_may_rate(db, flow):
    consultation = flow.accepted()
    consultations.save_note(consultation, consultation.doctor, **NOTE)
    consultations.complete(consultation, consultation.doctor)
    db.session.commit()
    for who, user in (strangers() | {"the doctor": consultation.doctor}).items():
        assert refused(db, consultation, consultations.rate, user, 1) \
            == "Only the patient of this consultation can do this.", who
    assert db.session.get(Consultation, consultation.id).rating is None


def test_only_the_two_participants_may_post_in_the_thread(db, flow):
    consultation = flow.accepted()
    for who, user in strangers().items():
        with pytest.raises(DomainError):
            consultations.post_message(consultation, user, f"hello from {who}")
        db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(ConsultationMessage)) == 0
    consultations.post_message(consultation, consultation.patient, "Morning values 8.2")
    consultations.post_message(consultation, consultation.doctor, "Thank you")
    assert db.session.scalar(select(func.count()).select_from(ConsultationMessage)) == 2


def test_only_a_patient_may_book(db, flow):
    condition = flow.condition()
    doctor = flow.doctor()
    with pytest.raises(DomainError, match="Only a patient can book"):
        consultations.book(doctor, condition_id=condition.id, doctor_id=doctor.id, reason="Follow-up")
    assert db.session.scalar(select(func.count()).select_from(Consultation)) == 0
