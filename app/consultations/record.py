"""The patient record beside a consultation, read as plain rows in a few statements; the doctor's facts."""

# The record used to load its prescriptions, their lines and drugs, past consultations, diagnoses and
# doctors as ORM objects: about a third of the doctor's consultation page, for a patient with a handful
# of each. Rows carry the attribute names the helpers read (drug_name, drug_strength, sig_code,
# sig_supply, icd10_name), so the template prints them as it printed the objects.

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import NamedTuple

from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, select
from sqlalchemy.orm import aliased

from app.accounts.models import User
from app.consultations.actors import require_doctor
from app.consultations.models import Consultation
from app.consultations.states import ConsultationStatus
from app.drugs.models import Drug
from app.errors import DomainError
from app.extensions import db
from app.i18n import current_language
from app.patients import facts as patient_facts
from app.patients.identity import age_on
from app.patients.labels import fact_rows
from app.patients.models import Allergy, Condition, ConditionStatus, PatientFact, PatientProfile
from app.prescribing.models import Prescription, PrescriptionItem
from app.prescribing.states import PrescriptionStatus

PAST_SHOWN = 50  # past consultations, newest first
PRESCRIPTIONS_SHOWN = 20  # signed, current prescriptions from every doctor, newest first


class RecordCondition(NamedTuple):
    id: int
    icd10_code: str
    name: str
    hospital: str
    diagnosed_on: date
    proof_upload_id: int


class RecordDrug(NamedTuple):
    code: str
    generic_name_en: str
    generic_name_zh: str
    strength: Decimal
    strength_unit: str
    dosage_form: str
    pack_size: int
    pack_unit: str


class RecordLine(NamedTuple):
    prescription_id: int
    dose: Decimal
    dose_unit: str
    frequency: str
    max_doses_per_day: int | None
    duration_days: int
    quantity_packs: int
    days_supply: int
    drug: RecordDrug


class RecordPrescription(NamedTuple):
    id: int
    status: str
    signed_at: datetime
    valid_until: date | None
    condition_code: str
    condition_name: str
    doctor_name: str
    items: list


class RecordVisit(NamedTuple):
    created_at: datetime
    condition_code: str
    condition_name: str
    doctor_name: str
    status: str
    assessment: str | None
    plan: str | None


@dataclass(frozen=True)
class PatientRecord:
    """What the doctor of a consultation sees of the patient: record, prescriptions and past consultations."""

    profile: PatientProfile | None
    age: int | None
    conditions: list[RecordCondition]
    allergies: list[Allergy]
    past: list[RecordVisit]
    prescriptions: list[RecordPrescription] = field(default_factory=list)
    taking: list = field(default_factory=list)  # app.checks.taking.Supply, one per drug
    adherence: object = None  # app.adherence.queries.PatientAdherence
    adherence_chart: object = None  # its chart, inline SVG markup (None without current medicines)
    unchecked_allergies: frozenset = frozenset()  # substances the automatic checks cannot match
    facts: list = field(default_factory=list)  # app.patients.labels.FactRow, one per kind in force


# Statements built once with bound parameters: building them showed in the profile of the page.

@cache
def _profile_and_facts():
    # The profile and the facts in force (with who recorded them) in one statement: one row per fact,
    # or one row of None facts; the profile is None when the patient has not filled it in.
    recorder = aliased(User)
    return (select(PatientProfile, PatientFact, recorder.display_name)
            .select_from(User)
            .outerjoin(PatientProfile, PatientProfile.user_id == User.id)
            .outerjoin(PatientFact, PatientFact.id.in_(patient_facts.in_force_ids(bindparam("patient_id"))))
            .outerjoin(recorder, recorder.id == PatientFact.recorded_by_id)
            .where(User.id == bindparam("patient_id"))
            .order_by(PatientFact.kind))


@cache
def _conditions():
    return (select(Condition.id, Condition.icd10_code, Condition.name, Condition.hospital,
                   Condition.diagnosed_on, Condition.proof_upload_id)
            .where(Condition.patient_id == bindparam("patient_id"),
                   Condition.status == ConditionStatus.VERIFIED)
            .order_by(Condition.diagnosed_on.desc(), Condition.id.desc()))


@cache
def _past():
    # Unpaid bookings never reached a doctor: they are not part of the clinical history.
    doctor = aliased(User)
    return (select(Consultation.created_at, Condition.icd10_code, Condition.name, doctor.display_name,
                   Consultation.status, Consultation.assessment, Consultation.plan)
            .join(Condition, Condition.id == Consultation.condition_id)
            .join(doctor, doctor.id == Consultation.doctor_id)
            .where(Consultation.patient_id == bindparam("patient_id"),
                   Consultation.id != bindparam("current"),
                   Consultation.status != ConsultationStatus.AWAITING_PAYMENT,
                   Consultation.paid_at.is_not(None))
            .order_by(Consultation.created_at.desc(), Consultation.id.desc()).limit(bindparam("limit")))


