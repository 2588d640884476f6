"""News a patient gets by SMS about their own care, through the outbox like every other message.

Only a verified number whose owner agreed to SMS (the sms_reminders consent) is texted, and not one
that answered STOP; the pages show the same news to everyone. A safety recall is the exception: it
goes to every patient who received the lot, consent or not.
"""

from app.notifications.models import SmsKind


def notify(patient, template: str, *, kind: SmsKind = SmsKind.NOTICE, **context):
    """Queue the message in the caller's transaction (None when the patient is not to be texted)."""
    from app.notifications.services import queue_sms  # the outbox renders templates with the app
    from app.patients.models import ConsentKind
    from app.patients.queries import active_consent

    if not patient.has_verified_phone:
        return None
    if kind != SmsKind.SAFETY and active_consent(patient, ConsentKind.SMS_REMINDERS) is None:
        return None
    return queue_sms(to_phone=patient.phone, template=template, locale=patient.locale, user=patient,
                     kind=kind, **context)


def consultation_accepted(consultation) -> None:
    notify(consultation.patient, "consultation_accepted", doctor=consultation.doctor.display_name)


def doctor_replied(consultation) -> None:
    """One text while the patient has not been told yet: a doctor's burst of messages is one notice."""
    from sqlalchemy import select

    from app.extensions import db
    from app.notifications.models import OutboundSms, SmsStatus

    waiting = db.session.scalar(select(OutboundSms.id).where(
        OutboundSms.user_id == consultation.patient_id, OutboundSms.purpose == "consultation_message",
        OutboundSms.status == SmsStatus.QUEUED).limit(1))
    if waiting is None:
        notify(consultation.patient, "consultation_message", doctor=consultation.doctor.display_name,
               consultation=consultation.id)


def prescription_decided(prescription, approved: bool) -> None:
    notify(prescription.patient, "prescription_approved" if approved else "prescription_returned",
           prescription=prescription.id)


def lot_recalled(patient, drug_title: str, lot_number: str) -> None:
    notify(patient, "lot_recalled", kind=SmsKind.SAFETY, drug=drug_title, lot=lot_number)
