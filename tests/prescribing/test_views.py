"""Prescription pages as the doctor and the patient meet them: draft, search, sig, supply, sign, extend,
revise, the patient's directions and confirmation, refusals that write nothing, audit rows."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.extensions import db as _db
from app.patients.models import Allergy, AllergyKind, Severity
from app.prescribing import services as rx
from app.prescribing.models import Prescription, PrescriptionItem
from app.prescribing.states import PrescriptionStatus
from tests import factories
from tests.consultations.conftest import as_user  # noqa: F401  (fixture)
from tests.prescribing.conftest import item, sign_and_submit

S = PrescriptionStatus


def text(response) -> str:
    return response.get_data(as_text=True)


def lines(db) -> int:
    return db.session.scalar(select(func.count()).select_from(PrescriptionItem))


def amlodipine(visit, **sig) -> dict:
    data = {"drug_id": str(visit.drugs["AMLODIPINE-5MG-TAB"].id), "dose": "5", "dose_unit": "mg",
            "frequency": "QD", "duration_days": "7", "times_of_day": "08:00", "route": "",
            "instructions": "", "query": ""}
    data.update(sig)
    return data


@pytest.fixture
def doctor_browser(visit, as_user):  # noqa: F811
    return as_user(visit.doctor)


@pytest.fixture
def patient_browser(visit, as_user):  # noqa: F811
    return as_user(visit.patient)


def test_the_doctor_starts_a_prescription_from_the_consultation_page(db, visit, doctor_browser):
    page = text(doctor_browser.get(f"/consultations/{visit.consultation.id}"))
    assert 'id="start-prescription"' in page and visit.condition.icd10_code in page
    response = doctor_browser.post(f"/prescriptions/start/{visit.consultation.id}",
                                   data={"condition_id": str(visit.condition.id)})
    assert response.status_code == 303
    prescription = db.session.scalar(select(Prescription))
    assert response.location.endswith(f"/prescriptions/{prescription.id}#add-item")
    assert (prescription.status, prescription.patient_id) == (S.DRAFT, visit.patient.id)
    draft_page = text(doctor_browser.get(f"/prescriptions/{prescription.id}"))
    assert 'id="item-form"' in draft_page and 'id="sign-submit"' in draft_page


def test_a_diagnosis_the_patient_does_not_have_is_refused_on_the_page(db, visit, doctor_browser):
    other = visit.flow.condition()  # another patient's verified diagnosis
    response = doctor_browser.post(f"/prescriptions/start/{visit.consultation.id}",
                                   data={"condition_id": str(other.id)}, follow_redirects=True)
    assert "Choose a diagnosis the patient has on file." in text(response)
    assert db.session.scalar(select(func.count()).select_from(Prescription)) == 0


def test_the_allergies_are_in_view_while_prescribing(db, visit, draft, doctor_browser):
    db.session.add(Allergy(patient_id=visit.patient.id, kind=AllergyKind.CLASS, substance="penicillins",
                           reaction="hives", severity=Severity.SEVERE))
    db.session.commit()
    page = text(doctor_browser.get(f"/prescriptions/{draft.id}"))
    assert re.search(r'id="draft-allergies".*Penicillins \(hives\)', page, re.S)
    visit.doctor.locale = "zh"  # the class by its name in the doctor's language, not its code
    db.session.commit()
    page = text(doctor_browser.get(f"/prescriptions/{draft.id}"))
    assert re.search(r'id="draft-allergies".*青霉素类 \(hives\)', page, re.S)


def test_searching_without_script_lists_matching_drugs_to_choose(visit, draft, doctor_browser):
    response = doctor_browser.post(f"/prescriptions/{draft.id}/items",
                                   data={"query": "氨氯地平", "search": "Search", "dose": "",
                                         "duration_days": ""})
    page = text(response)
    assert response.status_code == 200
    assert f'value="{visit.drugs["AMLODIPINE-5MG-TAB"].id}"' in page
    assert "Amlodipine 5 mg" in page and "Maximum daily dose" in page
    assert "Enter the dose." not in page  # searching is not submitting


def test_adding_a_line_shows_directions_packs_and_days_supply(db, visit, draft, doctor_browser):
    response = doctor_browser.post(f"/prescriptions/{draft.id}/items", data=amlodipine(visit))
    assert response.status_code == 303 and response.location.endswith("#items")
    page = text(doctor_browser.get(f"/prescriptions/{draft.id}"))
    assert "Take 5 mg (1 tablet) by mouth, once a day at 08:00, for 7 days." in page
    assert "1 pack of 28 tablets, enough for 28 days" in page
    assert "5 mg QD ×7d" in page


@pytest.mark.parametrize(("change", "field_message"), [
    ({"dose": "five"}, "Enter the dose as a number."),
    ({"duration_days": "8"}, "At most 7 days unless the diagnosis is chronic and you state why."),
    ({"times_of_day": "8 o'clock"}, "Write times as HH:MM, separated by commas."),
    ({"frequency": "PRN"}, "As-needed dosing needs a maximum number of doses a day."),
    ({"drug_id": ""}, "Choose a drug from the catalogue."),
    ({"dose_unit": "mL"}, "This dose unit does not fit the drug"),
])
def test_a_bad_line_is_refused_with_a_message_and_nothing_is_added(db, visit, draft, doctor_browser, change,
                                                                   field_message):
    response = doctor_browser.post(f"/prescriptions/{draft.id}/items", data=amlodipine(visit, **change))
    assert response.status_code == 400
    assert field_message in text(response).replace("&#39;", "'")
    assert lines(db) == 0


def test_a_drug_not_for_online_prescribing_is_refused_on_the_page(db, visit, draft, doctor_browser):
    data = amlodipine(visit, drug_id=str(visit.drugs["OXYCODONE-10MG-SRTAB"].id), dose="10")
    response = doctor_browser.post(f"/prescriptions/{draft.id}/items", data=data)
    assert response.status_code == 400
    assert "Oxycodone cannot be prescribed online; the patient needs an in-person visit." in text(response)
    assert lines(db) == 0


def test_the_preview_computes_packs_and_days_supply_as_the_doctor_types(visit, doctor_browser):
    insulin = visit.drugs["INSULIN-GLARGINE-300IU-PEN"]
    answer = doctor_browser.get("/prescriptions/quantity.json", query_string={
        "drug_id": insulin.id, "dose": "20", "dose_unit": "IU", "frequency": "QD",
        "duration_days": "28"}).json
    assert (answer["packs"], answer["days_supply"]) == (2, 30)
    assert answer["text"] == "2 packs of 1 pen, enough for 30 days"
    refused = doctor_browser.get("/prescriptions/quantity.json", query_string={
        "drug_id": insulin.id, "dose": "2", "dose_unit": "tablet", "frequency": "QD",
        "duration_days": "7"}).json
    assert refused["text"] is None and "does not fit" in refused["error"]


def test_supply_for_a_chronic_condition_needs_a_reason_on_the_page(db, visit, draft, doctor_browser):
    response = doctor_browser.post(f"/prescriptions/{draft.id}/supply", data={"supply_category": "chronic"})
    assert response.status_code == 400
    assert "State why this chronic condition needs more than 7 days." in text(response)
    response = doctor_browser.post(f"/prescriptions/{draft.id}/supply", data={
        "supply_category": "chronic", "chronic_reason": "Stable on this dose for a year."})
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(Prescription, draft.id).supply_category == "chronic"


def test_signing_needs_the_doctors_password_and_a_wrong_one_is_audited(db, visit, draft, doctor_browser):
    item(draft, visit.doctor, visit.drugs)
    db.session.commit()
    response = doctor_browser.post(f"/prescriptions/{draft.id}/sign", data={"password": "not-my-password"})
    assert response.status_code == 400
    assert "The password is not right; the prescription was not signed." in text(response)
    db.session.expire_all()
    assert db.session.get(Prescription, draft.id).status == S.DRAFT
    refused = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "prescription.sign_refused")).all()
    assert len(refused) == 1 and refused[0].patient_id == visit.patient.id

    response = doctor_browser.post(f"/prescriptions/{draft.id}/sign", data={"password": factories.PASSWORD},
                                   follow_redirects=True)
    page = text(response)
    assert "Prescription signed and sent for pharmacist review." in page
    assert "Awaiting pharmacist review" in page and 'id="signature-verified"' in page
    db.session.expire_all()
    signed = db.session.get(Prescription, draft.id)
    assert signed.status == S.AWAITING_REVIEW and signed.content_sha256 in page


def _signed(visit, draft):
    item(draft, visit.doctor, visit.drugs)
    sign_and_submit(draft, visit.doctor, factories.PASSWORD)
    _db.session.commit()
    return draft


def test_the_doctor_extends_validity_to_at_most_three_days(db, visit, draft, doctor_browser):
    signed = _signed(visit, draft)
    first_day = signed.valid_until
    page = text(doctor_browser.get(f"/prescriptions/{signed.id}"))
    offered = re.findall(r'<option value="(\d{4}-\d\d-\d\d)"', page)
    assert offered == [(first_day + timedelta(days=n)).isoformat() for n in (1, 2)]
    too_far = (first_day + timedelta(days=3)).isoformat()
    response = doctor_browser.post(f"/prescriptions/{signed.id}/extend", data={"valid_until": too_far})
    assert response.status_code == 400
    response = doctor_browser.post(f"/prescriptions/{signed.id}/extend",
                                   data={"valid_until": offered[-1]}, follow_redirects=True)
    assert "Validity extended." in text(response)
    db.session.expire_all()
    assert db.session.get(Prescription, signed.id).valid_until == first_day + timedelta(days=2)


def test_revising_makes_a_new_version_that_replaces_the_old_one_when_signed(db, visit, draft, doctor_browser,
                                                                            patient_browser):
    signed = _signed(visit, draft)
    response = doctor_browser.post(f"/prescriptions/{signed.id}/revise")
    assert response.status_code == 303
    revised = db.session.scalar(select(Prescription).where(Prescription.previous_version_id == signed.id))
    assert revised.version == 2 and revised.status == S.DRAFT
    old_page = text(doctor_browser.get(f"/prescriptions/{signed.id}"))
    assert 'id="newer-version"' in old_page and 'id="revise-submit"' not in old_page

    doctor_browser.post(f"/prescriptions/{revised.id}/items/{revised.items[0].id}/remove")
    doctor_browser.post(f"/prescriptions/{revised.id}/items", data=amlodipine(visit, dose="10"))
    doctor_browser.post(f"/prescriptions/{revised.id}/sign", data={"password": factories.PASSWORD})
    db.session.expire_all()
    assert db.session.get(Prescription, signed.id).status == S.SUPERSEDED
    assert rx.verify_signature(db.session.get(Prescription, signed.id))
    mine = text(patient_browser.get("/prescriptions/"))
    assert f'data-prescription-id="{revised.id}"' in mine
    assert f'data-prescription-id="{signed.id}"' not in mine


def test_the_patient_reads_plain_directions_in_english_and_chinese(db, visit, draft, patient_browser):
    item(draft, visit.doctor, visit.drugs, times_of_day="08:00", instructions="Take in the morning.")
    item(draft, visit.doctor, visit.drugs, "SALBUTAMOL-100UG-INH", dose="2", dose_unit="dose",
         frequency="PRN", max_doses_per_day=4, duration_days=7)
    sign_and_submit(draft, visit.doctor, factories.PASSWORD)
    db.session.commit()
    page = text(patient_browser.get(f"/prescriptions/{draft.id}"))
    assert "Take 5 mg (1 tablet) by mouth, once a day at 08:00, for 7 days. Take in the morning." in page
    assert "Inhale 2 puffs, only when needed, at most 4 times a day, for 7 days." in page
    assert "SHA-256" not in page  # the signature block is for the doctor

    visit.patient.locale = "zh"
    db.session.commit()
    page = text(patient_browser.get(f"/prescriptions/{draft.id}"))
    assert "口服，每次5毫克（1片），每日一次，08:00，共7天。 Take in the morning." in page
    assert "吸入，每次2揿，仅在需要时使用，每日最多4次，共7天。" in page
    assert "待药师审核" in page


def test_a_normal_draft_is_not_shown_to_the_patient_but_a_long_one_is_for_confirmation(
        db, visit, draft, patient_browser, doctor_browser):
    item(draft, visit.doctor, visit.drugs)
    db.session.commit()
    assert patient_browser.get(f"/prescriptions/{draft.id}").status_code == 404
    assert f'data-prescription-id="{draft.id}"' not in text(patient_browser.get("/prescriptions/"))

    rx.set_supply(draft, visit.doctor, "long", assessment="BP controlled for 12 months; no side effects.")
    db.session.commit()
    consultation_page = text(patient_browser.get(f"/consultations/{visit.consultation.id}"))
    assert 'id="long-to-confirm"' in consultation_page
    page = text(patient_browser.get(f"/prescriptions/{draft.id}"))
    assert "Take 5 mg (1 tablet) by mouth" in page and 'id="confirm-submit"' in page
    signing = doctor_browser.post(f"/prescriptions/{draft.id}/sign", data={"password": factories.PASSWORD})
    assert "The patient has not yet confirmed the long prescription." in text(signing)

    response = patient_browser.post(f"/prescriptions/{draft.id}/confirm", follow_redirects=True)
    assert "Your doctor can now sign the long prescription." in text(response)
    signed = doctor_browser.post(f"/prescriptions/{draft.id}/sign", data={"password": factories.PASSWORD})
    assert signed.status_code == 303
    db.session.expire_all()
    assert db.session.get(Prescription, draft.id).status == S.AWAITING_REVIEW


def test_an_expired_prescription_says_so_and_offers_no_extension(db, visit, draft, doctor_browser,
                                                                patient_browser):
    signed = _signed(visit, draft)
    signed.valid_until -= timedelta(days=4)  # its last valid day is past (valid_until is not signed content)
    db.session.commit()
    page = text(doctor_browser.get(f"/prescriptions/{signed.id}"))
    assert "expired: it can no longer be reviewed, paid for or filled" in page
    assert 'id="extend"' not in page
    response = doctor_browser.post(f"/prescriptions/{signed.id}/extend",
                                   data={"valid_until": signed.valid_until.isoformat()})
    assert response.status_code == 400
    assert 'data-expired="1"' in text(patient_browser.get("/prescriptions/"))


def test_the_doctor_sees_prescriptions_in_the_patient_record(db, visit, draft, doctor_browser):
    _signed(visit, draft)
    page = text(doctor_browser.get(f"/consultations/{visit.consultation.id}"))
    record = page.split('id="record-prescriptions"')[1].split("</ul>\n")[0]
    assert "Amlodipine 5 mg" in record and "5 mg QD ×7d" in record


def test_every_prescription_page_writes_an_audit_row_for_the_patient(db, visit, draft, doctor_browser,
                                                                     patient_browser):
    _signed(visit, draft)
    before = db.session.scalar(select(func.count()).select_from(AuditEvent))
    doctor_browser.get(f"/prescriptions/{draft.id}")
    patient_browser.get(f"/prescriptions/{draft.id}")
    patient_browser.get("/prescriptions/")
    rows = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(3)).all()
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == before + 3
    assert {row.patient_id for row in rows} == {visit.patient.id}
    assert {row.action for row in rows} == {"prescription.viewed", "prescription.list_viewed"}


def test_the_patients_open_consultation_page_notices_a_newly_signed_prescription(db, visit, draft,
                                                                               patient_browser):
    status_url = f"/consultations/{visit.consultation.id}/status"
    before = patient_browser.get(status_url).json["state"]
    item(draft, visit.doctor, visit.drugs)
    db.session.commit()
    assert patient_browser.get(status_url).json["state"] == before  # a normal draft is the doctor's own
    sign_and_submit(draft, visit.doctor, factories.PASSWORD)
    db.session.commit()
    assert patient_browser.get(status_url).json["state"] != before  # so the page reloads and lists it
    page = text(patient_browser.get(f"/consultations/{visit.consultation.id}"))
    assert f'data-prescription-id="{draft.id}"' in page
