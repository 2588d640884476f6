"""What the doctor of a consultation sees of the patient: record, prescriptions and past consultations."""

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select

from app.consultations.models import Consultation
from app.consultations.states import ConsultationStatus
from app.extensions import db
from app.patients.models import Allergy, Condition, ConditionStatus, PatientProfile
from app.prescribing.queries import history as prescription_history


@dataclass(frozen=True)
class PatientRecord:
    profile: PatientProfile | None
    age: int | None
    conditions: list[Condition]
    allergies: list[Allergy]
    past: list[Consultation]
    prescriptions: list = field(default_factory=list)


def age_on(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def patient_record(consultation: Consultation) -> PatientRecord:
    patient_id = consultation.patient_id
    profile = db.session.get(PatientProfile, patient_id)
    conditions = db.session.scalars(
        select(Condition).where(Condition.patient_id == patient_id,
                                Condition.status == ConditionStatus.VERIFIED)
        .order_by(Condition.diagnosed_on.desc())).all()
    allergies = db.session.scalars(
        select(Allergy).where(Allergy.patient_id == patient_id, Allergy.is_active.is_(True))
        .order_by(Allergy.created_at.desc())).all()
    # Unpaid bookings never reached a doctor: they are not part of the clinical history.
    past = db.session.scalars(
        select(Consultation).where(Consultation.patient_id == patient_id, Consultation.id != consultation.id,
                                   Consultation.status != ConsultationStatus.AWAITING_PAYMENT,
                                   Consultation.paid_at.is_not(None))
        .order_by(Consultation.created_at.desc()).limit(50)).all()
    age = age_on(profile.date_of_birth, date.today()) if profile else None
    return PatientRecord(profile=profile, age=age, conditions=list(conditions), allergies=list(allergies),
                         past=list(past), prescriptions=prescription_history(patient_id))
