"""Finding 2: a file is shown to whoever may see the object it belongs to, and to nobody else.

A consultation's files follow the consultation (its patient, and its doctor from the queue on, unless
it ended before they accepted it); a proof of diagnosis follows the patient's record. Pharmacists review
prescriptions, not files: nothing they work on links to one.
"""

import pytest

from app.accounts.models import Role
from app.consultations import services as consultations
from app.database import utcnow
from app.policy import can_access_patient
from app.review import services as review
from tests import factories
from tests.consultations.conftest import PNG, as_user, flow, upload_file  # noqa: F401  (fixtures)
from tests.payments.conftest import deliver, stripe_client  # noqa: F401  (fixtures)
from tests.prescribing.conftest import catalogue_drugs, visit  # noqa: F401  (fixtures)
from tests.review.conftest import AMLODIPINE, pharmacists, sign  # noqa: F401  (fixtures)

SCAN = PNG + b"private-scan-bytes"


def files_of(consultation) -> dict[str, int]:
    """Every file a consultation's pages link to: its attachments, its thread, its condition's proof."""
    found = {f"attachment {a.upload_id}": a.upload_id for a in consultation.attachments}
    found.update({f"message {m.upload_id}": m.upload_id for m in consultation.messages if m.upload_id})
    found["proof"] = consultation.condition.proof_upload_id
    return found


def assert_no_file(web, upload_id: int, what: str) -> None:
    response = web.get(f"/patients/uploads/{upload_id}")
    assert response.status_code == 404, what
    assert b"private-scan-bytes" not in response.data and b"%PDF" not in response.data, what


def assert_refused(web, consultation) -> None:
    """No file, no consultation page, and nothing of the patient in what came back."""
    for what, upload_id in files_of(consultation).items():
        assert_no_file(web, upload_id, what)
    page = web.get(f"/consultations/{consultation.id}")
    assert page.status_code in (403, 404)
    assert consultation.patient.display_name not in page.get_data(as_text=True)


def assert_can_open(web, consultation) -> None:
    for what, upload_id in files_of(consultation).items():
        response = web.get(f"/patients/uploads/{upload_id}")
        assert response.status_code == 200, what
        if what != "proof":
            assert response.data == SCAN
    assert web.get(f"/consultations/{consultation.id}").status_code == 200


def test_finding_2_a_doctor_not_on_the_consultation_cannot_open_its_files(db, flow, as_user):  # noqa: F811
    earlier = flow.accepted()  # doctor B treated this patient before, so B may read the record
    patient, doctor_b = earlier.patient, earlier.doctor
    current = flow.accepted(patient=patient, condition=earlier.condition,
                            files=[upload_file(SCAN, "scan.png")])
    consultations.post_message(current, patient, "my readings", upload_file(SCAN, "bp.png"))
    db.session.commit()
    assert can_access_patient(doctor_b, patient.id)

    web_b = as_user(doctor_b)
    for what, upload_id in files_of(current).items():
        if what != "proof":  # the proof belongs to the record B treated: still B's to read
            assert_no_file(web_b, upload_id, what)
    assert web_b.get(f"/consultations/{current.id}").status_code == 404
    assert web_b.get(f"/patients/uploads/{current.condition.proof_upload_id}").status_code == 200

    # A doctor with no consultation with this patient sees nothing at all.
    assert_refused(as_user(factories.make_user(Role.DOCTOR)), current)
    # The consultation's own doctor, the patient and an admin still open every file.
    assert_can_open(as_user(current.doctor), current)
    assert_can_open(as_user(patient), current)
    admin = as_user(factories.make_user(Role.ADMIN))
    for upload_id in files_of(current).values():
        assert admin.get(f"/patients/uploads/{upload_id}").status_code == 200


def test_finding_2_a_pharmacist_of_another_store_cannot_open_the_patients_files(
        db, visit, sign, pharmacists, as_user):  # noqa: F811
    consultation = visit.consultation
    consultations.post_message(consultation, visit.patient, "my readings", upload_file(SCAN, "bp.png"))
    db.session.commit()
    prescription = sign(AMLODIPINE)  # waiting for review: the chain's pharmacists share the queue
    reviewer, elsewhere = pharmacists
    assert reviewer.pharmacist_profile.home_store_id != elsewhere.pharmacist_profile.home_store_id

    assert_refused(as_user(elsewhere), consultation)

    review.claim(prescription, reviewer)
    review.decide(prescription, reviewer, "approved")
    db.session.commit()
    # The reviewer keeps reading their decision with the patient's allergies and conditions; the
    # other pharmacist no longer sees the prescription; neither opens a file.
    reviewer_web, other_web = as_user(reviewer), as_user(elsewhere)
    assert reviewer_web.get(f"/reviews/{prescription.id}").status_code == 200
    assert other_web.get(f"/reviews/{prescription.id}").status_code == 404
    assert_refused(reviewer_web, consultation)
    assert_refused(other_web, consultation)


def _cancel(consultation, db) -> None:
    consultations.cancel(consultation, consultation.patient)
    db.session.commit()


def _expire(consultation, db) -> None:
    consultation.expires_at = utcnow()
    db.session.commit()
    assert consultations.expire_due(10) == 1
    db.session.commit()


@pytest.mark.parametrize("end", [_cancel, _expire], ids=["cancelled by the patient", "expired in the queue"])
def test_finding_2_the_doctor_of_a_consultation_that_ended_before_they_accepted_it_sees_nothing(
        db, flow, as_user, end):  # noqa: F811
    consultation = flow.paid(files=[upload_file(SCAN, "scan.png")])
    doctor, patient = consultation.doctor, consultation.patient
    assert_can_open(as_user(doctor), consultation)  # waiting in their queue: they may look first

    end(consultation, db)

    assert not can_access_patient(doctor, patient.id)
    assert_refused(as_user(doctor), consultation)
    assert_can_open(as_user(patient), consultation)


def test_a_doctor_keeps_seeing_what_they_declined_and_what_they_accepted(db, flow, as_user):  # noqa: F811
    declined = flow.paid(files=[upload_file(SCAN, "scan.png")])
    consultations.decline(declined, declined.doctor, "Please see a nephrologist in person.")
    accepted = flow.accepted(files=[upload_file(SCAN, "scan.png")])
    consultations.save_note(accepted, accepted.doctor, complaint="Dizzy", findings="BP 150/95",
                            assessment="Hypertension", plan="Continue amlodipine")
    consultations.complete(accepted, accepted.doctor)
    db.session.commit()
    for consultation in (declined, accepted):
        assert_can_open(as_user(consultation.doctor), consultation)
