"""Consultation verbs: book, pay, cancel, accept, decline, message, note, complete, refer, rate, expire."""

import logging
from datetime import timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, or_, select

from app.accounts.models import Role, User
from app.audit.services import record
from app.consultations.actors import (
    PHONE_UNVERIFIED_BOOKING,
    PHONE_UNVERIFIED_PAYMENT,
    require_doctor,
    require_participant,
    require_patient,
    require_verified_phone,
)
from app.consultations.models import PAYABLE, Consultation, ConsultationAttachment, ConsultationMessage
from app.consultations.quotas import check_unpaid_bookings, check_unpaid_uploads
from app.consultations.states import MACHINE, ConsultationStatus
from app.database import claim, utcnow
from app.errors import DomainError
from app.extensions import db
from app.notifications import notices
from app.patients.models import Condition, ConditionStatus, UploadPurpose
from app.patients.uploads import save_upload, upload_path
from app.payments import services as payments
from app.payments.models import Payment, PaymentStatus
from app.policy import patient_access_rules, upload_access_rules

log = logging.getLogger(__name__)

S = ConsultationStatus


# ---- what other features ask: conditions to book for, who may see what --------------------------------

def verified_conditions(patient) -> list[Condition]:
    return list(db.session.scalars(
        select(Condition).where(Condition.patient_id == patient.id,
                                Condition.status == ConditionStatus.VERIFIED)
        .order_by(Condition.diagnosed_on.desc())))


# What a doctor sees of their consultations, and through them of the patient: one waiting in their
# queue (paid), one they accepted, one they declined (their decision stays explainable). A booking that
# ended before they took it up (unpaid, cancelled by the patient, expired) gives them no reason to.
SEEN_BY_DOCTOR = frozenset({S.WAITING, S.IN_PROGRESS, S.COMPLETED, S.REFERRED, S.DECLINED})


def reached_doctor(consultation: Consultation) -> bool:
    return consultation.status in SEEN_BY_DOCTOR and consultation.paid_at is not None


def visible_to(consultation: Consultation, user) -> bool:
    """The object check: a patient their own; a doctor those assigned to them once paid."""
    if user.role == Role.PATIENT:
        return consultation.patient_id == user.id
    if user.role == Role.DOCTOR:
        return consultation.doctor_id == user.id and reached_doctor(consultation)
    return False


def doctor_sees_patient(user, patient_id: int) -> bool:
    """Access rule: a doctor sees the patients of their own consultations (any that reached them)."""
    if user.role != Role.DOCTOR:
        return False
    return bool(db.session.scalar(select(exists().where(
        Consultation.doctor_id == user.id, Consultation.patient_id == patient_id,
        Consultation.status.in_(SEEN_BY_DOCTOR), Consultation.paid_at.is_not(None)))))


def file_visible(user, upload) -> bool:
    """Upload rule: a consultation's attachments and thread files go to whoever may see the consultation."""
    owners = db.session.scalars(select(Consultation).where(or_(
        Consultation.id.in_(select(ConsultationAttachment.consultation_id)
                            .where(ConsultationAttachment.upload_id == upload.id)),
        Consultation.id.in_(select(ConsultationMessage.consultation_id)
                            .where(ConsultationMessage.upload_id == upload.id)))))
    return any(visible_to(consultation, user) for consultation in owners)


# ---- changing ------------------------------------------------------------------------------------

def _locked(consultation: Consultation) -> Consultation:
    """Re-read under a row lock so two clicks (or a click and the worker) cannot both act."""
    return db.session.scalar(select(Consultation).where(Consultation.id == consultation.id)
                             .with_for_update().execution_options(populate_existing=True))


def _locked_with_payment(consultation: Consultation) -> Consultation:
    """Lock the live payment first, then the consultation: the webhook takes them in that order
    (payment, then on_paid's consultation), so taking them the other way round could deadlock."""
    payment = payments.live_payment(PAYABLE, consultation.id)
    if payment is not None:
        db.session.execute(select(Payment.id).where(Payment.id == payment.id).with_for_update())
    return _locked(consultation)


