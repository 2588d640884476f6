"""Finding 10 (bookings): at most CONSULTATION_MAX_UNPAID unpaid bookings per patient, and the files on
unpaid bookings count against a per-patient quota — checked at the limit, one below and one above."""

import pytest
from sqlalchemy import func, select

from app.consultations import services as consultations
from app.consultations.models import Consultation
from app.errors import DomainError
from app.patients.models import Upload, UploadPurpose
from app.patients.uploads import upload_root
from tests import factories
from tests.consultations.conftest import PDF, upload_file

FOUR_UNPAID = ("You already have 3 unpaid bookings. Pay for or cancel one of them before booking another "
               "consultation.")


def count(db, model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def files_on_disk(patient) -> int:
    folder = upload_root() / str(patient.id)
    return len(list(folder.iterdir())) if folder.exists() else 0


def sized(size: int):
    """A PDF of exactly `size` bytes."""
    return upload_file(PDF + b"%" * (size - len(PDF)))


def book(flow, patient, condition, doctor, files=()):
    return consultations.book(patient, condition_id=condition.id, doctor_id=doctor.id,
                              reason="Follow-up on my readings", files=files)


def test_finding_10_a_patient_may_hold_three_unpaid_bookings_and_the_fourth_is_refused(app, db, flow):
    assert app.config["CONSULTATION_MAX_UNPAID"] == 3
    patient = factories.make_patient()
    condition, doctor = flow.condition(patient), flow.doctor()
    book(flow, patient, condition, doctor)
    book(flow, patient, condition, doctor)  # one below the limit: still fine
    book(flow, patient, condition, doctor)  # at the limit
    db.session.commit()
    with pytest.raises(DomainError) as refused:  # one above
        book(flow, patient, condition, doctor)
    assert str(refused.value) == FOUR_UNPAID
    db.session.rollback()
    assert count(db, Consultation, Consultation.patient_id == patient.id) == 3

    # Paying for one (or cancelling it) makes room again.
    first = db.session.scalars(select(Consultation).where(Consultation.patient_id == patient.id)).first()
    flow.confirm(flow.pay(first))
    book(flow, patient, condition, doctor)
    assert count(db, Consultation, Consultation.patient_id == patient.id) == 4


def test_finding_10_the_fourth_unpaid_booking_is_refused_on_the_form(db, flow, as_user):
    patient = factories.make_patient()
    condition, doctor = flow.condition(patient), flow.doctor()
    for _ in range(3):
        book(flow, patient, condition, doctor)
    browser = as_user(patient)
    response = browser.post("/consultations/new", data={"condition_id": str(condition.id),
                                                       "doctor_id": str(doctor.id), "reason": "Again"})
    assert response.status_code == 200
    assert FOUR_UNPAID in response.get_data(as_text=True)
    assert count(db, Consultation, Consultation.patient_id == patient.id) == 3


@pytest.mark.parametrize("files_before, files_now, allowed", [
    (1, 1, True),  # one below the limit of 3
    (2, 1, True),  # at the limit
    (2, 2, False),  # one above
    (0, 4, False),  # one above in a single booking
])
def test_finding_10_unpaid_bookings_share_a_quota_of_files(app, db, flow, monkeypatch, files_before,
                                                           files_now, allowed):
    monkeypatch.setitem(app.config, "UNPAID_BOOKING_UPLOAD_COUNT", 3)
    patient = factories.make_patient()
    condition, doctor = flow.condition(patient), flow.doctor()
    if files_before:
        book(flow, patient, condition, doctor, files=[upload_file() for _ in range(files_before)])
    db.session.commit()
    uploads_before, on_disk_before = count(db, Upload), files_on_disk(patient)
    files = [upload_file() for _ in range(files_now)]
    if allowed:
        book(flow, patient, condition, doctor, files=files)
        assert count(db, Upload) == uploads_before + files_now
        return
    with pytest.raises(DomainError) as refused:
        book(flow, patient, condition, doctor, files=files)
    assert str(refused.value.reasons["attachments"]) == (
        "Your unpaid bookings may hold at most 3 files in all. Pay for or cancel a booking, "
        "or attach fewer files.")
    db.session.rollback()
    assert count(db, Upload) == uploads_before  # nothing of the refused booking is kept …
    assert files_on_disk(patient) == on_disk_before  # … not even its files
    assert count(db, Consultation, Consultation.patient_id == patient.id) == (1 if files_before else 0)


@pytest.mark.parametrize("extra, allowed", [(-1, True), (0, True), (1, False)],
                         ids=["one byte below", "at the limit", "one byte above"])
def test_finding_10_unpaid_bookings_share_a_quota_of_bytes(app, db, flow, monkeypatch, extra, allowed):
    limit = 3000
    monkeypatch.setitem(app.config, "UNPAID_BOOKING_UPLOAD_BYTES", limit)
    patient = factories.make_patient()
    condition, doctor = flow.condition(patient), flow.doctor()
    book(flow, patient, condition, doctor, files=[sized(1000)])
    db.session.commit()
    files = [sized(1000), sized(1000 + extra)]
    if allowed:
        book(flow, patient, condition, doctor, files=files)
        return
    with pytest.raises(DomainError) as refused:
        book(flow, patient, condition, doctor, files=files)
    assert str(refused.value.reasons["attachments"]) == (
        "Your unpaid bookings may hold at most 2.9 KB of files in all. Pay for or cancel a booking, "
        "or attach smaller files.")


def test_finding_10_files_of_paid_bookings_and_condition_proofs_do_not_count(app, db, flow, monkeypatch):
    monkeypatch.setitem(app.config, "UNPAID_BOOKING_UPLOAD_COUNT", 2)
    patient = factories.make_patient()
    condition, doctor = flow.condition(patient), flow.doctor()  # its proof is an upload too
    paid = book(flow, patient, condition, doctor, files=[upload_file(), upload_file()])
    db.session.commit()
    flow.confirm(flow.pay(paid))
    book(flow, patient, condition, doctor, files=[upload_file(), upload_file()])
    assert count(db, Upload, Upload.patient_id == patient.id,
                 Upload.purpose == UploadPurpose.CONSULTATION) == 4
