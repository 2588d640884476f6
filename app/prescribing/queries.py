"""Who may see which prescription, and the lists the pages show."""

from datetime import date, datetime, timedelta
from functools import cache

from sqlalchemy import and_, bindparam, or_, select
from sqlalchemy.orm import aliased, joinedload, selectinload

from app.accounts.models import Role
from app.consultations.models import Consultation
from app.database import utcnow
from app.extensions import db
from app.pagination import Page, Sort, paginate
from app.prescribing.models import Prescription, PrescriptionItem, SupplyCategory
from app.prescribing.rules import MAX_VALID_DAYS
from app.prescribing.services import is_valid, local_date
from app.prescribing.states import PrescriptionStatus

S = PrescriptionStatus
PAGE_SIZE = 20


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


# The patient's list, newest first (ix_prescriptions_patient_created); the id breaks ties.
NEWEST_FIRST = Sort([Prescription.created_at, Prescription.id], [datetime, int], descending=True)


def _shown_to_patient_sql():
    """shown_to_patient as a filter: signed versions, and long drafts waiting for their confirmation."""
    return or_(and_(Prescription.status == S.DRAFT, Prescription.supply_category == SupplyCategory.LONG),
               and_(Prescription.status != S.DRAFT, Prescription.signed_at.is_not(None)))


def for_patient(patient, *, after: str | None = None, size: int | None = None) -> Page:
    """A page of the patient's current prescriptions, newest first; replaced versions are in
    `earlier_for`."""
    statement = (select(Prescription)
                 .where(Prescription.patient_id == patient.id, Prescription.status != S.SUPERSEDED,
                        _shown_to_patient_sql())
                 .options(with_items(), joinedload(Prescription.condition, innerjoin=True),
                          joinedload(Prescription.doctor, innerjoin=True)))
    return paginate(statement, NEWEST_FIRST, after=after, size=size or PAGE_SIZE,
                    key=lambda p: (p.created_at, p.id))


def earlier_for(patient, current: list[Prescription]) -> dict[int, list[Prescription]]:
    """The versions each listed prescription replaced (by its id), newest first: one query that walks
    back from the listed ones only, so the page can fold each prescription's history under it."""
    starts = [p.previous_version_id for p in current if p.previous_version_id is not None]
    replaced: dict[int, Prescription] = {}
    if starts:
        replaced = {p.id: p for p in db.session.scalars(
            _replaced_versions(), {"starts": starts, "patient_id": patient.id})}
    chains = {}
    for prescription in current:
        chain_of, previous = [], prescription.previous_version_id
        while previous in replaced:
            chain_of.append(replaced[previous])
            previous = replaced[previous].previous_version_id
        chains[prescription.id] = chain_of
    return chains


@cache
def _replaced_versions():
    """The superseded versions reached by walking back from :starts (built once: a recursive query
    costs more to construct than to run)."""
    older = aliased(Prescription)
    patient_id = bindparam("patient_id")
    chain = (select(Prescription.id, Prescription.previous_version_id)
             .where(Prescription.id.in_(bindparam("starts", expanding=True)),
                    Prescription.patient_id == patient_id, Prescription.status == S.SUPERSEDED)
             .cte("chain", recursive=True))
    chain = chain.union_all(
        select(older.id, older.previous_version_id).join(chain, older.id == chain.c.previous_version_id)
        .where(older.patient_id == patient_id, older.status == S.SUPERSEDED))
    return select(Prescription).where(Prescription.id.in_(select(chain.c.id)))


def for_consultation(consultation: Consultation, user) -> list[Prescription]:
    found = db.session.scalars(
        select(Prescription).where(Prescription.consultation_id == consultation.id)
        .options(with_items()).order_by(Prescription.id)).all()
    return [p for p in found if visible_to(p, user)]


def history(patient_id: int, limit: int = 20) -> list[Prescription]:
    """Signed, current prescriptions from every doctor: what the doctor reads in the patient record."""
    return list(db.session.scalars(
        select(Prescription).where(Prescription.patient_id == patient_id, Prescription.signed_at.is_not(None),
                                   Prescription.status != S.SUPERSEDED)
        .options(with_items()).order_by(Prescription.signed_at.desc()).limit(limit)))


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
