"""The worker sends queued SMS, retries failures with growing delays, and never sends one twice."""

import threading
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from app import worker
from app.database import claim, utcnow
from app.extensions import db as _db
from app.integrations.sms import SmsSendError
from app.notifications.models import OutboundSms, SmsStatus
from app.notifications.services import REDACTED, queue_sms, send_due_sms


class RefusingBackend:
    """A provider that is down, or refuses some numbers."""

    def __init__(self, refuse: set[str] | None = None):
        self.refuse = refuse
        self.sent: list[tuple[str, str]] = []

    def send(self, to: str, body: str) -> str:
        if self.refuse is None or to in self.refuse:
            raise SmsSendError("provider unreachable")
        self.sent.append((to, body))
        return f"fake-{len(self.sent)}"


def _queue(phone: str = "+8613900000001", sensitive: bool = False, **fields) -> OutboundSms:
    message = queue_sms(to_phone=phone, template="phone_verification", locale="en",
                        sensitive=sensitive, code="482913", minutes=10)
    for name, value in fields.items():
        setattr(message, name, value)
    _db.session.commit()
    return message


def _reload(message_id: int) -> OutboundSms:
    return _db.session.get(OutboundSms, message_id)


def test_worker_sends_queued_sms_and_marks_them_sent(db, sms_sent):
    message_id = _queue("+8613900000011").id
    before = utcnow()
    handled = worker.run_once()
    assert handled["send-sms"] == 1
    assert [phone for phone, _ in sms_sent] == ["+8613900000011"]
    assert "482913" in sms_sent[0][1]
    sent = _reload(message_id)
    assert sent.status == SmsStatus.SENT
    assert sent.attempts == 1
    assert sent.sent_at is not None and sent.sent_at >= before - timedelta(seconds=1)
    assert sent.provider_message_id.startswith("log-")
    assert sent.body == sms_sent[0][1]  # not sensitive: the text is kept


def test_a_verification_code_is_blanked_once_sent(db, sms_sent):
    message_id = _queue(sensitive=True).id
    worker.run_once()
    assert "482913" in sms_sent[0][1]
    assert _reload(message_id).body == REDACTED


def test_a_sent_message_is_not_sent_again(db, sms_sent):
    _queue()
    worker.run_once()
    handled = worker.run_once()
    assert handled["send-sms"] == 0
    assert len(sms_sent) == 1


def test_a_provider_failure_leaves_the_message_queued_for_a_later_retry(app, db, monkeypatch):
    monkeypatch.setitem(app.extensions, "sms", RefusingBackend())
    message_id = _queue(sensitive=True).id
    worker.run_once()
    message = _reload(message_id)
    assert message.status == SmsStatus.QUEUED
    assert message.attempts == 1
    assert message.last_error == "provider unreachable"
    assert message.next_attempt_at > utcnow()
    assert message.sent_at is None
    assert "482913" in message.body  # still needed for the retry

    assert worker.run_once()["send-sms"] == 0  # not due again yet
    assert _reload(message_id).attempts == 1


def test_a_message_fails_for_good_after_the_last_attempt(app, db, monkeypatch):
    monkeypatch.setitem(app.extensions, "sms", RefusingBackend())
    max_attempts = app.config["SMS_MAX_ATTEMPTS"]
    message_id = _queue().id
    delays = []
    for _ in range(max_attempts):
        message = _reload(message_id)
        assert message.status == SmsStatus.QUEUED
        message.next_attempt_at = utcnow() - timedelta(seconds=1)  # skip the wait
        _db.session.commit()
        started = utcnow()
        worker.run_once()
        delays.append(_reload(message_id).next_attempt_at - started)
    message = _reload(message_id)
    assert message.status == SmsStatus.FAILED
    assert message.attempts == max_attempts
    assert delays[1] > delays[0]  # the retries back off

    message.next_attempt_at = utcnow() - timedelta(seconds=1)
    _db.session.commit()
    worker.run_once()
    assert _reload(message_id).attempts == max_attempts  # a failed message is left alone


def test_a_message_not_yet_due_is_not_sent(db, sms_sent):
    message_id = _queue(next_attempt_at=utcnow() + timedelta(minutes=5)).id
    assert worker.run_once()["send-sms"] == 0
    assert list(sms_sent) == []
    message = _reload(message_id)
    assert (message.status, message.attempts) == (SmsStatus.QUEUED, 0)


