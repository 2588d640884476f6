"""The doctor's queue page as plain rows: who waits, who is in progress, and what ended lately.

The page is every doctor's home and reloads as the queue moves, so it selects the columns it prints
(the patient's name, the diagnosis, the times) rather than loading consultations, patients and
conditions as objects, which was most of its CPU. The statements are built once with bound parameters.
"""

from functools import cache

from sqlalchemy import bindparam, func, select

from app.accounts.models import User
from app.consultations.models import Consultation
from app.consultations.states import ConsultationStatus as S
from app.extensions import db
from app.patients.models import Condition

ROW = (Consultation.id, Consultation.patient_id, Consultation.status, Consultation.paid_at,
       Consultation.expires_at, Consultation.accepted_at, Consultation.ended_at,
       User.display_name.label("patient_name"), Condition.icd10_code.label("condition_code"),
       Condition.name.label("condition_name"))


def _mine():
    return (select(*ROW).join(User, User.id == Consultation.patient_id)
            .join(Condition, Condition.id == Consultation.condition_id)
            .where(Consultation.doctor_id == bindparam("doctor_id")))


@cache
def _waiting():
    # ix_consultations_doctor_queue (doctor_id, status, paid_at): the longest-waiting first.
    return (_mine().where(Consultation.status == S.WAITING)
            .order_by(Consultation.paid_at, Consultation.id).limit(bindparam("limit")))


@cache
def _latest():
    # ix_consultations_doctor_accepted (doctor_id, accepted_at, id): the latest accepted first.
    return (_mine().where(Consultation.status.in_(bindparam("statuses", expanding=True)))
            .order_by(Consultation.accepted_at.desc(), Consultation.id.desc()).limit(bindparam("limit")))


@cache
def _count():
    return (select(func.count()).select_from(Consultation)
            .where(Consultation.doctor_id == bindparam("doctor_id"),
                   Consultation.status.in_(bindparam("statuses", expanding=True))))


def waiting(doctor, limit: int) -> list:
    """The `limit` paid consultations waiting longest for this doctor, the longest-waiting first."""
    return list(db.session.execute(_waiting(), {"doctor_id": doctor.id, "limit": limit}))


def latest(doctor, statuses, limit: int) -> list:
    """The doctor's `limit` most recently accepted consultations in these states."""
    return list(db.session.execute(_latest(), {"doctor_id": doctor.id, "statuses": list(statuses),
                                               "limit": limit}))


def count(doctor, statuses) -> int:
    return db.session.scalar(_count(), {"doctor_id": doctor.id, "statuses": list(statuses)})
