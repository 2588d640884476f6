"""Patient facts the clinical checks use: recording one (rows are only added) and reading those in force."""

# The newest fact of a kind, by the day it was measured and then by id, is the one in force: a later
# row with an earlier date is history, and a correction is a new row for the same day. What counts as
# stale is decided in app/checks/patient_facts.py, so the record pages and the checks agree.

from datetime import date
from decimal import Decimal
from functools import cache
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import joinedload

from app import numbers
from app.accounts.models import Role, User
from app.audit.services import record
from app.checks.patient_facts import Fact, stale_kinds
from app.database import utcnow
from app.errors import DomainError
from app.extensions import db
from app.limits import Bound
from app.patients.identity import age_on
from app.patients.models import FactKind, FactSource, PatientFact, PatientProfile

EARLIEST_DATE = date(1900, 1, 1)

# Plausible values: outside them is a slip (grams typed for kilograms, µmol/L of creatinine for a
# clearance in mL/min), which a dose check would then believe. NUMERIC(7, 2) keeps two decimals.
BOUNDS = {
    FactKind.WEIGHT: Bound(Decimal("0.3"), Decimal(400), places=2),
    FactKind.HEIGHT: Bound(Decimal(20), Decimal(250), places=2),
    FactKind.EGFR: Bound(Decimal(0), Decimal(200), places=2),
    FactKind.CRCL: Bound(Decimal(0), Decimal(200), places=2),
    FactKind.PREGNANCY: Bound(0, 44),  # whole weeks of gestation; 0 = not pregnant
}
# One message per kind names the unit and the range, whatever was wrong with the number.
VALUE_MESSAGES = {
    FactKind.WEIGHT: _l("Enter the weight in kg: a number from 0.3 to 400, with at most 2 decimals."),
    FactKind.HEIGHT: _l("Enter the height in cm: a number from 20 to 250, with at most 2 decimals."),
    FactKind.EGFR: _l("Enter the eGFR in mL/min/1.73 m²: a number from 0 to 200, with at most 2 decimals."),
    FactKind.CRCL: _l("Enter the creatinine clearance in mL/min: a number from 0 to 200, with at most "
                      "2 decimals."),
    FactKind.PREGNANCY: _l("Enter the weeks of pregnancy: a whole number from 0 to 44 (0: not pregnant)."),
    FactKind.BREASTFEEDING: _l("Answer yes or no for breastfeeding."),
    FactKind.CHILD_PUGH: _l("Choose Child-Pugh class A, B or C."),
}
CHILD_PUGH_CLASSES = ("A", "B", "C")
YES, NO = ("yes", "1", "true", "y"), ("no", "0", "false", "n")


def today() -> date:
    """Today in the prescribing time zone (as app.prescribing.services.local_date): the day the checks
    count a fact's age from."""
    return utcnow().astimezone(ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])).date()


# ---- recording ------------------------------------------------------------------------------------

def _kind(kind) -> FactKind:
    try:
        return FactKind(kind)
    except ValueError:
        raise DomainError({"kind": _l("Choose what you are recording from the list.")}) from None


def _source(patient: User, by: User | None, consultation, kind: FactKind) -> FactSource:
    """The patient for themself (never the Child-Pugh class: that is a doctor's assessment), or the
    doctor of one of the patient's consultations, in it. Whether that consultation is still open is the
    consultations feature's rule, checked by its caller under the consultation's row lock
    (app.consultations.record.record_fact)."""
    if by is not None and by.role == Role.PATIENT and by.id == patient.id and consultation is None:
        if kind == FactKind.CHILD_PUGH:
            raise DomainError({"kind": _l("The Child-Pugh class is assessed by a doctor.")})
        return FactSource.PATIENT
    if (by is not None and by.role == Role.DOCTOR and by.is_active and consultation is not None
            and consultation.doctor_id == by.id and consultation.patient_id == patient.id):
        return FactSource.DOCTOR
    raise DomainError(_l("Only the patient, or the doctor in one of their consultations, can record this."))


def parse_value(kind: FactKind, value) -> tuple[Decimal | None, str | None]:
    """(value, value_text) as stored: a number through the bounded parser, a yes/no as 1/0, a class."""
    refused = DomainError({"value": VALUE_MESSAGES[kind]})
    if kind == FactKind.CHILD_PUGH:
        text = str(value if value is not None else "")[:8].strip().upper()
        if text not in CHILD_PUGH_CLASSES:
            raise refused
        return None, text
    if kind == FactKind.BREASTFEEDING:
        text = str(value if value is not None else "")[:8].strip().lower()
        if value is True or text in YES:
            return Decimal(1), None
        if value is False or text in NO:
            return Decimal(0), None
        raise refused
    try:
        return numbers.parse_decimal(value if value is not None else "", BOUNDS[kind]), None
    except numbers.NumberError:
        raise refused from None


