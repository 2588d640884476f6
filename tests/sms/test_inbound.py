"""A patient's SMS replies through POST /sms/inbound, signed as Twilio signs them: opt-out and opt-in,
dose answers, a refill request, help; a forged signature changes nothing."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from app.audit.models import AuditEvent
from app.consultations.models import Consultation
from app.consultations.states import ConsultationStatus
from app.database import utcnow
from app.extensions import db as _db
from app.notifications import services as outbox
from app.notifications.models import OutboundSms, SmsKind, SmsOptOut, SmsStatus
from app.reminders.models import DoseAnswer, DoseReminder
from app.sms import inbound

STOP_WORDS = ["STOP", "stop", "StopAll", "UNSUBSCRIBE", "end", "QUIT", "cancel", "T", "td", "R", "退订",
              " Stop. "]


def _reply(answer) -> str:
    assert answer.status_code == 200 and answer.mimetype == "application/xml"
    return answer.get_data(as_text=True)


def _inbound(twilio_post, phone, body, **extra):
    return twilio_post("/sms/inbound", {"From": phone, "To": "+15005550006", "Body": body,
                                        "MessageSid": "SM" + "9" * 32, **extra})


def _queued(patient, kind=SmsKind.DOSE) -> int:
    return _db.session.scalar(select(func.count()).select_from(OutboundSms).where(
        OutboundSms.user_id == patient.id, OutboundSms.kind == kind, OutboundSms.status == SmsStatus.QUEUED))


def _first_dose_due_now(patient) -> OutboundSms:
    """Bring the patient's first dose reminder to now, as the clock would."""
    first = _db.session.scalar(select(OutboundSms).where(OutboundSms.user_id == patient.id,
                                                         OutboundSms.kind == SmsKind.DOSE,
                                                         OutboundSms.status == SmsStatus.QUEUED)
                               .order_by(OutboundSms.scheduled_for, OutboundSms.id).limit(1))
    now = utcnow() - timedelta(seconds=1)
    first.scheduled_for = first.next_attempt_at = now
    _db.session.execute(update(DoseReminder).where(DoseReminder.outbound_sms_id == first.id)
                        .values(due_at=now))
    _db.session.commit()
    return first


def test_a_forged_signature_is_refused_and_changes_nothing(db, fake_twilio, twilio_post, receive):
    order = receive()
    patient = order.patient
    before = _queued(patient)
    params = {"From": patient.phone, "Body": "STOP"}
    for signature in ("forged", "", "a" * 28):
        answer = twilio_post("/sms/inbound", params, signature=signature)
        assert answer.status_code == 403
    assert _db.session.get(SmsOptOut, patient.phone) is None and _queued(patient) == before > 0
    # Signed for another number than the one posted: refused too.
    from app.integrations.sms import sign

    other = sign("/sms/inbound", {"From": "+8613900009999", "Body": "STOP"})
    assert twilio_post("/sms/inbound", params, signature=other).status_code == 403
    assert _db.session.get(SmsOptOut, patient.phone) is None


@pytest.mark.parametrize("word", STOP_WORDS)
def test_every_stop_word_opts_out_at_once(db, fake_twilio, twilio_post, word):
    phone = "+8613900000071"
    text = _reply(_inbound(twilio_post, phone, word))
    assert "no more texts" in text
    assert _db.session.get(SmsOptOut, phone) is not None


def test_stop_withdraws_the_reminders_and_nothing_is_sent_until_start(db, fake_twilio, twilio_post, receive):
    order = receive()
    patient = order.patient
    assert _queued(patient) > 0 and _queued(patient, SmsKind.REFILL) > 0
    first = _first_dose_due_now(patient)

    text = _reply(_inbound(twilio_post, patient.phone, "STOP"))
    assert "Reply START" in text and "Reply STOP" not in text
    assert _queued(patient) == 0 and _queued(patient, SmsKind.REFILL) == 0
    assert _db.session.get(OutboundSms, first.id).status == SmsStatus.CANCELLED
    # One confirmation, then nothing: a second STOP and other words get no answer.
    assert "<Message>" not in _reply(_inbound(twilio_post, patient.phone, "STOP"))
    assert "<Message>" not in _reply(_inbound(twilio_post, patient.phone, "1"))
    # A notice queued meanwhile is not queued at all; the worker sends nothing.
    from app.orders import notices

    notices.delivered(order)
    _db.session.commit()
    outbox.send_due_sms(50)
    assert fake_twilio.accepted() == []

    text = _reply(_inbound(twilio_post, patient.phone, "START"))
    assert "back on" in text
    assert _db.session.get(SmsOptOut, patient.phone) is None
    assert _queued(patient) > 0 and _queued(patient, SmsKind.REFILL) > 0  # the plan is back
    _first_dose_due_now(patient)
    outbox.send_due_sms(50)
    [sent] = fake_twilio.accepted()
    assert sent["to"] == patient.phone and "Reply 1 when taken" in sent["body"]
    actions = set(_db.session.scalars(select(AuditEvent.action).where(AuditEvent.patient_id == patient.id)))
    assert {"sms.opted_out", "sms.opted_in"} <= actions


def test_chinese_stop_works_like_stop_and_answers_in_chinese(db, fake_twilio, twilio_post, receive):
    order = receive()
    patient = order.patient
    patient.locale = "zh"
    _db.session.commit()
    text = _reply(_inbound(twilio_post, patient.phone, "退订"))
    assert "START" in text and "不再" in text
    assert _db.session.get(SmsOptOut, patient.phone).keyword == "退订"
    assert _queued(patient) == 0