def _close(consultation: Consultation, target: ConsultationStatus, reason: str | None,
           action: str) -> None:
    """End the consultation and ask for whatever the patient did not receive to be given back, once.

    The release (cancel or refund) is recorded here and performed after the commit: no call to
    Stripe while the consultation and payment rows are locked.
    """
    MACHINE.move(consultation, target)
    consultation.ended_at = utcnow()
    consultation.end_reason = reason
    consultation.expires_at = None
    payments.release(payments.live_payment(PAYABLE, consultation.id), str(target))
    db.session.flush()
    record(action, obj=consultation, patient=consultation.patient_id, detail=reason)


def book(patient, *, condition_id, doctor_id, reason: str, files=()) -> Consultation:
    """A new consultation awaiting payment; refused for a condition that is not the patient's and verified,
    and while the patient already has CONSULTATION_MAX_UNPAID unpaid bookings open."""
    if patient is None or patient.role != Role.PATIENT:
        raise DomainError(_l("Only a patient can book a consultation."))
    require_verified_phone(patient, PHONE_UNVERIFIED_BOOKING)
    condition = db.session.get(Condition, condition_id) if condition_id else None
    if condition is None or condition.patient_id != patient.id:
        raise DomainError({"condition_id": _l("Choose one of your own conditions.")})
    if condition.status != ConditionStatus.VERIFIED:
        raise DomainError({"condition_id": _l(
            "Online consultations are only for a condition whose diagnosis staff have verified.")})
    doctor = db.session.get(User, doctor_id) if doctor_id else None
    profile = doctor.doctor_profile if doctor is not None and doctor.role == Role.DOCTOR else None
    if profile is None or not profile.is_verified or not doctor.is_active:
        raise DomainError({"doctor_id": _l("Choose one of the doctors listed.")})
    reason = (reason or "").strip()
    if not reason:
        raise DomainError({"reason": _l("Tell the doctor why you need this consultation.")})
    check_unpaid_bookings(patient)  # locks the patient's row: two bookings at once are counted in turn
    now = utcnow()
    consultation = Consultation(
        patient_id=patient.id, doctor_id=doctor.id, condition_id=condition.id, reason=reason,
        status=S.AWAITING_PAYMENT, fee_fen=profile.consultation_fee_fen,
        currency=current_app.config["PAYMENT_CURRENCY"], created_at=now,
        expires_at=now + timedelta(minutes=current_app.config["CONSULTATION_PAYMENT_MINUTES"]))
    db.session.add(consultation)
    db.session.flush()
    saved = []
    try:
        for file in files:
            upload = save_upload(file, patient=patient, uploaded_by=patient,
                                 purpose=UploadPurpose.CONSULTATION, field="attachments")
            saved.append(upload)
            db.session.add(ConsultationAttachment(consultation_id=consultation.id, upload_id=upload.id))
        check_unpaid_uploads(patient)  # this booking's files count too: it is unpaid
    except DomainError:
        # The rows roll back with the request; the files already written would be orphans.
        for upload in saved:
            upload_path(upload).unlink(missing_ok=True)
        raise
    db.session.flush()
    record("consultation.booked", obj=consultation, patient=patient,
           detail=f"doctor {doctor.id}, condition {condition.id}, {len(saved)} attachment(s)")
    return consultation


def start_payment(consultation: Consultation, *, method_type: str = "card") -> Payment:
    """The pending payment row for payments.start, which commits it before asking Stripe."""
    consultation = _locked(consultation)
    require_verified_phone(consultation.patient, PHONE_UNVERIFIED_PAYMENT)
    if consultation.status != S.AWAITING_PAYMENT:
        raise DomainError(_l("This consultation has already been paid.") if consultation.paid_at
                          else _l("This consultation can no longer be paid."))
    live = payments.live_payment(PAYABLE, consultation.id)
    if live is not None and not live.stripe_payment_intent_id:
        return live  # its intent was never created (the request died): completed, not duplicated
    return payments.create_payment(payable_type=PAYABLE, payable_id=consultation.id,
                                   patient=consultation.patient, amount_fen=consultation.fee_fen,
                                   method_type=method_type)


