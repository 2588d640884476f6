"""Conditions with proof as patients and staff meet them: record, refuse bad files, verify, download."""

import io
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from app.accounts.models import Role
from app.audit.models import AuditEvent
from app.patients.models import Condition, ConditionStatus, Upload
from tests import factories
from tests.patients.conftest import HTML, JPEG, PDF, PNG, make_condition, make_profile
from tests.test_security import audit as page_audit

ONLY_TYPES = "Only PDF, JPEG and PNG files are accepted."


def text(response) -> str:
    return response.get_data(as_text=True)


def condition_form(data: bytes | None = PDF, name: str = "outpatient-record.pdf", **fields) -> dict:
    form = dict(icd10_code="E11.9", hospital="Peking Union Medical College Hospital",
                diagnosed_on="2021-09-15")
    form.update(fields)
    if data is not None:
        form["proof"] = (io.BytesIO(data), name)
    return form


def post_condition(web, **kwargs):
    return web.post("/patients/conditions", condition_form(**kwargs), content_type="multipart/form-data")


def rows(db, model) -> list:
    db.session.expire_all()
    return db.session.scalars(select(model).order_by(model.id)).all()


def audit(db, action: str) -> list[AuditEvent]:
    return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                              .order_by(AuditEvent.id)).all()


@pytest.fixture
def patient_with_profile(db, person):
    def make(**fields):
        web, patient = person("patient", **fields)
        make_profile(patient)
        db.session.commit()
        return web, patient
    return make


@pytest.mark.parametrize(("data", "name", "content_type"), [
    (PDF, "discharge.pdf", "application/pdf"),
    (JPEG, "photo.jpg", "image/jpeg"),
    (PNG, "scan.png", "image/png"),
])
def test_patient_records_a_condition_with_proof_and_sees_it_pending(
        db, patient_with_profile, upload_files, data, name, content_type):
    web, patient = patient_with_profile()
    before = upload_files()
    response = post_condition(web, data=data, name=name)
    assert response.status_code == 302
    [condition] = rows(db, Condition)
    [upload] = rows(db, Upload)
    assert (condition.patient_id, condition.icd10_code, condition.status) == (
        patient.id, "E11.9", ConditionStatus.PENDING)
    assert condition.name == "Type 2 diabetes mellitus without complications"
    assert condition.diagnosed_on == date(2021, 9, 15) and condition.proof_upload_id == upload.id
    assert (upload.content_type, upload.size_bytes, upload.purpose) == (content_type, len(data),
                                                                        "condition_proof")
    assert len(upload_files()) == len(before) + 1
    page = web.page("/patients/conditions")
    assert "Your condition has been recorded." in page
    assert "Type 2 diabetes mellitus without complications" in page and "Pending verification" in page
    [added] = audit(db, "condition.added")
    assert (added.patient_id, added.actor_id) == (patient.id, patient.id)


def test_a_png_proof_is_stored_and_served_inline_as_an_image(db, patient_with_profile):
    web, _patient = patient_with_profile()
    post_condition(web, data=PNG, name="record.png")
    [upload] = rows(db, Upload)
    assert upload.content_type == "image/png"
    response = web.get(f"/patients/uploads/{upload.id}")
    assert response.status_code == 200 and response.mimetype == "image/png"
    assert response.headers["Content-Disposition"].startswith("inline")
    assert "record.png" in response.headers["Content-Disposition"]
    assert response.get_data() == PNG


REFUSED = {
    "png renamed pdf": (PNG, "record.pdf", "The file&#39;s content does not match its name (record.pdf).",
                        "文件内容与文件名不符（record.pdf）。"),
    "html renamed png": (HTML, "scan.png", ONLY_TYPES, "仅接受 PDF、JPEG 和 PNG 文件。"),
    "11 MB": (PNG + b"\0" * (11 * 1024 * 1024), "big.png", "The file is larger than 10 MB.",
              "文件超过 10 MB。"),
    "empty": (b"", "empty.pdf", "Choose a file to upload.", "请选择要上传的文件。"),
}


@pytest.mark.parametrize("language", ["en", "zh"])
@pytest.mark.parametrize("case", REFUSED)
def test_a_refused_file_shows_why_and_leaves_no_rows_and_no_file(
        db, patient_with_profile, upload_files, case, language):
    data, name, english, chinese = REFUSED[case]
    web, _patient = patient_with_profile(locale=language)
    before = upload_files()
    response = post_condition(web, data=data, name=name)
    assert response.status_code == 200
    assert (chinese if language == "zh" else english) in text(response)
    assert rows(db, Condition) == [] and rows(db, Upload) == []
    assert upload_files() == before
    assert audit(db, "condition.added") == []


