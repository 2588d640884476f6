"""The patient's record as the review page summarises it: age and sex, allergies, what they take now."""

from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache

from sqlalchemy import bindparam, select

from app.database import utcnow
from app.drugs.models import Drug
from app.extensions import db
from app.patients.models import Allergy
from app.prescribing.models import Prescription, PrescriptionItem
from app.prescribing.services import local_date
from app.prescribing.states import NOT_TAKEN


@dataclass(frozen=True)
class Taking:
    """A drug the patient is taking now, from another of their signed prescriptions."""

    name_en: str
    name_zh: str
    last_day: date


@dataclass(frozen=True)
class Summary:
    age: int | None
    sex: str | None
    allergies: list  # rows with the kind, substance and severity allergy_name() reads
    active_medications: list[Taking]


# The checks' own patient context (app.checks.adapters.build_context) resolves every allergen against
# the catalogue and loads each prescription's lines, drugs and ingredients as objects: what the checks
# need at signing, and several times what this page prints. These read the printed columns only, with
# the same rules (tests/review/test_summary.py holds them to the checks' answer).
@cache
def _allergies():
    return (select(Allergy.kind, Allergy.substance, Allergy.severity)
            .where(Allergy.patient_id == bindparam("patient_id"), Allergy.is_active).order_by(Allergy.id))


@cache
def _supplies():
    return (select(Prescription.id, Prescription.signed_at, PrescriptionItem.days_supply,
                   Drug.generic_name_en, Drug.generic_name_zh)
            .join(PrescriptionItem, PrescriptionItem.prescription_id == Prescription.id)
            .join(Drug, Drug.id == PrescriptionItem.drug_id)
            .where(Prescription.patient_id == bindparam("patient_id"), Prescription.signed_at.is_not(None),
                   Prescription.status.not_in(NOT_TAKEN))
            .order_by(Prescription.signed_at, Prescription.id, PrescriptionItem.position))


def _age(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def taking_now(patient_id: int, today: date, exclude: set[int]) -> list[Taking]:
    """Drugs of the patient's other signed prescriptions (not superseded, returned or cancelled) whose
    days' supply, counted from the signing day, has not run out today."""
    taking = []
    for prescription_id, signed_at, days_supply, name_en, name_zh in db.session.execute(
            _supplies(), {"patient_id": patient_id}):
        if prescription_id in exclude:
            continue
        last_day = local_date(signed_at) + timedelta(days=days_supply - 1)
        if last_day >= today:
            taking.append(Taking(name_en, name_zh, last_day))
    return taking


def for_review(prescription: Prescription, earlier: list[Prescription]) -> Summary:
    """The record of the prescription's patient beside it; neither it nor the versions it replaces
    (`earlier`) count as something the patient is already taking."""
    today = local_date(utcnow())
    patient = prescription.patient
    profile = patient.patient_profile
    return Summary(
        age=_age(profile.date_of_birth, today) if profile else None,
        sex=str(profile.sex) if profile else None,
        allergies=db.session.execute(_allergies(), {"patient_id": patient.id}).all(),
        active_medications=taking_now(patient.id, today, {prescription.id, *(v.id for v in earlier)}))
