"""Transactional SMS go through the same outbox rows: consultation accepted, the doctor's reply,
prescription approved or returned, a lot recall; opt-out and consent respected except for recalls;
quiet hours respected except for codes."""

from datetime import UTC, datetime

from sqlalchemy import select

from app.consultations import services as consultations
from app.extensions import db as _db
from app.inventory.recall import recall_lot
from app.notifications import services as outbox
from app.notifications.models import OutboundSms, SmsKind, SmsOptOut, SmsStatus
from app.patients.models import ConsentKind
from app.patients.services import grant_consent, revoke_consent
from app.review import services as review
from tests import factories
from tests.sms.conftest import AMLODIPINE


def _texts(patient, purpose=None) -> list[OutboundSms]:
    statement = select(OutboundSms).where(OutboundSms.user_id == patient.id)
    if purpose:
        statement = statement.where(OutboundSms.purpose == purpose)
    return list(_db.session.scalars(statement.order_by(OutboundSms.id)))


def test_accepting_a_consultation_texts_a_patient_who_agreed(db, flow):
    consultation = flow.paid()
    patient = consultation.patient
    grant_consent(patient, ConsentKind.SMS_REMINDERS)
    consultations.accept(consultation, consultation.doctor)
    _db.session.commit()
    [text] = _texts(patient, "consultation_accepted")
    assert consultation.doctor.display_name in text.body and text.kind == SmsKind.NOTICE
    assert text.body.endswith("Reply STOP to opt out.")


def test_no_text_without_the_sms_consent(db, flow):
    consultation = flow.accepted()
    assert _texts(consultation.patient, "consultation_accepted") == []


def test_a_burst_of_doctor_messages_is_one_text_and_the_patients_own_none(db, flow):
    consultation = flow.accepted()
    patient = consultation.patient
    grant_consent(patient, ConsentKind.SMS_REMINDERS)
    for body in ("Please measure your blood pressure.", "Twice a day."):
        consultations.post_message(consultation, consultation.doctor, body)
    consultations.post_message(consultation, patient, "OK")
    _db.session.commit()
    assert len(_texts(patient, "consultation_message")) == 1
    outbox.send_due_sms(10)  # told: the next reply is news again
    consultations.post_message(consultation, consultation.doctor, "And drink water.")
    _db.session.commit()
    assert len(_texts(patient, "consultation_message")) == 2


def test_a_pharmacists_decision_is_texted(db, sign, pharmacists, texted):
    prescription = sign(AMLODIPINE)
    review.claim(prescription, pharmacists[0])
    review.decide(prescription, pharmacists[0], "approved")
    _db.session.commit()
    [text] = _texts(prescription.patient, "prescription_approved")
    assert f"prescription {prescription.id} was approved" in text.body


def test_a_returned_prescription_is_texted(db, sign, pharmacists, texted):
    prescription = sign(AMLODIPINE)
    review.claim(prescription, pharmacists[0])
    review.decide(prescription, pharmacists[0], "returned", reason_codes=["dose"])
    _db.session.commit()
    assert len(_texts(prescription.patient, "prescription_returned")) == 1


def test_a_recall_reaches_every_recipient_even_after_stop_and_without_consent(db, receive, shop, fake_twilio):
    order = receive(AMLODIPINE)
    patient = order.patient
    revoke_consent(patient, ConsentKind.SMS_REMINDERS)
    _db.session.add(SmsOptOut(phone=patient.phone, keyword="STOP"))
    _db.session.commit()
    [pack] = _packs(order)
    recall_lot(pack.drug, pack.lot.lot_number, factories.make_user("admin"), "Manufacturer notice 2026-17")
    _db.session.commit()
    [text] = _texts(patient, "lot_recalled")
    assert text.kind == SmsKind.SAFETY and pack.lot.lot_number in text.body and "SAFETY" in text.body
    outbox.send_due_sms(50)
    assert [m["body"] for m in fake_twilio.accepted()] == [text.body]
    assert _db.session.get(OutboundSms, text.id).status == SmsStatus.SENT


def _packs(order):
    from app.orders.models import Dispense

    return _db.session.scalar(select(Dispense).where(Dispense.order_id == order.id)).packs


def test_a_notice_in_quiet_hours_waits_for_the_morning_and_a_code_does_not(db, app, monkeypatch):
    monkeypatch.setitem(app.config, "SMS_QUIET_START", "21:00")
    monkeypatch.setitem(app.config, "SMS_QUIET_END", "08:00")
    patient = factories.make_patient(time_zone="Asia/Shanghai")
    late = datetime(2026, 3, 2, 15, 30, tzinfo=UTC)  # 23:30 in Shanghai
    with app.test_request_context():
        notice = outbox.queue_sms(to_phone=patient.phone, template="consultation_accepted", locale="en",
                                  user=patient, send_at=late, doctor="Dr Li")
        code = outbox.queue_sms(to_phone=patient.phone, template="phone_verification", locale="en",
                                user=patient, sensitive=True, send_at=late, code="123456", minutes=10)
        boundary = outbox.queue_sms(to_phone=patient.phone, template="consultation_accepted", locale="en",
                                    user=patient, send_at=late.replace(hour=0, minute=0), doctor="Dr Li")
        before = outbox.queue_sms(to_phone=patient.phone, template="consultation_accepted", locale="en",
                                  user=patient, send_at=late.replace(hour=12, minute=59), doctor="Dr Li")
    assert notice.next_attempt_at == datetime(2026, 3, 3, 0, 0, tzinfo=UTC)  # 08:00 in Shanghai
    assert code.next_attempt_at == late
    assert boundary.next_attempt_at == late.replace(hour=0, minute=0)  # 08:00 itself is not quiet
    assert before.next_attempt_at == late.replace(hour=12, minute=59)  # 20:59 is not quiet yet
    with app.test_request_context():
        at_nine = outbox.queue_sms(to_phone=patient.phone, template="consultation_accepted", locale="en",
                                   user=patient, send_at=late.replace(hour=13, minute=0), doctor="Dr Li")
    assert at_nine.next_attempt_at == datetime(2026, 3, 3, 0, 0, tzinfo=UTC)  # 21:00 is quiet
