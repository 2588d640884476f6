"""The patient's list of prescriptions: a page of plain rows, their lines, and the versions they replaced.

The list is the page patients open most, so it reads columns, not ORM objects: the rows carry what
the page prints (the diagnosis, the doctor's name, the drugs' names, strengths and forms) and nothing
else. Loading whole prescriptions, lines, drugs, conditions and doctors as objects cost twice the
CPU of the rest of the request; the detail page still loads the objects.
"""

from datetime import datetime
from functools import cache

from sqlalchemy import and_, bindparam, or_, select
from sqlalchemy.orm import aliased

from app.accounts.models import User
from app.drugs.models import Drug
from app.extensions import db
from app.pagination import Page, Sort, paginate
from app.patients.models import Condition
from app.prescribing.models import Prescription, PrescriptionItem, SupplyCategory
from app.prescribing.states import PrescriptionStatus as S

# Ten prescriptions (each with its lines) are most of a year of monthly refills and several phone
# screens; twenty doubled the rows' share of the page for entries seldom scrolled to.
PAGE_SIZE = 10

# The patient's list, newest first (ix_prescriptions_patient_created); the id breaks ties.
NEWEST_FIRST = Sort([Prescription.created_at, Prescription.id], [datetime, int], descending=True)

LISTED = (Prescription.id, Prescription.status, Prescription.version, Prescription.signed_at,
          Prescription.valid_until, Prescription.previous_version_id, Prescription.created_at,
          Condition.icd10_code.label("condition_code"), Condition.name.label("condition_name"),
          User.display_name.label("doctor_name"))
# A line as the list names it; the column names are the Drug attributes drug_title() reads.
LINE = (PrescriptionItem.prescription_id, Drug.generic_name_en, Drug.generic_name_zh, Drug.strength,
        Drug.strength_unit, Drug.dosage_form)
EARLIER = (Prescription.id, Prescription.status, Prescription.version, Prescription.signed_at,
           Prescription.valid_until, Prescription.previous_version_id)


def _shown_to_patient_sql():
    """queries.shown_to_patient as a filter: signed versions, and long drafts waiting for the
    patient's confirmation."""
    return or_(and_(Prescription.status == S.DRAFT, Prescription.supply_category == SupplyCategory.LONG),
               and_(Prescription.status != S.DRAFT, Prescription.signed_at.is_not(None)))


@cache
def _current_versions():
    """The patient's current prescriptions as the list shows them (built once, for :patient_id)."""
    return (select(*LISTED)
            .join(Condition, Condition.id == Prescription.condition_id)
            .join(User, User.id == Prescription.doctor_id)
            .where(Prescription.patient_id == bindparam("patient_id"), Prescription.status != S.SUPERSEDED,
                   _shown_to_patient_sql()))


def for_patient(patient, *, after: str | None = None, size: int | None = None) -> Page:
    """A page of the patient's current prescriptions, newest first; replaced versions are in
    `earlier_for`, the lines in `lines_for`."""
    return paginate(_current_versions(), NEWEST_FIRST, after=after, size=size or PAGE_SIZE,
                    key=lambda p: (p.created_at, p.id), entities=False, params={"patient_id": patient.id})


def lines_for(listed) -> dict[int, list]:
    """Each listed prescription's lines in their order, by prescription id: one query."""
    lines: dict[int, list] = {p.id: [] for p in listed}
    if lines:
        for line in db.session.execute(_lines(), {"ids": list(lines)}):
            lines[line.prescription_id].append(line)
    return lines


@cache
def _lines():
    return (select(*LINE).join(Drug, Drug.id == PrescriptionItem.drug_id)
            .where(PrescriptionItem.prescription_id.in_(bindparam("ids", expanding=True)))
            .order_by(PrescriptionItem.prescription_id, PrescriptionItem.position))


def earlier_for(patient, listed) -> dict[int, list]:
    """The versions each listed prescription replaced (by its id), newest first: one query that walks
    back from the listed ones only, so the page can fold each prescription's history under it."""
    starts = [p.previous_version_id for p in listed if p.previous_version_id is not None]
    replaced = {}
    if starts:
        replaced = {p.id: p for p in db.session.execute(
            _replaced_versions(), {"starts": starts, "patient_id": patient.id})}
    chains = {}
    for prescription in listed:
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
    return select(*EARLIER).where(Prescription.id.in_(select(chain.c.id)))
