"""Who may see which prescription, and the lists the pages show."""

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.accounts.models import Role
from app.consultations.models import Consultation
from app.database import utcnow
from app.extensions import db
from app.prescribing.models import Prescription, PrescriptionItem, SupplyCategory
from app.prescribing.rules import MAX_VALID_DAYS
from app.prescribing.services import is_valid, local_date
from app.prescribing.states import PrescriptionStatus

S = PrescriptionStatus


def with_items():
    """Load the lines with their drugs in one more query (built on use: mappers configure late)."""
    return selectinload(Prescription.items).joinedload(PrescriptionItem.drug, innerjoin=True)


def shown_to_patient(prescription: Prescription) -> bool:
    """Signed versions; a draft only when it is a long prescription waiting for their confirmation."""
    if prescription.status == S.DRAFT:
        return prescription.supply_category == SupplyCategory.LONG
    return prescription.signed_at is not None  # a draft the doctor discarded was never the patient's


def visible_to(prescription: Prescription, user) -> bool:
    """The object check: the prescribing doctor, or the patient it is for (see shown_to_patient)."""
    if user.role == Role.DOCTOR:
        return prescription.doctor_id == user.id
    if user.role == Role.PATIENT:
        return prescription.patient_id == user.id and shown_to_patient(prescription)
    return False


def digest(prescription: Prescription) -> str:
    """What a consultation page's polling compares: a new, signed, replaced or confirmed prescription."""
    confirmed = "c" if prescription.patient_confirmed_long_at else ""
    lines = len(prescription.items) if prescription.status == S.DRAFT else ""
    return f"{prescription.id}:{prescription.status}:{prescription.supply_category}:{confirmed}{lines}"


def for_consultation(consultation: Consultation, user) -> list[Prescription]:
    found = db.session.scalars(
        select(Prescription).where(Prescription.consultation_id == consultation.id)
        .options(with_items()).order_by(Prescription.id)).all()
    return [p for p in found if visible_to(p, user)]


def newer_version(prescription: Prescription) -> Prescription | None:
    return db.session.scalar(select(Prescription).where(Prescription.previous_version_id == prescription.id))


def extension_days(prescription: Prescription) -> list[date]:
    """The days the doctor may still extend to: after the current last day, within 3 days of signing."""
    if prescription.signed_at is None or not is_valid(prescription):
        return []
    latest = local_date(prescription.signed_at) + timedelta(days=MAX_VALID_DAYS - 1)
    day, days = prescription.valid_until + timedelta(days=1), []
    while day <= latest:
        days.append(day)
        day += timedelta(days=1)
    return days


def today() -> date:
    return local_date(utcnow())
