"""The patient's list of prescriptions: a page of plain rows, their lines, and the versions they replaced.

The list is the page patients open most, so it reads columns, not ORM objects: the rows carry what
the page prints (the diagnosis, the doctor's name, the drugs' names, strengths and forms) and nothing
else. Loading whole prescriptions, lines, drugs, conditions and doctors as objects cost twice the
CPU of the rest of the request; the detail page still loads the objects.
"""

from datetime import datetime
from decimal import Decimal
from functools import cache
from typing import NamedTuple

from sqlalchemy import and_, bindparam, cast, literal, null, or_, select, union_all
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
    """A page of the patient's current prescriptions, newest first; their lines and the versions
    they replaced are in `details_for`."""
    return paginate(_current_versions(), NEWEST_FIRST, after=after, size=size or PAGE_SIZE,
                    key=lambda p: (p.created_at, p.id), entities=False, params={"patient_id": patient.id})


class _Line(NamedTuple):
    """A line as the list names it; the attribute names are the Drug columns drug_title() reads."""

    generic_name_en: str
    generic_name_zh: str
    strength: Decimal
    strength_unit: str
    dosage_form: str


class _Earlier(NamedTuple):
    id: int
    status: str
    version: int
    signed_at: datetime | None
    previous_version_id: int | None


def details_for(patient, listed) -> tuple[dict[int, list], dict[int, list]]:
    """Each listed prescription's lines in their order, and the versions it replaced newest first (both
    by its id), read in one statement: a UNION of the lines and of the chain of replaced versions
    walked back from the listed ones, so the page can fold each prescription's history under it."""
    lines: dict[int, list] = {p.id: [] for p in listed}
    if not lines:
        return lines, {}
    starts = [p.previous_version_id for p in listed if p.previous_version_id is not None]
    replaced = {}
    # A start that matches no prescription keeps the IN list non-empty when nothing was replaced.
    for row in db.session.execute(_details(), {"ids": list(lines), "starts": starts or [0],
                                              "patient_id": patient.id}):
        if row.kind == LINE_ROW:
            lines[row.owner_id].append(_Line(row.name_en, row.name_zh, row.strength, row.strength_unit,
                                              row.dosage_form))
        else:
            replaced[row.owner_id] = _Earlier(row.owner_id, row.status, row.version, row.signed_at,
                                              row.previous_version_id)
    earlier = {}
    for prescription in listed:
        chain_of, previous = [], prescription.previous_version_id
        while previous in replaced:
            chain_of.append(replaced[previous])
            previous = replaced[previous].previous_version_id
        earlier[prescription.id] = chain_of
    return lines, earlier


LINE_ROW, EARLIER_ROW = 0, 1


@cache
def _details():
    """Built once (a recursive query costs more to construct than to run): rows of kind LINE_ROW are
    the lines of :ids with their drugs, rows of kind EARLIER_ROW the superseded versions reached by
    walking back from :starts; each kind leaves the other's columns empty."""
    older = aliased(Prescription)
    patient_id = bindparam("patient_id")
    chain = (select(Prescription.id, Prescription.previous_version_id)
             .where(Prescription.id.in_(bindparam("starts", expanding=True)),
                    Prescription.patient_id == patient_id, Prescription.status == S.SUPERSEDED)
             .cte("chain", recursive=True))
    chain = chain.union_all(
        select(older.id, older.previous_version_id).join(chain, older.id == chain.c.previous_version_id)
        .where(older.patient_id == patient_id, older.status == S.SUPERSEDED))

    def empty(column):
        return cast(null(), column.type)

    line_rows = (
        select(literal(LINE_ROW).label("kind"), PrescriptionItem.prescription_id.label("owner_id"),
               PrescriptionItem.position.label("position"), Drug.generic_name_en.label("name_en"),
               Drug.generic_name_zh.label("name_zh"), Drug.strength, Drug.strength_unit, Drug.dosage_form,
               empty(Prescription.status).label("status"), empty(Prescription.version).label("version"),
               empty(Prescription.signed_at).label("signed_at"),
               empty(Prescription.previous_version_id).label("previous_version_id"))
        .join(Drug, Drug.id == PrescriptionItem.drug_id)
        .where(PrescriptionItem.prescription_id.in_(bindparam("ids", expanding=True))))
    earlier_rows = (
        select(literal(EARLIER_ROW), Prescription.id, literal(0), empty(Drug.generic_name_en),
               empty(Drug.generic_name_zh), empty(Drug.strength), empty(Drug.strength_unit),
               empty(Drug.dosage_form), Prescription.status, Prescription.version, Prescription.signed_at,
               Prescription.previous_version_id)
        .where(Prescription.id.in_(select(chain.c.id))))
    rows = union_all(line_rows, earlier_rows).subquery()
    return select(rows).order_by(rows.c.kind, rows.c.owner_id, rows.c.position)