def _on_paid(payment: Payment) -> None:
    """Called inside the verified webhook's transaction: the consultation joins the doctor's queue."""
    consultation = db.session.scalar(select(Consultation).where(Consultation.id == payment.payable_id)
                                     .with_for_update())
    if consultation is None:
        return
    if consultation.status != S.AWAITING_PAYMENT:
        # Cancelled or expired while the payment was on its way: give the money straight back.
        log.info("payment %s arrived for closed consultation %s; releasing", payment.id, consultation.id)
        payments.release(payment, "closed")
        return
    now = utcnow()
    MACHINE.move(consultation, S.WAITING)
    consultation.paid_at = now
    consultation.expires_at = now + timedelta(hours=current_app.config["CONSULTATION_ACCEPT_HOURS"])
    db.session.flush()
    record("consultation.paid", obj=consultation, patient=consultation.patient_id,
           detail=f"payment {payment.id}")


def _on_failed(payment: Payment) -> None:
    """A declined payment leaves the consultation awaiting payment; the patient may try again."""
    record("consultation.payment_failed", object_type="consultations", object_id=payment.payable_id,
           patient=payment.patient_id, detail=payment.failure_message)


def cancel(consultation: Consultation, patient) -> None:
    require_patient(consultation, patient)
    _close(_locked_with_payment(consultation), S.CANCELLED, None, "consultation.cancelled")


def accept(consultation: Consultation, doctor) -> None:
    """The doctor takes the consultation; the held money is asked to be captured, exactly once.

    The consultation is accepted whatever Stripe says: the capture is performed after the commit
    (and retried by the worker). Should it fail for good, the consultation goes on — the doctor has
    started — and the failed operation is logged and audited for operations staff to collect.
    """
    require_doctor(consultation, doctor)
    consultation = _locked_with_payment(consultation)
    MACHINE.move(consultation, S.IN_PROGRESS)
    payment = payments.live_payment(PAYABLE, consultation.id)
    if payment is None or payment.status not in (PaymentStatus.AUTHORIZED, PaymentStatus.CAPTURED):
        raise DomainError(_l("The payment for this consultation is not confirmed yet."))
    payments.capture(payment)
    consultation.accepted_at = utcnow()
    consultation.expires_at = None
    db.session.flush()
    record("consultation.accepted", obj=consultation, patient=consultation.patient_id)
    notices.consultation_accepted(consultation)


def decline(consultation: Consultation, doctor, reason: str) -> None:
    require_doctor(consultation, doctor)
    if not (reason or "").strip():
        raise DomainError({"reason": _l("Give the patient a reason.")})
    _close(_locked_with_payment(consultation), S.DECLINED, reason.strip(), "consultation.declined")


def refer(consultation: Consultation, doctor, reason: str) -> None:
    """Needs an in-person visit: the consultation ends and the fee is refunded."""
    require_doctor(consultation, doctor)
    if not (reason or "").strip():
        raise DomainError({"reason": _l("Tell the patient why an in-person visit is needed.")})
    _close(_locked_with_payment(consultation), S.REFERRED, reason.strip(), "consultation.referred")


NOTE_FIELDS = ("complaint", "findings", "assessment", "plan")


def save_note(consultation: Consultation, doctor, **note: str) -> None:
    require_doctor(consultation, doctor)
    consultation = _locked(consultation)
    if consultation.status != S.IN_PROGRESS:
        raise DomainError(_l("The note can only be changed while the consultation is in progress."))
    for name in NOTE_FIELDS:
        setattr(consultation, name, (note.get(name) or "").strip() or None)
    db.session.flush()
    record("consultation.note_saved", obj=consultation, patient=consultation.patient_id)