@pytest.mark.parametrize(("fields", "message"), [
    ({"icd10_code": "X99.9"}, "Choose a diagnosis from the list."),
    ({"diagnosed_on": (date.today() + timedelta(days=3)).isoformat()},
     "The diagnosis date cannot be in the future."),
    ({"diagnosed_on": "1969-12-31"}, "The diagnosis date cannot be before your date of birth."),
    ({"diagnosed_on": "yesterday"}, "Enter a date such as 2024-05-31."),
    ({"hospital": ""}, "This field is required."),
])
def test_bad_condition_details_are_refused_before_any_file_is_kept(
        db, patient_with_profile, upload_files, fields, message):
    web, _patient = patient_with_profile()
    before = upload_files()
    response = post_condition(web, **fields)
    assert response.status_code == 200 and message in text(response)
    assert rows(db, Condition) == [] and rows(db, Upload) == []
    assert upload_files() == before


def test_a_condition_needs_personal_details_first_and_the_same_diagnosis_only_once(db, person):
    web, patient = person("patient", locale="zh")
    page = text(post_condition(web, icd10_code="C50.9"))
    assert "请先在健康档案中填写个人信息。" in page and rows(db, Condition) == []
    make_profile(patient)
    db.session.commit()
    assert post_condition(web, icd10_code="C50.9").status_code == 302
    assert "该诊断已登记。" in text(post_condition(web, icd10_code="C50.9"))
    assert len(rows(db, Condition)) == 1
    assert "C50.9 · 乳腺恶性肿瘤" in web.page("/patients/conditions")


@pytest.mark.parametrize("role", [Role.PATIENT, Role.PHARMACIST, Role.COURIER])
def test_only_verified_doctors_and_admins_open_the_verification_queue(db, person, role):
    make_condition(factories.make_patient())
    web, _user = person(role)
    assert web.get("/patients/conditions/review").status_code == 403


def test_an_unverified_doctor_is_refused_the_queue(db, person):
    doctor = factories.make_user(Role.DOCTOR)
    doctor.doctor_profile.is_verified = False
    web, _ = person(doctor)
    condition = make_condition(factories.make_patient())
    assert web.get("/patients/conditions/review").status_code == 403
    assert web.get(f"/patients/conditions/{condition.id}/review").status_code == 403
    assert web.get(f"/patients/uploads/{condition.proof_upload_id}").status_code == 404


@pytest.mark.parametrize("role", [Role.DOCTOR, Role.ADMIN])
def test_staff_verify_a_condition_from_the_queue_and_the_patient_sees_it(db, person, role):
    patient = factories.make_patient(locale="zh")
    condition = make_condition(patient, code="C22.0", data=PNG, name="discharge.png")
    web, reviewer = person(role)
    queue = web.page("/patients/conditions/review")
    assert "C22.0 · Liver cell carcinoma" in queue
    assert "Wang Fang" not in queue  # names only on the page of the one being checked
    page = web.page(f"/patients/conditions/{condition.id}/review")
    assert "Wang Fang" in page and "1970-03-14" in page
    # Only an admin sees the whole ID number; a doctor sees it masked.
    assert ("11010519491231002X" in page) is (role == Role.ADMIN)
    assert ("110***********002X" in page) is (role == Role.DOCTOR)
    assert f'src="/patients/uploads/{condition.proof_upload_id}"' in page
    proof = web.get(f"/patients/uploads/{condition.proof_upload_id}")
    assert proof.status_code == 200 and proof.get_data() == PNG

    response = web.post(f"/patients/conditions/{condition.id}/review", {"verify": "y", "note": ""},
                        follow=True)
    assert "The condition is verified." in text(response)
    db.session.expire_all()
    condition = db.session.get(Condition, condition.id)
    assert (condition.status, condition.reviewed_by_id) == (ConditionStatus.VERIFIED, reviewer.id)
    assert condition.reviewed_at is not None
    assert "No conditions are waiting for verification." in web.page("/patients/conditions/review")
    [verified] = audit(db, "condition.verified")
    assert (verified.actor_id, verified.patient_id) == (reviewer.id, patient.id)
    assert {e.patient_id for e in audit(db, "condition.review_opened")} == {patient.id}
    assert [e.patient_id for e in audit(db, "condition.review_listed")] == [patient.id]

    patient_web, _ = person(patient, language="zh-CN")
    assert "已核验" in patient_web.page("/patients/conditions")


def test_rejecting_needs_a_note_which_the_patient_then_reads(db, person):
    patient = factories.make_patient()
    condition = make_condition(patient)
    web, _doctor = person(Role.DOCTOR)
    page = text(web.post(f"/patients/conditions/{condition.id}/review", {"reject": "y", "note": ""}))
    assert "Give the reason for rejecting, so the patient can act on it." in page
    assert rows(db, Condition)[0].status == ConditionStatus.PENDING

    web.post(f"/patients/conditions/{condition.id}/review",
             {"reject": "y", "note": "The record does not show the diagnosis."})
    [condition] = rows(db, Condition)
    assert condition.status == ConditionStatus.REJECTED
    assert condition.review_note == "The record does not show the diagnosis."
    assert len(audit(db, "condition.rejected")) == 1
    patient_web, _ = person(patient)
    page = patient_web.page("/patients/conditions")
    assert "Rejected" in page and "Reason: The record does not show the diagnosis." in page

    # A second decision on the same condition changes nothing.
    second, _ = person(Role.ADMIN)
    page = text(second.post(f"/patients/conditions/{condition.id}/review", {"verify": "y"}, follow=True))
    assert "This condition has already been reviewed." in page
    assert rows(db, Condition)[0].status == ConditionStatus.REJECTED