def _check_day(measured_on, born: date | None) -> None:
    if not isinstance(measured_on, date):
        raise DomainError({"measured_on": _l("Enter the date it was measured.")})
    if measured_on > today():
        raise DomainError({"measured_on": _l("The date measured cannot be in the future.")})
    if born is not None and measured_on < born:
        raise DomainError({"measured_on": _l("The date measured cannot be before the date of birth.")})
    if measured_on < EARLIEST_DATE:
        raise DomainError({"measured_on": _l("Enter a date after 1 January 1900.")})


def record_fact(patient: User, kind, value, measured_on: date, *, by: User, consultation=None) -> PatientFact:
    """Add one dated fact. Reported by the patient, or recorded (or a report confirmed) by the doctor of
    `consultation`. Bad input raises DomainError with a reason per field: kind, value, measured_on."""
    kind = _kind(kind)
    source = _source(patient, by, consultation, kind)
    reasons = {}
    try:
        number, text = parse_value(kind, value)
    except DomainError as error:
        reasons.update(error.reasons)
    try:
        profile = db.session.get(PatientProfile, patient.id)
        _check_day(measured_on, profile.date_of_birth if profile else None)
    except DomainError as error:
        reasons.update(error.reasons)
    if reasons:
        raise DomainError(reasons)
    current = _newest_of(patient.id, kind)
    if (current is not None and (current.value, current.value_text, current.measured_on, current.source,
                                 current.recorded_by_id) == (number, text, measured_on, source, by.id)):
        # A second click on the same form: the fact in force already says exactly this.
        raise DomainError(_l("This measurement is already recorded."))
    fact = PatientFact(patient_id=patient.id, kind=kind, value=number, value_text=text,
                       measured_on=measured_on, source=source, recorded_by_id=by.id,
                       consultation_id=consultation.id if consultation is not None else None)
    db.session.add(fact)
    db.session.flush()
    # The kind and who, not the value: the row itself keeps the value and never changes.
    where = f" in consultation {consultation.id}" if consultation is not None else ""
    record("fact.recorded", obj=fact, patient=patient.id, detail=f"{kind.value} by {source.value}{where}")
    return fact


def _newest_of(patient_id: int, kind: FactKind) -> PatientFact | None:
    return db.session.scalar(select(PatientFact).where(PatientFact.patient_id == patient_id,
                                                       PatientFact.kind == kind)
                             .order_by(PatientFact.measured_on.desc(), PatientFact.id.desc()).limit(1))


# ---- reading ------------------------------------------------------------------------------------

def in_force_ids(patient_id):
    """The ids of the patient's facts in force, one per kind, as a subquery (`patient_id` may be a
    bindparam): other statements join it to read the facts along with what they load anyway."""
    ranked = (select(PatientFact.id, func.row_number().over(
        partition_by=PatientFact.kind,
        order_by=(PatientFact.measured_on.desc(), PatientFact.id.desc())).label("place"))
        .where(PatientFact.patient_id == patient_id).subquery())
    return select(ranked.c.id).where(ranked.c.place == 1)


@cache
def _in_force():
    # Built once with a bound parameter; the recorder (a doctor's name on the page) in the same statement.
    return (select(PatientFact).where(PatientFact.id.in_(in_force_ids(bindparam("patient_id"))))
            .options(joinedload(PatientFact.recorded_by)).order_by(PatientFact.kind))


def facts_in_force(patient_id: int) -> list[PatientFact]:
    """The newest fact of each kind the patient has, in one statement (recorded_by loaded with them)."""
    return list(db.session.scalars(_in_force(), {"patient_id": patient_id}).unique())


def as_check_facts(facts) -> list[Fact]:
    """PatientFact rows as the pure checks read them."""
    return [Fact(kind=str(f.kind), value=f.value_text if f.kind == FactKind.CHILD_PUGH else f.value,
                 measured_on=f.measured_on, source=str(f.source)) for f in facts]


def facts_for_checks(patient_id: int) -> list[Fact]:
    """The facts in force, for app.checks (one statement)."""
    return as_check_facts(facts_in_force(patient_id))


def stale(facts, *, date_of_birth: date | None, on: date) -> set[str]:
    """The kinds among `facts` (those in force) that are out of date on `on`, by the checks' own rule."""
    age = age_on(date_of_birth, on) if date_of_birth else None
    return stale_kinds(as_check_facts(facts), age=age, today=on)
