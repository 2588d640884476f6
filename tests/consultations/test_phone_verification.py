"""Who reaches booking and payment: patients with a verified mobile number (the pages send anyone else
to verify it, in their language, and the services refuse too), with the condition to book for chosen."""

import pytest
from sqlalchemy import func, select

from app.consultations import services as consultations
from app.consultations.models import Consultation
from app.errors import DomainError
from app.payments.models import Payment
from tests import factories


def text(response) -> str:
    return response.get_data(as_text=True)


def count(db, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def booking(condition, doctor) -> dict:
    return {"condition_id": str(condition.id), "doctor_id": str(doctor.id),
            "reason": "My morning blood sugar is above 8."}


CARD = {"method_type": "card", "test_card": "pm_card_visa"}


def unverify(db, patient) -> None:
    """As after a change of number: the new one is not verified yet."""
    patient.phone_verified_at = None
    db.session.commit()


def test_the_test_patients_are_verified_unless_a_test_says_otherwise(db):
    assert factories.make_patient().phone_verified_at is not None


def test_a_verified_patient_books_and_reaches_the_payment_page(db, flow, as_user):
    condition, doctor = flow.condition(), flow.doctor()
    browser = as_user(condition.patient)
    assert browser.get("/consultations/new").status_code == 200
    booked = browser.post("/consultations/new", data=booking(condition, doctor))
    assert booked.status_code == 303 and "/pay" in booked.headers["Location"]
    [consultation] = db.session.scalars(select(Consultation)).all()
    assert browser.get(f"/consultations/{consultation.id}/pay").status_code == 200
    assert browser.post(f"/consultations/{consultation.id}/pay", data=CARD).status_code == 303
    assert count(db, Payment) == 1


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_an_unverified_patient_opening_booking_is_sent_to_verify_the_phone(db, flow, as_user, method):
    condition, doctor = flow.condition(), flow.doctor()
    unverify(db, condition.patient)
    browser = as_user(condition.patient)
    response = browser.open("/consultations/new", method=method, data=booking(condition, doctor))
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/accounts/verify-phone")
    page = text(browser.get(response.headers["Location"]))
    assert "Verify your mobile number before booking a consultation." in page
    assert count(db, Consultation) == 0


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_an_unverified_patient_opening_payment_is_sent_to_verify_the_phone(db, flow, as_user, method):
    consultation = flow.book()
    unverify(db, consultation.patient)
    browser = as_user(consultation.patient)
    response = browser.open(f"/consultations/{consultation.id}/pay", method=method, data=CARD)
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/accounts/verify-phone")
    assert "Verify your mobile number before paying." in text(browser.get(response.headers["Location"]))
    assert count(db, Payment) == 0


def test_the_patient_reads_why_in_chinese(db, flow, as_user):
    patient = factories.make_patient(locale="zh")
    unverify(db, patient)
    browser = as_user(patient)
    page = text(browser.get("/consultations/new", follow_redirects=True))
    assert "请先验证手机号，再预约复诊。" in page
    assert "Verify your mobile number" not in page
    assert count(db, Consultation) == 0


def test_the_services_refuse_an_unverified_patient_too(db, flow):
    condition, doctor = flow.condition(), flow.doctor()
    consultation = flow.book(patient=condition.patient, condition=condition, doctor=doctor)
    unverify(db, condition.patient)
    with pytest.raises(DomainError) as booking_refused:
        consultations.book(condition.patient, condition_id=condition.id, doctor_id=doctor.id, reason="Again")
    assert "Verify your mobile number before booking" in str(booking_refused.value)
    db.session.rollback()
    with pytest.raises(DomainError) as payment_refused:
        consultations.start_payment(consultation)
    assert "Verify your mobile number before paying" in str(payment_refused.value)
    db.session.rollback()
    assert count(db, Consultation) == 1 and count(db, Payment) == 0


def test_booking_again_for_a_condition_comes_with_it_chosen(db, flow, as_user):
    patient = factories.make_patient()
    flow.condition(patient, hospital="First Hospital")
    second = flow.condition(patient, icd10_code="I10", name="Essential hypertension")
    flow.doctor()
    page = text(as_user(patient).get(f"/consultations/new?condition_id={second.id}"))
    assert f'<option selected value="{second.id}">' in page
    assert text(as_user(patient).get("/consultations/new?condition_id=1e999")).count("<option selected") == 0
