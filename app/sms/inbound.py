"""A patient's SMS reply, acted on: dose answers, a refill request, opt-out and opt-in, help.

Each function adds to the caller's transaction and returns the reply text (None: no reply). After STOP
the number gets one confirmation and then nothing but the answer to START or HELP.
"""

from datetime import timedelta

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from app.accounts.models import Role, User
from app.audit.services import record
from app.database import utcnow
from app.errors import DomainError
from app.extensions import db
from app.integrations.sms import public_url
from app.notifications.models import IGNORES_OPT_OUT, OutboundSms, SmsOptOut, SmsStatus
from app.notifications.services import render_body
from app.notifications.states import MACHINE
from app.reminders.models import DoseAnswer, DoseReminder
from app.sms.keywords import Keyword, classify

ANSWERED_STATUSES = (SmsStatus.SENT, SmsStatus.DELIVERED)


def patient_for(phone: str) -> User | None:
    """The patient whose verified number this is (a number verified by someone else is not theirs)."""
    return db.session.scalar(select(User).where(User.phone == phone, User.role == Role.PATIENT,
                                                User.phone_verified_at.is_not(None)))


def handle(phone: str, body: str) -> str | None:
    keyword = classify(body)
    patient = patient_for(phone)
    locale = patient.locale if patient is not None else None
    stopped = db.session.get(SmsOptOut, phone) is not None
    if keyword == Keyword.STOP:
        return None if stopped else _reply(locale, "reply_stopped", footer=False,
                                           answer=lambda: opt_out(phone, body, patient))
    if keyword == Keyword.START:
        return _reply(locale, "reply_started", answer=lambda: opt_in(phone, patient))
    if keyword == Keyword.HELP:
        return _reply(locale, "reply_help")
    if patient is None:
        return _reply(locale, "reply_unknown_number")
    if keyword in (Keyword.TAKEN, Keyword.SKIPPED):
        answer = DoseAnswer.TAKEN if keyword == Keyword.TAKEN else DoseAnswer.SKIPPED
        template = "reply_dose_" + answer.value if answer_dose(patient, answer) else "reply_no_dose"
    else:
        template, link = request_refill(patient)
        return None if stopped else _reply(locale, template, link=link)
    return None if stopped else _reply(locale, template)


def _reply(locale: str | None, template: str, *, footer: bool = True, answer=None, **context) -> str:
    if answer is not None:
        answer()
    if locale is None:  # a number we do not know: both languages
        return "\n".join(render_body(template, language, footer=footer, **context)
                         for language in ("zh", "en"))
    return render_body(template, locale, footer=footer, **context)


def opt_out(phone: str, keyword: str, patient: User | None) -> None:
    """Stop everything to this number at once: nothing queued leaves (codes and recalls excepted)."""
    db.session.add(SmsOptOut(phone=phone, keyword=(keyword or "").strip()[:20]))
    withdrawn = db.session.execute(MACHINE.guarded_update_many(
        OutboundSms, (OutboundSms.to_phone == phone) & (OutboundSms.status == SmsStatus.QUEUED)
        & OutboundSms.kind.not_in(IGNORES_OPT_OUT), SmsStatus.CANCELLED,
        last_error="the recipient opted out")).rowcount
    db.session.flush()
    record("sms.opted_out", object_type="users", object_id=patient.id if patient else None, patient=patient,
           detail=f"{withdrawn} queued message(s) withdrawn")


def opt_in(phone: str, patient: User | None) -> None:
    """START: texts resume, and the reminders still ahead are planned again."""
    opted = db.session.get(SmsOptOut, phone)
    if opted is None:
        return
    db.session.delete(opted)
    db.session.flush()
    if patient is not None:
        from app.reminders.plans import rebuild

        rebuild(patient)
    record("sms.opted_in", object_type="users", object_id=patient.id if patient else None, patient=patient)


def answer_dose(patient: User, answer: DoseAnswer, now=None) -> bool:
    """Answer the latest dose reminder sent to the patient within DOSE_REPLY_HOURS that has no answer
    yet (all its medicines at once); False when there is none."""
    now = now or utcnow()
    since = now - timedelta(hours=current_app.config["DOSE_REPLY_HOURS"])
    latest = db.session.scalar(
        select(DoseReminder.outbound_sms_id)
        .join(OutboundSms, OutboundSms.id == DoseReminder.outbound_sms_id)
        .where(DoseReminder.patient_id == patient.id, DoseReminder.answer.is_(None),
               DoseReminder.due_at <= now, DoseReminder.due_at >= since,
               OutboundSms.status.in_(ANSWERED_STATUSES))
        .order_by(DoseReminder.due_at.desc(), DoseReminder.outbound_sms_id.desc()).limit(1))
    if latest is None:
        return False
    doses = db.session.scalars(select(DoseReminder).where(DoseReminder.outbound_sms_id == latest,
                                                          DoseReminder.answer.is_(None))).all()
    for dose in doses:
        dose.answer, dose.answered_at = answer, now
    db.session.flush()
    record("dose.answered", object_type="outbound_sms", object_id=latest, patient=patient,
           detail=f"{answer.value}: {len(doses)} medicine(s)")
    return True


def request_refill(patient: User) -> tuple[str, str]:
    """REFILL: book a follow-up with the doctor who wrote the latest prescription the patient received,
    for the same condition, waiting for payment; the reply links to it. Refused bookings (no verified
    condition, too many unpaid) point the patient to the website instead."""
    from app.consultations.services import book
    from app.reminders.plans import latest_received

    received = latest_received(patient)
    if received is None:
        return "reply_refill_nothing", public_url("/consultations/")
    prescription, drug_names = received
    with force_locale(patient.locale):
        reason = _("Refill requested by SMS: %(drugs)s", drugs=", ".join(drug_names))
    try:
        consultation = book(patient, condition_id=prescription.condition_id, doctor_id=prescription.doctor_id,
                            reason=reason)
    except DomainError:
        return "reply_refill_refused", public_url("/consultations/")
    record("refill.requested_by_sms", obj=consultation, patient=patient,
           detail=f"after prescription {prescription.id}")
    return "reply_refill_booked", public_url(f"/consultations/{consultation.id}")