def _answers(message_id):
    return set(_db.session.scalars(select(DoseReminder.answer)
                                   .where(DoseReminder.outbound_sms_id == message_id)))


@pytest.mark.parametrize(("word", "answer"), [("1", DoseAnswer.TAKEN), ("taken", DoseAnswer.TAKEN),
                                              ("YES", DoseAnswer.TAKEN), ("已服", DoseAnswer.TAKEN),
                                              ("2", DoseAnswer.SKIPPED), ("Skip", DoseAnswer.SKIPPED),
                                              ("未服", DoseAnswer.SKIPPED)])
def test_a_reply_answers_the_latest_dose_reminder_sent(db, fake_twilio, twilio_post, receive, word, answer):
    from tests.orders.conftest import AMLODIPINE
    from tests.sms.conftest import METFORMIN_BID

    order = receive(AMLODIPINE, METFORMIN_BID)
    patient = order.patient
    first = _first_dose_due_now(patient)
    outbox.send_due_sms(50)
    text = _reply(_inbound(twilio_post, patient.phone, word))
    assert ("recorded as taken" if answer == DoseAnswer.TAKEN else "recorded as skipped") in text
    assert _answers(first.id) == {answer}
    # Answered: a second reply finds nothing waiting.
    assert "no dose reminder" in _reply(_inbound(twilio_post, patient.phone, word))


def test_a_reply_answers_within_twelve_hours_and_not_after(db, fake_twilio, receive, app):
    order = receive()
    patient = order.patient
    first = _first_dose_due_now(patient)
    outbox.send_due_sms(50)
    due = _db.session.get(OutboundSms, first.id).scheduled_for
    hours = app.config["DOSE_REPLY_HOURS"]
    assert hours == 12
    late = due + timedelta(hours=hours, seconds=1)
    assert inbound.answer_dose(patient, DoseAnswer.TAKEN, now=late) is False
    # Not yet due.
    assert inbound.answer_dose(patient, DoseAnswer.TAKEN, now=due - timedelta(seconds=1)) is False
    assert inbound.answer_dose(patient, DoseAnswer.TAKEN, now=due + timedelta(hours=hours)) is True
    assert _answers(first.id) == {DoseAnswer.TAKEN}


def test_a_reminder_not_yet_sent_cannot_be_answered(db, fake_twilio, receive):
    order = receive()
    first = _first_dose_due_now(order.patient)  # due, but the worker has not sent it
    assert inbound.answer_dose(order.patient, DoseAnswer.TAKEN) is False
    assert _answers(first.id) == {None}


def test_refill_books_a_follow_up_with_the_same_doctor_and_links_to_it(db, fake_twilio, twilio_post, receive):
    order = receive()
    patient = order.patient
    text = _reply(_inbound(twilio_post, patient.phone, "refill"))
    booked = _db.session.scalar(select(Consultation).where(Consultation.patient_id == patient.id)
                                .order_by(Consultation.id.desc()).limit(1))
    assert booked.status == ConsultationStatus.AWAITING_PAYMENT
    assert (booked.doctor_id, booked.condition_id) == (order.prescription.doctor_id,
                                                       order.prescription.condition_id)
    assert "Refill requested by SMS" in booked.reason and "Amlodipine" in booked.reason
    assert f"https://hospital.example/consultations/{booked.id}" in text
    assert "续方" not in text and "Reply STOP to opt out." in text


def test_chinese_refill_word_works_too(db, fake_twilio, twilio_post, receive):
    order = receive()
    text = _reply(_inbound(twilio_post, order.patient.phone, "续方"))
    assert "/consultations/" in text


@pytest.mark.parametrize("body", ["HELP", "info", "帮助", "what is this?", ""])
def test_help_and_anything_else_get_the_help_text(db, fake_twilio, twilio_post, receive, body):
    order = receive()
    text = _reply(_inbound(twilio_post, order.patient.phone, body))
    assert "reply 1 when you have taken a dose" in text and "Reply STOP to opt out." in text


def test_an_unknown_number_gets_help_in_both_languages(db, fake_twilio, twilio_post):
    text = _reply(_inbound(twilio_post, "+8613900000072", "HELP"))
    assert "reply 1 when you have taken a dose" in text and "回复" in text
    text = _reply(_inbound(twilio_post, "+8613900000072", "1"))
    assert "not a verified patient number" in text


def test_behind_a_proxy_the_signature_is_checked_against_the_public_url(db, fake_twilio, client, app):
    """The proxy forwards to an internal address; Twilio signed the public one (PUBLIC_BASE_URL)."""
    from app.integrations.sms import sign

    params = {"From": "+8613900000073", "Body": "HELP"}
    headers = {"X-Twilio-Signature": sign("/sms/inbound", params), "Host": "10.0.0.5:8000",
               "X-Forwarded-Proto": "http", "X-Forwarded-Host": "10.0.0.5"}
    answer = client.post("/sms/inbound", data=params, headers=headers, base_url="http://10.0.0.5:8000")
    assert answer.status_code == 200 and "<Message>" in answer.get_data(as_text=True)
    # Signed against the internal address instead: refused.
    from twilio.request_validator import RequestValidator

    internal = RequestValidator(app.config["TWILIO_AUTH_TOKEN"]).compute_signature(
        "http://10.0.0.5:8000/sms/inbound", params)
    answer = client.post("/sms/inbound", data=params, headers={**headers, "X-Twilio-Signature": internal},
                         base_url="http://10.0.0.5:8000")
    assert answer.status_code == 403
