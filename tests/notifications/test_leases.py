"""The outbox worker claims under a lease and commits before it sends: a live lease is left
alone, a lapsed one is claimed again, and a worker that lost its lease does not send."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.accounts import services as accounts
from app.accounts.models import CodePurpose, VerificationCode
from app.database import utcnow
from app.errors import InvalidTransition
from app.extensions import db as _db
from app.integrations.sms import SmsSendError
from app.notifications import services as outbox
from app.notifications.models import OutboundSms, SmsStatus
from app.notifications.states import MACHINE
from tests.factories import PASSWORD


class RecordingBackend:
    """A provider that notes what the worker had open when it was called."""

    def __init__(self, refuse: bool = False):
        self.refuse = refuse
        self.calls: list[dict] = []

    def send(self, to: str, body: str) -> str:
        in_transaction = _db.session().in_transaction()
        [(status, claimed_by)] = _db.session.execute(
            select(OutboundSms.status, OutboundSms.claimed_by).where(OutboundSms.body == body)).all()
        _db.session.rollback()
        self.calls.append(dict(to=to, body=body, in_transaction=in_transaction, status=status,
                               claimed_by=claimed_by))
        if self.refuse:
            raise SmsSendError("provider unreachable")
        return f"rec-{len(self.calls)}"


def _queue(body: str = "hello", **fields) -> int:
    message = OutboundSms(to_phone="+8613900000031", purpose="test", body=body, **fields)
    _db.session.add(message)
    _db.session.commit()
    return message.id


def _reload(message_id: int) -> OutboundSms:
    _db.session.expire_all()
    return _db.session.get(OutboundSms, message_id)


def test_the_provider_is_called_with_the_message_claimed_and_no_transaction_open(app, db, monkeypatch):
    backend = RecordingBackend()
    monkeypatch.setitem(app.extensions, "sms", backend)
    message_id = _queue()
    assert outbox.send_due_sms(10) == 1
    [call] = backend.calls
    # Committed as `sending` under a lease before the call, with nothing held during it.
    assert call["in_transaction"] is False
    assert call["status"] == SmsStatus.SENDING and call["claimed_by"]
    message = _reload(message_id)
    assert (message.status, message.attempts, message.provider_message_id) == (SmsStatus.SENT, 1, "rec-1")
    assert message.lease_expires_at is None


def test_a_message_under_a_live_lease_is_not_claimed_by_another_worker(app, db, sms_sent):
    message_id = _queue()
    [claimed] = outbox.take_due(10, "worker-a")
    db.session.commit()
    assert claimed.id == message_id and claimed.status == SmsStatus.SENDING
    assert claimed.lease_expires_at > utcnow() + timedelta(seconds=app.config["SMS_SEND_LEASE_SECONDS"] - 5)

    assert outbox.take_due(10, "worker-b") == []
    assert outbox.send_due_sms(10) == 0
    assert list(sms_sent) == []
    assert _reload(message_id).claimed_by == "worker-a"


def test_a_message_whose_lease_lapsed_is_claimed_again_and_sent_once(app, db, sms_sent):
    message_id = _queue()
    outbox.take_due(10, "dead-worker")
    assert outbox.begin_attempt(message_id, "dead-worker")  # it died inside the provider call
    _reload(message_id).lease_expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()

    assert outbox.send_due_sms(10) == 1
    message = _reload(message_id)
    assert message.status == SmsStatus.SENT
    assert message.attempts == 2 and message.claimed_by != "dead-worker"
    assert len(sms_sent) == 1

    # The first worker, had it only been slow, may not start again on a message it lost.
    assert outbox.begin_attempt(message_id, "dead-worker") is False
    assert outbox.send_due_sms(10) == 0 and len(sms_sent) == 1


def test_a_lapsed_lease_on_the_last_allowed_attempt_closes_the_message(app, db, sms_sent):
    message_id = _queue(attempts=app.config["SMS_MAX_ATTEMPTS"] - 1)
    outbox.take_due(10, "dead-worker")
    outbox.begin_attempt(message_id, "dead-worker")
    _reload(message_id).lease_expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()

    assert outbox.send_due_sms(10) == 1
    message = _reload(message_id)
    assert message.status == SmsStatus.FAILED and "delivery unknown" in message.last_error
    assert list(sms_sent) == []


def test_a_refused_message_goes_back_to_the_queue_without_a_lease(app, db, monkeypatch):
    monkeypatch.setitem(app.extensions, "sms", RecordingBackend(refuse=True))
    message_id = _queue()
    outbox.send_due_sms(10)
    message = _reload(message_id)
    assert message.status == SmsStatus.QUEUED
    assert (message.claimed_by, message.lease_expires_at) == (None, None)
    assert message.next_attempt_at > utcnow()


def test_a_sent_message_cannot_go_back_to_the_queue(db):
    message = OutboundSms(to_phone="+8613900000032", purpose="test", body="x", status=SmsStatus.SENT)
    with pytest.raises(InvalidTransition):
        MACHINE.move(message, SmsStatus.QUEUED)
    # Only the carrier's report moves a sent message on; the outcomes and a withdrawal are final.
    assert MACHINE.terminal() == {SmsStatus.DELIVERED, SmsStatus.UNDELIVERED, SmsStatus.FAILED,
                                  SmsStatus.CANCELLED}


# --- finding 10: a code that never left is blanked when it expires ------------------------------


def _register(app, phone: str, email: str):
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        user = accounts.register_patient(email=email, phone=phone, password=PASSWORD,
                                         display_name="Li Wei", locale="en")
    _db.session.commit()
    message = _db.session.scalar(select(OutboundSms).where(OutboundSms.user_id == user.id))
    code = re.search(r"(?<!\d)\d{6}(?!\d)", message.body).group()
    return user, message.id, code


def _expire_code(user) -> None:
    row = _db.session.scalar(select(VerificationCode).where(
        VerificationCode.user_id == user.id, VerificationCode.purpose == CodePurpose.PHONE_VERIFICATION))
    row.expires_at = utcnow() - timedelta(seconds=1)
    _db.session.commit()


@pytest.mark.parametrize("provider_state", ["slow to be tried", "down"])
def test_finding_10_unsent_verification_code_is_redacted_on_expiry(app, db, monkeypatch, provider_state):
    user, message_id, code = _register(app, "138 0013 8000", "li.wei@example.com")
    _other, other_id, other_code = _register(app, "138 0013 8001", "wang.fang@example.com")
    if provider_state == "down":
        monkeypatch.setitem(app.extensions, "sms", RecordingBackend(refuse=True))
        for _ in range(app.config["SMS_MAX_ATTEMPTS"]):
            for message in _db.session.scalars(select(OutboundSms)):
                message.next_attempt_at = utcnow() - timedelta(seconds=1)
            db.session.commit()
            outbox.send_due_sms(10)
        expected_before = SmsStatus.FAILED
    else:
        # Queued behind a busy worker: not yet due when the code runs out.
        for message in _db.session.scalars(select(OutboundSms)):
            message.next_attempt_at = utcnow() + timedelta(hours=1)
        db.session.commit()
        expected_before = SmsStatus.QUEUED
    assert _reload(message_id).status == expected_before and code in _reload(message_id).body

    _expire_code(user)
    assert accounts.expire_codes(50) == 1
    db.session.commit()

    message = _reload(message_id)
    assert code not in message.body and message.body == outbox.REDACTED_UNSENT
    assert message.status == SmsStatus.FAILED and message.redacted_at is not None
    # The other user's code is still live, so their message keeps it.
    assert other_code in _reload(other_id).body

    # And the dead code is never sent later; the live one still is.
    provider = RecordingBackend()
    monkeypatch.setitem(app.extensions, "sms", provider)
    for row in _db.session.scalars(select(OutboundSms)):
        row.next_attempt_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    outbox.send_due_sms(10)
    sent = [call["body"] for call in provider.calls]
    assert not any(code in body for body in sent)
    assert any(other_code in body for body in sent) == (provider_state == "slow to be tried")


def test_a_code_being_sent_when_it_expires_is_not_sent(app, db, sms_sent):
    user, message_id, code = _register(app, "138 0013 8000", "li.wei@example.com")
    assert len(outbox.take_due(10, "worker-a")) == 1
    db.session.commit()
    _expire_code(user)
    accounts.expire_codes(50)
    db.session.commit()

    assert outbox.begin_attempt(message_id, "worker-a") is False
    message = _reload(message_id)
    assert message.status == SmsStatus.FAILED and code not in message.body
    assert list(sms_sent) == []
