"""A patient records a condition (the first step towards booking) only with a verified mobile number."""

import io
from datetime import date
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.database import utcnow
from app.errors import DomainError
from app.patients import services
from app.patients.models import Condition, Upload
from tests import factories
from tests.patients.conftest import PDF, file_storage, make_profile

PHONE_FIRST = "Please verify your mobile number before you record a condition"
PHONE_FIRST_ZH = "请先验证手机号，再登记疾病"

# Which patients may record a condition: a verified number only; an unverified or missing one may not.
PATIENTS = {
    "verified phone": dict(phone_verified_at=utcnow()),
    "unverified phone": dict(phone_verified_at=None),
    "no phone at all": dict(phone=None, phone_verified_at=None),
}


def condition_form() -> dict:
    return dict(icd10_code="E11.9", hospital="Peking Union Medical College Hospital",
                diagnosed_on="2021-09-15", proof=(io.BytesIO(PDF), "outpatient-record.pdf"))


def count(db, model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize("who", PATIENTS)
def test_the_service_records_a_condition_only_for_a_verified_phone(app, db, upload_files, who):
    patient = factories.make_patient(**PATIENTS[who])
    make_profile(patient)
    files_before = upload_files()
    add = dict(icd10_code="I10", hospital="Ruijin Hospital", diagnosed_on=date(2020, 6, 1),
               proof_file=file_storage(PDF, "record.pdf"), uploaded_by=patient)
    with app.test_request_context():
        if who == "verified phone":
            assert services.add_condition(patient, **add).icd10_code == "I10"
            return
        with pytest.raises(DomainError) as refused:
            services.add_condition(patient, **add)
        assert "verify your mobile number" in str(refused.value)
    assert count(db, Condition) == count(db, Upload) == 0
    assert upload_files() == files_before  # no proof was stored for a refused condition


@pytest.mark.parametrize("language", ["en", "zh"])
def test_an_unverified_patient_is_sent_to_phone_verification_and_nothing_is_stored(
        db, person, upload_files, language):
    web, patient = person("patient", language=language, locale=language, phone_verified_at=None)
    make_profile(patient)
    db.session.commit()
    files_before = upload_files()

    page = web.page("/patients/conditions")
    assert (PHONE_FIRST_ZH if language == "zh" else PHONE_FIRST) in page
    assert "/accounts/verify-phone?next=" in page
    assert 'name="icd10_code"' not in page  # no form to fill in that would then be refused

    response = web.post("/patients/conditions", condition_form(), content_type="multipart/form-data")
    assert response.status_code == 302
    target = urlsplit(response.location)
    assert target.path == "/accounts/verify-phone"
    assert parse_qs(target.query)["next"] == ["/patients/conditions"]
    assert (PHONE_FIRST_ZH if language == "zh" else PHONE_FIRST) in web.page(response.location)
    assert count(db, Condition) == count(db, Upload) == 0
    assert upload_files() == files_before
    [refusal] = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "condition.refused_unverified_phone")).all()
    assert refusal.patient_id == patient.id


def test_a_verified_patient_sees_the_form_and_records_the_condition(db, person):
    web, patient = person("patient")
    make_profile(patient)
    db.session.commit()
    page = web.page("/patients/conditions")
    assert PHONE_FIRST not in page and 'name="icd10_code"' in page
    response = web.post("/patients/conditions", condition_form(), content_type="multipart/form-data",
                        follow=True)
    assert "Your condition has been recorded." in response.get_data(as_text=True)
    assert count(db, Condition) == 1
