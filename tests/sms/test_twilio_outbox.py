"""The outbox sends through the official Twilio library to the fake server: what Twilio receives,
retries after transient errors, no retry after a permanent one, and signed delivery reports."""

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from app.database import utcnow
from app.extensions import db as _db
from app.notifications import services as outbox
from app.notifications.models import OutboundSms, SmsKind, SmsStatus
from tests.sms.conftest import PUBLIC_BASE, SERVICE_SID

PHONE = "+8613900000061"


def _queue(body="Your order is ready.", phone=PHONE, kind=SmsKind.NOTICE) -> int:
    message = OutboundSms(to_phone=phone, purpose="test", body=body, kind=kind)
    _db.session.add(message)
    _db.session.commit()
    return message.id


def _row(message_id: int) -> OutboundSms:
    _db.session.expire_all()
    return _db.session.get(OutboundSms, message_id)


def _make_due(message_id: int) -> None:
    """The retry's delay has passed."""
    _db.session.execute(update(OutboundSms).where(OutboundSms.id == message_id)
                        .values(next_attempt_at=utcnow() - timedelta(seconds=1)))
    _db.session.commit()


def test_a_message_reaches_twilio_with_the_service_and_the_status_callback(db, fake_twilio):
    message_id = _queue()
    assert outbox.send_due_sms(10) == 1
    [accepted] = fake_twilio.accepted()
    assert (accepted["to"], accepted["body"]) == (PHONE, "Your order is ready.")
    assert accepted["messaging_service_sid"] == SERVICE_SID
    assert accepted["status_callback"] == PUBLIC_BASE + "/sms/status"
    row = _row(message_id)
    assert (row.status, row.attempts, row.provider_message_id) == (SmsStatus.SENT, 1, accepted["sid"])


def test_twilio_failing_for_a_while_is_retried_and_the_message_sent_once_it_recovers(db, fake_twilio, app):
    message_id = _queue()
    fake_twilio.fail_next(2, status=500)
    for attempt in (1, 2):
        before = utcnow()
        outbox.send_due_sms(10)
        row = _row(message_id)
        assert (row.status, row.attempts) == (SmsStatus.QUEUED, attempt)
        # Waits longer after each failure: 2, then 4 minutes.
        assert row.next_attempt_at >= before + timedelta(minutes=2 ** attempt)
        assert "500" in row.last_error
        assert outbox.send_due_sms(10) == 0  # not due yet: nothing is sent early
        _make_due(message_id)
    outbox.send_due_sms(10)
    row = _row(message_id)
    assert (row.status, row.attempts, row.last_error) == (SmsStatus.SENT, 3, None)
    assert len(fake_twilio.accepted()) == 1


def test_too_many_requests_is_transient(db, fake_twilio):
    message_id = _queue()
    fake_twilio.fail_next(1, status=429, code=20429)
    outbox.send_due_sms(10)
    assert _row(message_id).status == SmsStatus.QUEUED


@pytest.mark.parametrize("code", [21610, 21211, 21614])
def test_a_permanent_refusal_fails_the_message_at_once_and_it_is_never_retried(db, fake_twilio, code):
    message_id = _queue()
    fake_twilio.refuse_number(PHONE, code)
    outbox.send_due_sms(10)
    row = _row(message_id)
    assert (row.status, row.error_code, row.attempts) == (SmsStatus.FAILED, code, 1)
    _make_due(message_id)
    assert outbox.send_due_sms(10) == 0
    assert _row(message_id).attempts == 1 and fake_twilio.accepted() == []


def test_the_last_attempt_fails_the_message(db, fake_twilio, app):
    message_id = _queue()
    fake_twilio.fail_next(app.config["SMS_MAX_ATTEMPTS"], status=503)
    for _attempt in range(app.config["SMS_MAX_ATTEMPTS"] - 1):
        outbox.send_due_sms(10)
        assert _row(message_id).status == SmsStatus.QUEUED
        _make_due(message_id)
    outbox.send_due_sms(10)
    assert _row(message_id).status == SmsStatus.FAILED


