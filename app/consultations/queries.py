"""The consultations read side: lists, queues, threads and payments (the record: record.py)."""

from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import joinedload, selectinload

from app.accounts.models import DoctorProfile, Role, User
from app.consultations.models import PAYABLE, Consultation, ConsultationAttachment, ConsultationMessage
from app.consultations.states import ConsultationStatus
from app.extensions import db
from app.pagination import Page, Sort, paginate
from app.patients.models import Upload
from app.payments.models import LIVE_STATUSES, Payment

S = ConsultationStatus
PAGE_SIZE = 20


def queue_length_query():
    """Waiting consultations per doctor: what a patient sees before choosing."""
    return (select(Consultation.doctor_id, func.count().label("waiting"))
            .where(Consultation.status == S.WAITING).group_by(Consultation.doctor_id).subquery())


def bookable_doctors(department: str | None = None) -> list[tuple[User, int]]:
    """Verified, active doctors with their current queue length, shortest queue first."""
    queues = queue_length_query()
    waiting = func.coalesce(queues.c.waiting, 0)
    statement = (select(User, waiting).join(DoctorProfile, DoctorProfile.user_id == User.id)
                 .outerjoin(queues, queues.c.doctor_id == User.id)
                 .where(User.role == Role.DOCTOR, User.is_active.is_(True),
                        DoctorProfile.is_verified.is_(True))
                 .order_by(DoctorProfile.department, waiting, User.display_name))
    if department:
        statement = statement.where(DoctorProfile.department == department)
    return [(doctor, count) for doctor, count in db.session.execute(statement)]


def departments() -> list[str]:
    return list(db.session.scalars(
        select(DoctorProfile.department).join(User, User.id == DoctorProfile.user_id)
        .where(DoctorProfile.is_verified.is_(True), User.is_active.is_(True))
        .distinct().order_by(DoctorProfile.department)))


# The patient's list, newest first (ix_consultations_patient_created); the id breaks ties.
NEWEST_FIRST = Sort([Consultation.created_at, Consultation.id], [datetime, int], descending=True)


def for_patient(patient, *, after: str | None = None, size: int | None = None) -> Page:
    """A page of the patient's consultations, newest first, with the condition and doctor each row shows."""
    statement = (select(Consultation).where(Consultation.patient_id == patient.id)
                 .options(selectinload(Consultation.condition),
                          selectinload(Consultation.doctor).selectinload(User.doctor_profile)))
    return paginate(statement, NEWEST_FIRST, after=after, size=size or PAGE_SIZE,
                    key=lambda c: (c.created_at, c.id))


# A consultation page shows the latest messages of its thread; earlier ones open a page at a time, so a
# thread of thousands of messages costs what one of fifty does.
MESSAGES_SHOWN = 50
# Newest first by id, so an index on (consultation_id, id) reads only the rows a page shows; the rows
# are turned round for display, so a thread reads from the top down.
NEWEST_MESSAGES = Sort([ConsultationMessage.id], [int], descending=True)


def page_loads():
    """What the consultation page shows of the consultation itself, loaded with it (built on use:
    mappers configure late)."""
    return (joinedload(Consultation.condition, innerjoin=True),
            joinedload(Consultation.patient, innerjoin=True),
            joinedload(Consultation.doctor, innerjoin=True).joinedload(User.doctor_profile),
            selectinload(Consultation.attachments).joinedload(ConsultationAttachment.upload, innerjoin=True))


def _thread_rows():
    """A thread's messages as plain rows, with the sender's name and the attachment's file name."""
    return (select(ConsultationMessage.id, ConsultationMessage.sender_id, ConsultationMessage.body,
                   ConsultationMessage.created_at, ConsultationMessage.upload_id,
                   User.display_name.label("sender_name"), Upload.original_name.label("upload_name"))
            .join(User, User.id == ConsultationMessage.sender_id)
            .outerjoin(Upload, Upload.id == ConsultationMessage.upload_id))


def thread_page(consultation: Consultation, *, after: str | None = None, size: int = MESSAGES_SHOWN) -> Page:
    """The `size` messages before the cursor (the latest ones without one), oldest first; the page's
    cursor leads to the messages before them."""
    page = paginate(_thread_rows().where(ConsultationMessage.consultation_id == consultation.id),
                    NEWEST_MESSAGES, after=after, size=size, key=lambda row: (row.id,), entities=False)
    page.rows.reverse()
    return page


def messages_after(consultation: Consultation, after_id: int = 0,
                   limit: int = MESSAGES_SHOWN) -> list[ConsultationMessage]:
    """The first `limit` messages after `after_id`, with their senders and files: a page that fell
    behind catches up over its next polls rather than in one unbounded answer."""
    return list(db.session.scalars(
        select(ConsultationMessage).where(ConsultationMessage.consultation_id == consultation.id,
                                          ConsultationMessage.id > after_id)
        .options(joinedload(ConsultationMessage.sender, innerjoin=True),
                 joinedload(ConsultationMessage.upload))
        .order_by(ConsultationMessage.id).limit(limit)))


def current_payment(consultation: Consultation) -> Payment | None:
    """The live payment, else the latest one (to show why it failed): one query either way."""
    return db.session.scalar(
        select(Payment).where(Payment.payable_type == PAYABLE, Payment.payable_id == consultation.id)
        .order_by(case((Payment.status.in_(LIVE_STATUSES), 0), else_=1), Payment.id.desc()).limit(1))