@cache
def _prescriptions():
    doctor = aliased(User)
    return (select(Prescription.id, Prescription.status, Prescription.signed_at, Prescription.valid_until,
                   Condition.icd10_code, Condition.name, doctor.display_name)
            .join(Condition, Condition.id == Prescription.condition_id)
            .join(doctor, doctor.id == Prescription.doctor_id)
            .where(Prescription.patient_id == bindparam("patient_id"), Prescription.signed_at.is_not(None),
                   Prescription.status != PrescriptionStatus.SUPERSEDED)
            .order_by(Prescription.signed_at.desc(), Prescription.id.desc()).limit(bindparam("limit")))


@cache
def _lines():
    return (select(PrescriptionItem.prescription_id, PrescriptionItem.dose, PrescriptionItem.dose_unit,
                   PrescriptionItem.frequency, PrescriptionItem.max_doses_per_day,
                   PrescriptionItem.duration_days,
                   PrescriptionItem.quantity_packs, PrescriptionItem.days_supply,
                   Drug.code, Drug.generic_name_en, Drug.generic_name_zh, Drug.strength, Drug.strength_unit,
                   Drug.dosage_form, Drug.pack_size, Drug.pack_unit)
            .join(Drug, Drug.id == PrescriptionItem.drug_id)
            .where(PrescriptionItem.prescription_id.in_(bindparam("ids", expanding=True)))
            .order_by(PrescriptionItem.prescription_id, PrescriptionItem.position))


def _prescriptions_with_lines(patient_id: int) -> list[RecordPrescription]:
    found = [RecordPrescription(*row, items=[])
             for row in db.session.execute(_prescriptions(), {"patient_id": patient_id,
                                                                  "limit": PRESCRIPTIONS_SHOWN})]
    if not found:
        return found
    by_id = {p.id: p for p in found}
    for row in db.session.execute(_lines(), {"ids": list(by_id)}):
        by_id[row[0]].items.append(RecordLine(*row[:8], drug=RecordDrug(*row[8:])))
    return found


def patient_record(consultation: Consultation, today: date) -> PatientRecord:
    patient_id = consultation.patient_id
    rows = db.session.execute(_profile_and_facts(), {"patient_id": patient_id}).all()
    profile = rows[0][0] if rows else None
    recorded = [(fact, name) for _profile, fact, name in rows if fact is not None]
    born = profile.date_of_birth if profile else None
    stale = patient_facts.stale([fact for fact, _name in recorded], date_of_birth=born, on=today)
    conditions = [RecordCondition(*row)
                  for row in db.session.execute(_conditions(), {"patient_id": patient_id})]
    allergies = db.session.scalars(
        select(Allergy).where(Allergy.patient_id == patient_id, Allergy.is_active.is_(True))
        .order_by(Allergy.created_at.desc())).all()
    past = [RecordVisit(*row) for row in db.session.execute(
        _past(), {"patient_id": patient_id, "current": consultation.id, "limit": PAST_SHOWN})]
    # Imported here: the reading of what the patient takes imports prescribing, whose pages import
    # consultations (a cycle at import time); adherence reads orders, whose pages import them too.
    from app.adherence.chart import adherence_chart, drug_names
    from app.adherence.queries import patient_adherence
    from app.checks.allergens import unchecked
    from app.checks.taking import taking_now

    # Adherence: one statement (the fills and the dose answers).
    adherence = patient_adherence(patient_id)
    chart = (adherence_chart(adherence, drug_names(adherence, current_language()))
             if adherence.drugs else None)
    return PatientRecord(profile=profile, age=age_on(profile.date_of_birth, today) if profile else None,
                         conditions=conditions, allergies=list(allergies), past=past,
                         prescriptions=_prescriptions_with_lines(patient_id),
                         taking=taking_now(patient_id, today), adherence=adherence, adherence_chart=chart,
                         unchecked_allergies=unchecked(allergies),
                         facts=fact_rows(recorded, stale, reader="doctor"))


# ---- the doctor records a fact ---------------------------------------------------------------------

def record_fact(consultation: Consultation, doctor, kind, value, measured_on) -> PatientFact:
    """The consultation's doctor records (or confirms) a fact of its patient, while it is in progress:
    checked under the consultation's row lock, so a completion at the same moment cannot slip between."""
    require_doctor(consultation, doctor)
    consultation = db.session.scalar(select(Consultation).where(Consultation.id == consultation.id)
                                     .with_for_update().execution_options(populate_existing=True))
    if consultation.status != ConsultationStatus.IN_PROGRESS:
        raise DomainError(_l("Measurements can only be recorded while the consultation is in progress."))
    return patient_facts.record_fact(consultation.patient, kind, value, measured_on, by=doctor,
                                     consultation=consultation)
