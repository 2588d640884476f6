"""Two pharmacists press "Review this prescription" at the same moment, on PostgreSQL with two
connections: exactly one gets it, the other is told someone else is reviewing it."""

import threading

import pytest

from app.accounts.models import Role, User
from app.consultations.models import Consultation
from app.consultations.states import ConsultationStatus
from app.database import utcnow
from app.drugs import services as drug_services
from app.errors import DomainError
from app.extensions import db
from app.patients.models import Condition, ConditionStatus, UploadPurpose
from app.patients.uploads import save_upload
from app.prescribing import services as rx
from app.prescribing.models import Prescription
from app.review import services as review
from tests import factories
from tests.consultations.conftest import upload_file
from tests.drugs.conftest import drug_row
from tests.prescribing.conftest import sign_and_submit

pytestmark = pytest.mark.postgres_only


def signed_prescription() -> int:
    doctor = factories.make_user(Role.DOCTOR)
    patient = factories.make_patient()
    proof = save_upload(upload_file(), patient=patient, uploaded_by=patient,
                        purpose=UploadPurpose.CONDITION_PROOF)
    condition = Condition(patient_id=patient.id, icd10_code="I10", name="Essential hypertension",
                          hospital="Test Hospital", diagnosed_on=utcnow().date(), proof_upload_id=proof.id,
                          status=ConditionStatus.VERIFIED)
    db.session.add(condition)
    db.session.flush()
    visit = Consultation(patient_id=patient.id, doctor_id=doctor.id, condition_id=condition.id, reason="BP",
                         status=ConsultationStatus.IN_PROGRESS, fee_fen=3000, paid_at=utcnow(),
                         accepted_at=utcnow())
    db.session.add(visit)
    db.session.flush()
    drug = drug_services.create_drug(drug_row())
    prescription = rx.start(visit, doctor, condition_id=condition.id)
    rx.add_item(prescription, doctor, drug_id=drug.id, dose="5", dose_unit="mg", frequency="QD",
                duration_days=7)
    sign_and_submit(prescription, doctor, factories.PASSWORD)
    db.session.commit()
    return prescription.id


def test_two_pharmacists_claiming_at_once_get_exactly_one_claim(committed_postgres_app, database_url):
    application = committed_postgres_app
    with application.app_context():
        prescription_id = signed_prescription()
        pharmacist_ids = [factories.make_user(Role.PHARMACIST).id for _ in range(2)]
        db.session.commit()

    start = threading.Barrier(len(pharmacist_ids))
    outcomes: dict[int, str] = {}

    def press_claim(pharmacist_id: int) -> None:
        with application.app_context():  # its own session, so its own connection
            pharmacist = db.session.get(User, pharmacist_id)
            prescription = db.session.get(Prescription, prescription_id)
            prescription.review  # loaded before the race, as the page had it  # noqa: B018
            start.wait(timeout=10)
            try:
                review.claim(prescription, pharmacist)
                db.session.commit()
                outcomes[pharmacist_id] = "claimed"
            except DomainError as error:
                db.session.rollback()
                outcomes[pharmacist_id] = str(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=press_claim, args=(pid,)) for pid in pharmacist_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes.values()) == ["Another pharmacist is reviewing this prescription.", "claimed"]
    winner = next(pid for pid, outcome in outcomes.items() if outcome == "claimed")
    with application.app_context():
        stored = db.session.get(Prescription, prescription_id).review
        assert stored.claimed_by_id == winner
