"""Two `flask worker` processes on PostgreSQL hand 2,000 due messages to the fake Twilio server through
the real library: every message is accepted exactly once and every row records its own SID."""

import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.notifications.models import OutboundSms, SmsKind, SmsStatus
from devtools.twilio_fake import FakeTwilio

pytestmark = pytest.mark.postgres_only

PROJECT_ROOT = Path(__file__).resolve().parents[2]
MESSAGES = 2000
WAIT_SECONDS = 180


def _worker(application, fake: FakeTwilio, log: Path) -> subprocess.Popen:
    overrides = {
        "SQLALCHEMY_DATABASE_URI": application.config["SQLALCHEMY_DATABASE_URI"],
        "UPLOAD_FOLDER": application.config["UPLOAD_FOLDER"],
        "SMS_BACKEND": "twilio", "TWILIO_ACCOUNT_SID": fake.account_sid, "TWILIO_AUTH_TOKEN": fake.auth_token,
        "TWILIO_FROM_NUMBER": "+15005550006", "TWILIO_API_BASE": fake.base,
        "SMS_SEND_RATE": 0, "WORKER_POLL_SECONDS": 0.1, "WORKER_BATCH_SIZE": 100,
    }
    env = {key: value for key, value in os.environ.items() if key not in ("FLASK_APP", "TEST_DATABASE_URL")}
    with log.open("ab") as output:
        return subprocess.Popen(  # noqa: S603  (a fixed argv, no shell)
            [sys.executable, "-m", "flask", "--app", f"app:create_app('testing', {overrides!r})", "worker"],
            cwd=PROJECT_ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)


def _statuses(application) -> Counter:
    with application.app_context():
        counted = Counter(dict(db.session.execute(
            sa.select(OutboundSms.status, sa.func.count()).group_by(OutboundSms.status)).all()))
        db.session.remove()
    return counted


def test_two_workers_send_two_thousand_messages_each_exactly_once(committed_postgres_app, tmp_path):
    application = committed_postgres_app
    with application.app_context():
        db.session.execute(sa.insert(OutboundSms), [
            {"to_phone": f"+86139{n:08d}", "purpose": "test", "kind": SmsKind.NOTICE, "body": f"message {n}"}
            for n in range(MESSAGES)])
        db.session.commit()
        db.session.remove()
    fake = FakeTwilio()
    fake.start()
    logs = [tmp_path / "worker-a.log", tmp_path / "worker-b.log"]
    workers = [_worker(application, fake, log) for log in logs]
    try:
        deadline = time.monotonic() + WAIT_SECONDS
        while _statuses(application)[SmsStatus.SENT] < MESSAGES:
            for worker, log in zip(workers, logs, strict=True):
                if worker.poll() is not None:
                    pytest.fail(f"a worker exited ({worker.returncode}):\n{log.read_text()}")
            if time.monotonic() > deadline:
                pytest.fail(f"not all sent in {WAIT_SECONDS} s: {_statuses(application)}")
            time.sleep(0.2)
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=30)
        fake.stop()

    accepted = fake.accepted()
    bodies = Counter(message["body"] for message in accepted)
    assert len(accepted) == MESSAGES and set(bodies.values()) == {1}
    assert set(bodies) == {f"message {n}" for n in range(MESSAGES)}
    with application.app_context():
        rows = db.session.execute(sa.select(OutboundSms.body, OutboundSms.provider_message_id,
                                            OutboundSms.attempts, OutboundSms.claimed_by)).all()
        db.session.remove()
    by_body = {message["body"]: message["sid"] for message in accepted}
    assert all(row.provider_message_id == by_body[row.body] and row.attempts == 1 for row in rows)
    # Both workers took part: the claims really were shared, not serialised behind one worker.
    claimants = {row.claimed_by.rsplit(":", 2)[1] for row in rows if row.claimed_by}
    assert len(claimants) == 2, claimants
