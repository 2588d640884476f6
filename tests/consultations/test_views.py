"""Consultation pages as patients and doctors meet them: booking, the queue, the record, messages,
note and completion, rating, object access on every route, audit rows and Chinese messages."""

import re
from datetime import timedelta
from io import BytesIO
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app import create_app
from app.accounts.models import Role
from app.audit.models import AuditEvent
from app.consultations import services as consultations
from app.consultations.models import Consultation, ConsultationAttachment, ConsultationMessage
from app.consultations.states import ConsultationStatus
from app.database import utcnow
from app.patients.models import Allergy, AllergyKind, ConditionStatus, PatientProfile, Severity, Sex, Upload
from tests import factories
from tests.consultations.conftest import PDF, PNG
from tests.test_security import audit

S = ConsultationStatus
SCRIPT = '<script>alert("x")</script>'


def text(response) -> str:
    return response.get_data(as_text=True)


def count(db, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def booking(condition, doctor, **fields) -> dict:
    data = {"condition_id": str(condition.id), "doctor_id": str(doctor.id),
            "reason": "My morning blood sugar is above 8."}
    data.update(fields)
    return data


# ---- booking ---------------------------------------------------------------------------------------

def test_the_booking_page_lists_verified_doctors_with_fee_and_queue_by_department(db, flow, as_user):
    patient = factories.make_patient()
    flow.condition(patient)
    cardio = flow.doctor(department="Cardiology", fee_fen=3000, display_name="Dr. Heart")
    endo = flow.doctor(department="Endocrinology", fee_fen=12345, display_name="Dr. Sugar")
    hidden = flow.doctor(department="Endocrinology", display_name="Dr. Unverified")
    hidden.doctor_profile.is_verified = False
    flow.paid(doctor=endo)
    browser = as_user(patient)

    page = text(browser.get("/consultations/new"))
    assert "Dr. Heart" in page and "Dr. Sugar" in page and "Dr. Unverified" not in page
    assert "¥30.00" in page and "¥123.45" in page
    assert re.search(r"Dr\. Sugar.*?1 patient waiting", page, re.S)
    assert re.search(r"Dr\. Heart.*?0 patients waiting", page, re.S)

    filtered = text(browser.get("/consultations/new?department=Endocrinology"))
    assert "Dr. Sugar" in filtered and "Dr. Heart" not in filtered
    assert cardio  # listed above


def test_booking_with_an_attachment_leads_to_payment(db, flow, as_user):
    condition = flow.condition()
    doctor = flow.doctor()
    response = as_user(condition.patient).post(
        "/consultations/new", content_type="multipart/form-data",
        data=booking(condition, doctor, attachments=[(BytesIO(PNG), "glucose.png")]))
    assert response.status_code == 303
    consultation = db.session.scalar(select(Consultation))
    assert response.location.endswith(f"/consultations/{consultation.id}/pay")
    assert consultation.status == S.AWAITING_PAYMENT and consultation.doctor_id == doctor.id
    [attachment] = db.session.scalars(select(ConsultationAttachment)).all()
    assert attachment.upload.content_type == "image/png" and attachment.upload.original_name == "glucose.png"


NOT_VERIFIED = "Online consultations are only for a condition whose diagnosis staff have verified."


@pytest.mark.parametrize("status", [ConditionStatus.PENDING, ConditionStatus.REJECTED])
def test_booking_an_unverified_condition_is_refused_on_the_form(db, flow, as_user, status):
    patient = factories.make_patient()
    flow.condition(patient)  # one verified, so the form is shown
    unverified = flow.condition(patient, status=status)
    response = as_user(patient).post("/consultations/new", data=booking(unverified, flow.doctor()))
    assert response.status_code == 200
    assert NOT_VERIFIED in text(response)
    assert count(db, Consultation) == 0


def test_booking_someone_elses_condition_is_refused_in_chinese_too(db, flow, as_user):
    other = flow.condition()
    patient = factories.make_patient(locale="zh")
    response = as_user(patient).post("/consultations/new", data=booking(other, flow.doctor()))
    assert response.status_code == 200
    assert "请选择您本人的疾病。" in text(response)
    assert count(db, Consultation) == 0


@pytest.mark.parametrize(("data", "name", "message"), [
    (b"MZ\x90\x00 not really a pdf", "report.pdf", "Only PDF, JPEG and PNG files are accepted."),
    (b"%PDF-" + b"0" * (10 * 1024 * 1024), "huge.pdf", "The file is larger than 10 MB."),
])
def test_a_bad_attachment_keeps_nothing_of_the_booking(app, db, flow, as_user, data, name, message):
    condition, doctor = flow.condition(), flow.doctor()
    browser = as_user(condition.patient)
    uploads_before = count(db, Upload)
    files_before = stored_files(app)
    response = browser.post(
        "/consultations/new", content_type="multipart/form-data",
        data=booking(condition, doctor, attachments=[(BytesIO(PDF), "fine.pdf"), (BytesIO(data), name)]))
    assert response.status_code == 200
    assert message in text(response)
    assert count(db, Consultation) == 0
    assert count(db, Upload) == uploads_before
    assert stored_files(app) == files_before  # the first, good file was not left behind either


def stored_files(app) -> set[Path]:
    return {path for path in Path(app.config["UPLOAD_FOLDER"]).rglob("*") if path.is_file()}


def test_a_patient_without_a_verified_condition_is_told_what_to_do(db, flow, as_user):
    patient = factories.make_patient()
    flow.condition(patient, status=ConditionStatus.PENDING)
    assert "You have no verified condition yet." in text(as_user(patient).get("/consultations/new"))


def test_the_patient_lists_only_their_own_consultations(db, flow, as_user):
    mine = flow.book(reason="mine")
    flow.book()  # someone else's
    page = text(as_user(mine.patient).get("/consultations/"))
    assert page.count("/consultations/") >= 1
    assert f'href="/consultations/{mine.id}"' in page
    assert len(re.findall(r'href="/consultations/\d+"', page)) == 1


# ---- doctor -----------------------------------------------------------------------------------------

def test_the_queue_shows_this_doctors_paid_patients_longest_waiting_first(db, flow, as_user):
    doctor = flow.doctor()
    newer, older = flow.paid(doctor=doctor), flow.paid(doctor=doctor)
    newer.paid_at = utcnow() - timedelta(minutes=10)
    older.paid_at = utcnow() - timedelta(hours=3)
    flow.book(doctor=doctor)  # unpaid: not in the queue
    flow.paid()  # another doctor's
    page = text(as_user(doctor).get("/consultations/queue"))
    ids = [int(i) for i in re.findall(r'queue-item" data-consultation-id="(\d+)"', page)]
    assert ids == [older.id, newer.id]
    assert "Waiting 3 hours" in page and "Waiting 10 minutes" in page


def test_the_doctor_sees_the_whole_record_and_can_open_the_proof(db, flow, as_user):
    patient = factories.make_patient()
    db.session.add(PatientProfile(user_id=patient.id, legal_name="Li Si", sex=Sex.FEMALE,
                                  date_of_birth=utcnow().date().replace(year=1970)))
    db.session.add(Allergy(patient_id=patient.id, kind=AllergyKind.DRUG, substance="Penicillin",
                           reaction="Rash", severity=Severity.SEVERE))
    condition = flow.condition(patient, name="Essential hypertension", icd10_code="I10")
    pending = flow.condition(patient, name="Gout pending review", status=ConditionStatus.PENDING)
    doctor = flow.doctor()
    earlier = flow.accepted(patient=patient, doctor=flow.doctor(), condition=condition)
    consultations.save_note(earlier, earlier.doctor, complaint="Headache", findings="BP 150/95",
                            assessment="Uncontrolled hypertension", plan="Add amlodipine")
    consultations.complete(earlier, earlier.doctor)
    db.session.commit()
    current = flow.paid(patient=patient, doctor=doctor, condition=condition)

    browser = as_user(doctor)
    page = text(browser.get(f"/consultations/{current.id}"))
    assert "Li Si" in page and "Penicillin" in page and "Essential (primary) hypertension" in page
    assert "Gout pending review" not in page
    assert "Uncontrolled hypertension" in page  # the earlier consultation's assessment
    assert f'href="/patients/uploads/{condition.proof_upload_id}"' in page
    assert pending.proof_upload_id
    proof = browser.get(f"/patients/uploads/{condition.proof_upload_id}")
    assert proof.status_code == 200 and proof.data == PDF


def test_a_waiting_consultation_is_invisible_to_its_doctor_until_paid(db, flow, as_user):
    consultation = flow.book()
    assert as_user(consultation.doctor).get(f"/consultations/{consultation.id}").status_code == 404


def test_a_lapsed_booking_can_no_longer_be_paid(db, flow, as_user):
    consultation = flow.book()
    consultations.expire_due(10)  # not due yet: nothing happens
    consultation.expires_at = utcnow() - timedelta(seconds=1)
    consultations.expire_due(10)
    db.session.commit()
    patient = as_user(consultation.patient)
    response = patient.post(f"/consultations/{consultation.id}/pay",
                            data={"method_type": "card", "test_card": "pm_card_visa"}, follow_redirects=True)
    assert "This consultation can no longer be paid." in text(response)
    assert "This consultation was not paid in time and has lapsed." in text(response)


def test_note_then_complete_and_the_patient_sees_the_plan_then_rates_once(db, flow, as_user):
    consultation = flow.accepted()
    doctor, patient = as_user(consultation.doctor), as_user(consultation.patient)
    url = f"/consultations/{consultation.id}"
    early = doctor.post(f"{url}/complete", follow_redirects=True)
    assert "Write the note" in text(early)
    assert db.session.get(Consultation, consultation.id).status == S.IN_PROGRESS

    incomplete = doctor.post(f"{url}/note", data={"complaint": "Thirst", "findings": "", "assessment": "",
                                                  "plan": ""})
    assert incomplete.status_code == 400 and "This field is required." in text(incomplete)
    note = {"complaint": "Thirst", "findings": "HbA1c 7.1%", "assessment": "Fairly controlled",
            "plan": "Continue metformin 500 mg BID"}
    assert "Note saved." in text(doctor.post(f"{url}/note", data=note, follow_redirects=True))
    assert "Consultation completed." in text(doctor.post(f"{url}/complete", follow_redirects=True))

    page = text(patient.get(url))
    assert "Continue metformin 500 mg BID" in page and "Rate this consultation" in page
    bad = patient.post(f"{url}/rate", data={"rating": "9"}, follow_redirects=True)
    assert "Choose 1 to 5 stars." in text(bad)
    assert db.session.get(Consultation, consultation.id).rating is None
    assert "Thank you for your rating." in text(patient.post(f"{url}/rate", data={"rating": "5"},
                                                             follow_redirects=True))
    again = patient.post(f"{url}/rate", data={"rating": "1"}, follow_redirects=True)
    assert "You have already rated this consultation." in text(again)
    assert db.session.get(Consultation, consultation.id).rating == 5


# ---- messages ----------------------------------------------------------------------------------------

def test_a_script_in_a_message_is_shown_as_text(db, flow, as_user):
    consultation = flow.accepted()
    patient = as_user(consultation.patient)
    url = f"/consultations/{consultation.id}"
    assert patient.post(f"{url}/messages", data={"body": SCRIPT}).status_code == 303
    for viewer in (patient, as_user(consultation.doctor)):
        page = text(viewer.get(url))
        assert SCRIPT not in page
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
        assert not audit(page).problems
    [message] = viewer.get(f"{url}/messages?after=0").get_json()["messages"]
    assert message["body"] == SCRIPT  # raw in JSON; the script sets it with textContent


def test_polling_returns_only_newer_messages_and_only_to_the_two_participants(db, flow, as_user):
    consultation = flow.accepted()
    patient, doctor = as_user(consultation.patient), as_user(consultation.doctor)
    url = f"/consultations/{consultation.id}"
    patient.post(f"{url}/messages", data={"body": "First"})
    doctor.post(f"{url}/messages", content_type="multipart/form-data",
                data={"body": "See the attached leaflet", "attachment": (BytesIO(PDF), "leaflet.pdf")})
    first, second = db.session.scalars(select(ConsultationMessage).order_by(ConsultationMessage.id)).all()

    everything = patient.get(f"{url}/messages?after=0").get_json()
    assert [m["body"] for m in everything["messages"]] == ["First", "See the attached leaflet"]
    assert [m["mine"] for m in everything["messages"]] == [True, False]
    assert everything["messages"][1]["attachment"]["url"] == f"/patients/uploads/{second.upload_id}"
    newer = doctor.get(f"{url}/messages?after={first.id}").get_json()
    assert [m["id"] for m in newer["messages"]] == [second.id]
    assert doctor.get(f"{url}/messages?after={second.id}").get_json()["messages"] == []
    assert patient.get(f"/patients/uploads/{second.upload_id}").status_code == 200

    for outsider in (factories.make_patient(), factories.make_user(Role.DOCTOR)):
        response = as_user(outsider).get(f"{url}/messages?after=0", headers={"Accept": "application/json"})
        assert response.status_code == 404
        assert "First" not in text(response)


def test_a_message_to_a_closed_consultation_is_refused_clearly(db, flow, as_user):
    consultation = flow.accepted()
    consultations.refer(consultation, consultation.doctor, "Needs an examination")
    db.session.commit()
    response = as_user(consultation.patient).post(f"/consultations/{consultation.id}/messages",
                                                  data={"body": "Are you there?"})
    assert response.status_code == 400
    assert "This consultation is closed; messages can no longer be sent." in text(response)
    assert count(db, ConsultationMessage) == 0


def test_a_message_before_acceptance_and_a_bad_attachment_are_refused(db, flow, as_user):
    waiting = flow.paid()
    response = as_user(waiting.patient).post(f"/consultations/{waiting.id}/messages", data={"body": "Hi"})
    assert response.status_code == 400 and "messages can no longer be sent" in text(response)
    consultation = flow.accepted()
    disguised = as_user(consultation.patient).post(
        f"/consultations/{consultation.id}/messages", content_type="multipart/form-data",
        data={"body": "photo", "attachment": (BytesIO(b"GIF89a fake"), "photo.png")})
    assert disguised.status_code == 400
    assert "Only PDF, JPEG and PNG files are accepted." in text(disguised)
    assert count(db, ConsultationMessage) == 0


def test_the_in_progress_page_polls_messages_and_a_waiting_one_polls_the_status(db, flow, as_user):
    waiting = flow.paid()
    page = text(as_user(waiting.patient).get(f"/consultations/{waiting.id}"))
    assert 'data-mode="status"' in page and "js/consultation.js" in page
    consultation = flow.accepted()
    page = text(as_user(consultation.patient).get(f"/consultations/{consultation.id}"))
    assert 'data-mode="messages"' in page and 'data-state="in_progress/captured/"' in page


# ---- access, audit, pages -----------------------------------------------------------------------------

def consultation_routes() -> list[tuple[str, str, str]]:
    """(endpoint, rule, method) for every route that takes a consultation or upload id."""
    app = create_app("testing")
    routes = []
    for rule in app.url_map.iter_rules():
        if "consultation_id" in rule.arguments or rule.endpoint == "patients.upload":
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                routes.append((rule.endpoint, rule.rule, method))
    return sorted(routes)


ROUTES = consultation_routes()


def test_the_route_walk_found_the_consultation_routes():
    endpoints = {endpoint for endpoint, _, _ in ROUTES}
    assert {"consultations.detail", "consultations.pay", "consultations.cancel", "consultations.accept",
            "consultations.messages", "consultations.status", "consultations.post_message",
            "consultations.refer", "patients.upload"} <= endpoints


@pytest.mark.parametrize(("endpoint", "rule", "method"), ROUTES, ids=[f"{m} {e}" for e, _, m in ROUTES])
def test_another_patient_and_an_unrelated_doctor_are_refused_on_every_route(
        db, flow, as_user, endpoint, rule, method):
    consultation = flow.accepted(files=[])
    attachment = consultations.post_message(consultation, consultation.patient, "x",
                                            _file(PNG, "photo.png"))
    db.session.commit()
    path = rule.replace("<int:consultation_id>", str(consultation.id)).replace(
        "<int:upload_id>", str(attachment.upload_id))
    before = db.session.get(Consultation, consultation.id).status
    for outsider in (factories.make_patient(), factories.make_user(Role.DOCTOR)):
        response = as_user(outsider).open(path, method=method,
                                          data={"reason": "x", "body": "x", "rating": "5"})
        assert response.status_code in (403, 404), (outsider.role, path, response.status_code)
    assert db.session.get(Consultation, consultation.id).status == before
    assert count(db, ConsultationMessage) == 1
    if method == "GET":  # a positive control: the patient of the consultation does get through
        owner = as_user(consultation.patient).get(path)
        assert owner.status_code in (200, 303), (path, owner.status_code)


def _file(data: bytes, name: str):
    from tests.consultations.conftest import upload_file

    return upload_file(data, name)


def test_opening_a_consultation_is_audited_with_the_patient(db, flow, as_user):
    consultation = flow.paid()
    as_user(consultation.doctor).get(f"/consultations/{consultation.id}")
    row = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "consultation.viewed")
                            .order_by(AuditEvent.id.desc()))
    assert (row.patient_id, row.actor_id, row.object_id) == (
        consultation.patient_id, consultation.doctor_id, str(consultation.id))