def test_one_refused_number_does_not_hold_up_the_rest_of_the_batch(app, db, monkeypatch):
    backend = RefusingBackend(refuse={"+8613900000021"})
    monkeypatch.setitem(app.extensions, "sms", backend)
    refused = _queue("+8613900000021").id
    delivered = _queue("+8613900000022").id
    worker.run_once()
    assert _reload(refused).status == SmsStatus.QUEUED
    assert _reload(delivered).status == SmsStatus.SENT
    assert [phone for phone, _ in backend.sent] == ["+8613900000022"]


def test_a_failing_job_is_rolled_back_and_the_other_jobs_still_run(db, sms_sent, monkeypatch):
    message_id = _queue().id
    real_jobs = worker.jobs

    def broken(_limit: int) -> int:
        _db.session.get(OutboundSms, message_id).purpose = "half-done"
        _db.session.flush()
        raise RuntimeError("bug in a job")

    monkeypatch.setattr(worker, "jobs", lambda: [worker.Job("broken", broken), *real_jobs()])
    handled = worker.run_once()
    assert handled["broken"] == 0
    assert handled["send-sms"] == 1
    message = _reload(message_id)
    assert message.status == SmsStatus.SENT
    assert message.purpose == "phone_verification"  # the broken job's change was undone
    assert len(sms_sent) == 1


def _commit_messages(count: int, tag: str) -> list[int]:
    """Committed for real (outside the test transaction), so other connections see them."""
    table = OutboundSms.__table__
    rows = [dict(to_phone=f"+86139{i:08d}", purpose="test", body=f"{tag} message {i}",
                 status=SmsStatus.QUEUED, attempts=0, next_attempt_at=utcnow() - timedelta(seconds=5),
                 created_at=utcnow(), is_sensitive=False) for i in range(count)]
    with _db.engine.begin() as connection:
        return list(connection.execute(sa.insert(table).returning(table.c.id), rows).scalars())


def _delete_messages(ids: list[int]) -> None:
    table = OutboundSms.__table__
    with _db.engine.begin() as connection:
        connection.execute(sa.delete(table).where(table.c.id.in_(ids)))


@pytest.mark.postgres_only
def test_two_workers_claim_disjoint_batches(app):
    with app.app_context():
        ids = _commit_messages(6, "claim")
        try:
            statement = (sa.select(OutboundSms.id)
                         .where(OutboundSms.id.in_(ids), OutboundSms.status == SmsStatus.QUEUED)
                         .order_by(OutboundSms.id).limit(4))
            with Session(_db.engine) as first, Session(_db.engine) as second:
                # Without SKIP LOCKED the second claim would wait: fail fast instead of hanging.
                second.execute(sa.text("SET LOCAL lock_timeout = '3s'"))
                first_batch = first.scalars(claim(statement, "postgresql")).all()
                second_batch = second.scalars(claim(statement, "postgresql")).all()
                assert first_batch == ids[:4]
                assert second_batch == ids[4:]
                first.rollback()
                # Once the first worker lets go, its rows can be claimed again.
                assert second.scalars(claim(statement, "postgresql")).all() == ids[:4]
                second.rollback()
        finally:
            _delete_messages(ids)


class SlowRecordingBackend:
    def __init__(self):
        self.lock = threading.Lock()
        self.sent: list[tuple[str, str]] = []

    def send(self, to: str, body: str) -> str:
        time.sleep(0.01)  # a provider round trip, so the two workers overlap
        with self.lock:
            self.sent.append((threading.current_thread().name, body))
            return f"slow-{len(self.sent)}"


@pytest.mark.postgres_only
def test_two_concurrent_workers_send_every_message_exactly_once(app, monkeypatch):
    backend = SlowRecordingBackend()
    monkeypatch.setitem(app.extensions, "sms", backend)
    with app.app_context():
        ids = _commit_messages(40, "concurrent")
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def run_worker() -> None:
        try:
            with app.app_context():
                start.wait(timeout=10)
                while True:
                    handled = send_due_sms(4)
                    _db.session.commit()
                    if handled == 0:
                        break
                _db.session.remove()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run_worker, name=f"worker-{n}") for n in (1, 2)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert not errors, errors
        bodies = [body for _, body in backend.sent]
        assert sorted(bodies) == sorted(f"concurrent message {i}" for i in range(40))
        assert {name for name, _ in backend.sent} == {"worker-1", "worker-2"}
        with app.app_context(), _db.engine.connect() as connection:
            statuses = connection.execute(sa.select(OutboundSms.status, OutboundSms.attempts)
                                          .where(OutboundSms.id.in_(ids))).all()
        assert set(statuses) == {(SmsStatus.SENT, 1)}
    finally:
        with app.app_context():
            _delete_messages(ids)
