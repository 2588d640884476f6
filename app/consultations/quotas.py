"""Limits on unpaid bookings: how many may be open per patient, and how much they may hold in files.

An unpaid booking costs nothing to make, so without these one account could open bookings
without end and park files on the server through them.
"""

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from app.accounts.models import User
from app.consultations.models import Consultation, ConsultationAttachment
from app.consultations.states import ConsultationStatus
from app.errors import DomainError
from app.extensions import db
from app.patients.models import Upload


def _human_size(size: int) -> str:
    """30 MB, 2.5 MB, 2.9 KB: one decimal at most, in the larger unit that fits."""
    value, unit = (size / (1024 * 1024), "MB") if size >= 1024 * 1024 else (size / 1024, "KB")
    return f"{value:.1f}".removesuffix(".0") + f" {unit}"


def check_unpaid_bookings(patient) -> None:
    """Refuse a new booking while CONSULTATION_MAX_UNPAID are already awaiting payment.

    The patient's row is locked first, so two bookings sent at once are counted one after the other.
    """
    db.session.execute(select(User.id).where(User.id == patient.id).with_for_update())
    limit = current_app.config["CONSULTATION_MAX_UNPAID"]
    unpaid = db.session.scalar(select(func.count()).select_from(Consultation).where(
        Consultation.patient_id == patient.id, Consultation.status == ConsultationStatus.AWAITING_PAYMENT))
    if unpaid >= limit:
        raise DomainError(_l("You already have %(count)d unpaid bookings. Pay for or cancel one of them "
                             "before booking another consultation.", count=unpaid))


def check_unpaid_uploads(patient) -> None:
    """Refuse when the files on the patient's unpaid bookings (this one included) exceed the quota."""
    count, size = db.session.execute(
        select(func.count(Upload.id), func.coalesce(func.sum(Upload.size_bytes), 0))
        .select_from(ConsultationAttachment)
        .join(Upload, Upload.id == ConsultationAttachment.upload_id)
        .join(Consultation, Consultation.id == ConsultationAttachment.consultation_id)
        .where(Consultation.patient_id == patient.id,
               Consultation.status == ConsultationStatus.AWAITING_PAYMENT)).one()
    max_count = current_app.config["UNPAID_BOOKING_UPLOAD_COUNT"]
    max_bytes = current_app.config["UNPAID_BOOKING_UPLOAD_BYTES"]
    if count > max_count:
        raise DomainError({"attachments": _l(
            "Your unpaid bookings may hold at most %(count)d files in all. Pay for or cancel a booking, "
            "or attach fewer files.", count=max_count)})
    if size > max_bytes:
        raise DomainError({"attachments": _l(
            "Your unpaid bookings may hold at most %(size)s of files in all. Pay for or cancel a booking, "
            "or attach smaller files.", size=_human_size(max_bytes))})