def test_a_doctor_loses_sight_of_a_proof_once_it_is_decided(db, person):
    condition = make_condition(factories.make_patient())
    web, _doctor = person(Role.DOCTOR)
    web.post(f"/patients/conditions/{condition.id}/review", {"verify": "y"})
    assert web.get(f"/patients/uploads/{condition.proof_upload_id}").status_code == 404
    assert web.get(f"/patients/conditions/{condition.id}/review").status_code == 404
    admin, _ = person(Role.ADMIN)
    assert admin.get(f"/patients/uploads/{condition.proof_upload_id}").status_code == 200


def test_another_patient_gets_404_for_my_proof_and_never_sees_my_conditions(db, person):
    patient = factories.make_patient()
    condition = make_condition(patient, code="B24")
    other, _ = person("patient")
    missing = other.get("/patients/uploads/999999")
    forbidden = other.get(f"/patients/uploads/{condition.proof_upload_id}")
    assert forbidden.status_code == missing.status_code == 404
    assert "Shanghai Ruijin Hospital" not in other.page("/patients/conditions")
    pharmacist, _ = person(Role.PHARMACIST)
    assert pharmacist.get(f"/patients/uploads/{condition.proof_upload_id}").status_code == 404
    assert audit(db, "upload.downloaded") == []


def test_a_pdf_is_downloaded_as_an_attachment_and_every_download_is_audited(db, person):
    patient = factories.make_patient()
    condition = make_condition(patient, data=PDF, name="出院记录.pdf")
    web, _ = person(patient)
    response = web.get(f"/patients/uploads/{condition.proof_upload_id}")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response.headers["Cache-Control"]
    assert response.get_data() == PDF
    web.get(f"/patients/uploads/{condition.proof_upload_id}")
    downloads = audit(db, "upload.downloaded")
    assert [(e.patient_id, e.actor_id, e.object_id) for e in downloads] == [
        (patient.id, patient.id, str(condition.proof_upload_id))] * 2


def test_an_admin_sees_the_whole_record_with_the_id_number(db, person):
    patient = factories.make_patient()
    make_condition(patient, code="M05.9")
    web, _ = person(Role.ADMIN)
    page = web.page(f"/admin/users/{patient.id}")
    assert "11010519491231002X" in page and "M05.9" in page and "Pending verification" in page
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "patient.account.viewed", AuditEvent.patient_id == patient.id)) == 1


@pytest.mark.parametrize("language", ["en", "zh"])
def test_record_pages_have_no_inline_script_or_style_in_either_language(db, person, language):
    patient = factories.make_patient(locale=language)
    condition = make_condition(patient, data=PNG, name="scan.png")
    patient_web, _ = person(patient)
    patient_web.post("/patients/addresses", {"recipient": "Wang Fang", "phone": "13800138000",
                                             "province": "Shanghai", "city": "Shanghai",
                                             "street": "1 Road"})
    patient_web.post("/patients/consents/grant", {"kind": "sms_reminders"})
    patient_web.post("/patients/allergies", {"kind": "class", "allergy_class": "statins", "severity": "mild"})
    doctor_web, _ = person(Role.DOCTOR, locale=language)
    pages = [(patient_web, "/patients/profile"), (patient_web, "/patients/allergies"),
             (patient_web, "/patients/conditions"), (doctor_web, "/patients/conditions/review"),
             (doctor_web, f"/patients/conditions/{condition.id}/review")]
    html_lang = {"en": '<html lang="en">', "zh": '<html lang="zh-Hans-CN">'}[language]
    for web, url in pages:
        html = web.page(url)
        checked = page_audit(html)
        assert not checked.problems, (url, checked.problems)
        assert checked.scripts and checked.stylesheets, url
        assert html_lang in html, url


def test_if_saving_fails_at_the_last_moment_the_uploaded_file_is_not_left_behind(
        db, patient_with_profile, upload_files, monkeypatch):
    web, _patient = patient_with_profile()
    before = upload_files()

    def commit_fails(_session):
        raise RuntimeError("database went away")

    monkeypatch.setattr(type(db.session), "commit", commit_fails)
    response = post_condition(web)
    monkeypatch.undo()
    assert response.status_code == 500 and "Nothing was saved." in text(response)
    assert upload_files() == before
    assert rows(db, Condition) == [] and rows(db, Upload) == []