@pytest.mark.parametrize("language", ["en", "zh"])
def test_consultation_pages_have_no_inline_script_and_speak_the_users_language(db, flow, as_user, language):
    consultation = flow.accepted()
    consultation.patient.locale = language
    consultation.doctor.locale = language
    waiting = flow.paid(doctor=consultation.doctor)
    pages = {consultation.patient: ["/consultations/", "/consultations/new",
                                    f"/consultations/{consultation.id}"],
             consultation.doctor: ["/consultations/queue", f"/consultations/{consultation.id}",
                                   f"/consultations/{waiting.id}"]}
    unpaid = flow.book(patient=consultation.patient, condition=consultation.condition)
    pages[consultation.patient].append(f"/consultations/{unpaid.id}/pay")
    html_lang = {"en": '<html lang="en">', "zh": '<html lang="zh-Hans-CN">'}[language]
    for user, paths in pages.items():
        browser = as_user(user)
        for path in paths:
            response = browser.get(path)
            assert response.status_code == 200, path
            page = text(response)
            assert html_lang in page, path
            assert not audit(page).problems, (path, audit(page).problems)
            if language == "zh":
                assert "Consultation" not in re.sub(r"<[^>]+>", "", page), path


def test_a_chinese_reader_sees_the_condition_named_in_chinese(db, flow, as_user):
    patient = factories.make_patient(locale="zh")
    condition = flow.condition(patient, icd10_code="I10", name="Essential hypertension")
    consultation = flow.paid(condition=condition)
    page = as_user(patient).get(f"/consultations/{consultation.id}").get_data(as_text=True)
    assert "原发性高血压" in page
    assert "Essential hypertension" not in page