def complete(consultation: Consultation, doctor) -> None:
    require_doctor(consultation, doctor)
    consultation = _locked(consultation)
    missing = [name for name in NOTE_FIELDS if not getattr(consultation, name)]
    if consultation.status == S.IN_PROGRESS and missing:
        raise DomainError(_l("Write the note (complaint, findings, assessment and plan) before completing."))
    MACHINE.move(consultation, S.COMPLETED)
    consultation.ended_at = utcnow()
    db.session.flush()
    record("consultation.completed", obj=consultation, patient=consultation.patient_id)


def rate(consultation: Consultation, patient, rating: int, comment: str = "") -> None:
    require_patient(consultation, patient)
    consultation = _locked(consultation)
    if consultation.status != S.COMPLETED:
        raise DomainError(_l("Only a completed consultation can be rated."))
    if consultation.rated_at is not None:
        raise DomainError(_l("You have already rated this consultation."))
    if rating not in range(1, 6):
        raise DomainError({"rating": _l("Choose 1 to 5 stars.")})
    consultation.rating = rating
    consultation.rating_comment = (comment or "").strip()[:500] or None
    consultation.rated_at = utcnow()
    db.session.flush()
    record("consultation.rated", obj=consultation, patient=consultation.patient_id, detail=str(rating))


def post_message(consultation: Consultation, sender, body: str, file=None) -> ConsultationMessage:
    """A message (text and/or one file) in an in-progress consultation's thread, from one of its two."""
    require_participant(consultation, sender)
    consultation = _locked(consultation)  # a message cannot slip in after the doctor closed it
    if consultation.status != S.IN_PROGRESS:
        raise DomainError(_l("This consultation is closed; messages can no longer be sent."))
    body = (body or "").strip()
    has_file = file is not None and bool(file.filename)
    if not body and not has_file:
        raise DomainError({"body": _l("Write a message or attach a file.")})
    upload = None
    if has_file:
        upload = save_upload(file, patient=consultation.patient, uploaded_by=sender,
                             purpose=UploadPurpose.MESSAGE, field="attachment")
    message = ConsultationMessage(consultation_id=consultation.id, sender_id=sender.id, body=body,
                                  upload_id=upload.id if upload else None)
    db.session.add(message)
    db.session.flush()
    record("consultation.message_sent", obj=message, patient=consultation.patient_id)
    if sender.id == consultation.doctor_id:
        notices.doctor_replied(consultation)
    return message


def due_for_expiry(limit: int):
    return (select(Consultation).where(Consultation.status.in_((S.AWAITING_PAYMENT, S.WAITING)),
                                       Consultation.expires_at <= utcnow())
            .order_by(Consultation.expires_at, Consultation.id).limit(limit))


def expire_due(limit: int) -> int:
    """Worker job: lapse unpaid and unaccepted consultations and release their money, once each."""
    dialect = db.session.get_bind().dialect.name
    due = db.session.scalars(claim(due_for_expiry(limit), dialect)).all()
    handled = 0
    for consultation in due:
        payment = payments.live_payment(PAYABLE, consultation.id)
        if payment is not None and not _try_lock_payment(payment, dialect):
            continue  # a webhook is applying this payment now; the next sweep takes it
        # The release is only recorded here; the payment-operations job performs it after the commit.
        _close(consultation, S.EXPIRED, None, "consultation.expired")
        handled += 1
    return handled


def _try_lock_payment(payment: Payment, dialect: str) -> bool:
    """Lock the payment without waiting, so the worker never deadlocks with a webhook in flight."""
    statement = select(Payment.id).where(Payment.id == payment.id)
    if dialect == "postgresql":
        statement = statement.with_for_update(skip_locked=True)
    return db.session.scalar(statement) is not None


payments.register_payable(PAYABLE, payments.PayableHandlers(on_paid=_on_paid, on_failed=_on_failed))
patient_access_rules.append(doctor_sees_patient)
upload_access_rules[UploadPurpose.CONSULTATION.value] = file_visible
upload_access_rules[UploadPurpose.MESSAGE.value] = file_visible