def test_a_signed_delivery_report_moves_the_message_to_delivered(db, fake_twilio):
    message_id = _queue()
    outbox.send_due_sms(10)
    sid = _row(message_id).provider_message_id
    assert fake_twilio.send_status(sid, "sent") == 204
    assert _row(message_id).status == SmsStatus.SENT
    assert fake_twilio.send_status(sid, "delivered") == 204
    row = _row(message_id)
    assert row.status == SmsStatus.DELIVERED and row.status_reported_at is not None
    # A late or repeated report changes nothing.
    assert fake_twilio.send_status(sid, "undelivered", error_code=30003) == 204
    assert _row(message_id).status == SmsStatus.DELIVERED


def test_an_undelivered_report_keeps_the_carriers_error_code(db, fake_twilio):
    message_id = _queue()
    outbox.send_due_sms(10)
    fake_twilio.send_status(_row(message_id).provider_message_id, "undelivered", error_code=30005)
    row = _row(message_id)
    assert (row.status, row.error_code) == (SmsStatus.UNDELIVERED, 30005)


def test_a_forged_delivery_report_is_refused_and_changes_nothing(db, fake_twilio, twilio_post):
    message_id = _queue()
    outbox.send_due_sms(10)
    params = {"MessageSid": _row(message_id).provider_message_id, "MessageStatus": "delivered"}
    assert twilio_post("/sms/status", params, signature="forged").status_code == 403
    assert twilio_post("/sms/status", params, signature="").status_code == 403
    assert _row(message_id).status == SmsStatus.SENT
    # Signed for other fields than those sent: refused too.
    answer = twilio_post("/sms/status", {**params, "MessageStatus": "failed"},
                         signature=_signature_of(params))
    assert answer.status_code == 403 and _row(message_id).status == SmsStatus.SENT
    assert twilio_post("/sms/status", params).status_code == 204
    assert _row(message_id).status == SmsStatus.DELIVERED


def _signature_of(params):
    from app.integrations.sms import sign

    return sign("/sms/status", params)


def test_the_send_rate_spaces_the_messages(db, fake_twilio, app, monkeypatch):
    monkeypatch.setitem(app.config, "SMS_SEND_RATE", 20)
    for n in range(5):
        _queue(body=f"m{n}")
    outbox.send_due_sms(10)
    times = sorted(m["accepted_at"] for m in fake_twilio.accepted())
    assert len(times) == 5
    # Four intervals of at least 1/20 s (a little slack for the clock's resolution).
    assert times[-1] - times[0] >= 4 / 20 - 0.01


def test_pace_allows_the_rate_and_no_more():
    clock = [100.0]
    slept = []
    pace = outbox.Pace(10)
    pace.next_at = clock[0]

    import app.notifications.services as services

    original = services.time

    class FakeTime:
        @staticmethod
        def monotonic():
            return clock[0]

        @staticmethod
        def sleep(seconds):
            slept.append(round(seconds, 6))
            clock[0] += seconds

    services.time = FakeTime
    try:
        for _ in range(3):
            pace.wait()
    finally:
        services.time = original
    assert slept == [0.1, 0.1]  # the first goes at once, then one every 1/10 s
    assert outbox.Pace(0).interval == 0


def test_opted_out_numbers_get_codes_but_no_notices(db, fake_twilio):
    from app.notifications.models import SmsOptOut

    _db.session.add(SmsOptOut(phone=PHONE, keyword="STOP"))
    _db.session.commit()
    notice = _queue(body="news")
    code = _queue(body="code 123456", kind=SmsKind.CODE)
    outbox.send_due_sms(10)
    assert _row(notice).status == SmsStatus.CANCELLED
    assert _row(code).status == SmsStatus.SENT
    assert [m["body"] for m in fake_twilio.accepted()] == ["code 123456"]
    assert _db.session.scalar(select(OutboundSms.last_error).where(OutboundSms.id == notice)) == \
        "the recipient opted out"


def test_the_library_logs_no_number_or_body(db, fake_twilio, caplog):
    import logging

    caplog.set_level(logging.INFO)
    _queue(body="Your order 42 is ready.")
    outbox.send_due_sms(10)
    assert len(fake_twilio.accepted()) == 1
    assert not [r for r in caplog.records if r.name.startswith("twilio") and r.levelno < logging.WARNING]
    assert "Your order 42" not in caplog.text and PHONE not in caplog.text
