"""Two `flask worker` processes on PostgreSQL push the same backlog of 3,000 events to the reference
receiver: the receiver sees each idempotency key once, never twice, and both workers took part."""

import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.outbox.models import OutboxEvent, OutboxStatus
from app.outbox.services import emit
from app.platform.receiver import make_receiver, start_in_thread
from tests.platform.conftest import PUSH_SECRET, made_up_rows

pytestmark = pytest.mark.postgres_only

PROJECT_ROOT = Path(__file__).resolve().parents[2]
EVENTS = 3000
WAIT_SECONDS = 180


def _worker(application, url: str, log: Path) -> subprocess.Popen:
    overrides = {
        "SQLALCHEMY_DATABASE_URI": application.config["SQLALCHEMY_DATABASE_URI"],
        "UPLOAD_FOLDER": application.config["UPLOAD_FOLDER"],
        "PLATFORM_PUSH_URL": url, "PLATFORM_PUSH_SECRET": PUSH_SECRET, "PLATFORM_BATCH_SIZE": 50,
        "WORKER_POLL_SECONDS": 0.1,
    }
    env = {key: value for key, value in os.environ.items() if key not in ("FLASK_APP", "TEST_DATABASE_URL")}
    with log.open("ab") as output:
        return subprocess.Popen(  # noqa: S603  (a fixed argv, no shell)
            [sys.executable, "-m", "flask", "--app", f"app:create_app('testing', {overrides!r})", "worker"],
            cwd=PROJECT_ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)


def _statuses(application) -> Counter:
    with application.app_context():
        counted = Counter(dict(db.session.execute(
            sa.select(OutboxEvent.status, sa.func.count()).group_by(OutboxEvent.status)).all()))
        db.session.remove()
    return counted


def test_two_workers_push_one_backlog_and_the_platform_sees_each_key_once(committed_postgres_app, tmp_path):
    application = committed_postgres_app
    with application.app_context():
        emit(made_up_rows(EVENTS))
        db.session.commit()
        keys = set(db.session.scalars(sa.select(OutboxEvent.idempotency_key)))
        db.session.remove()
    platform = make_receiver(f"sqlite:///{tmp_path / 'received.sqlite3'}", PUSH_SECRET)
    server = start_in_thread(platform)
    logs = [tmp_path / "worker-a.log", tmp_path / "worker-b.log"]
    workers = [_worker(application, server.url, log) for log in logs]
    try:
        deadline = time.monotonic() + WAIT_SECONDS
        while _statuses(application)[OutboxStatus.DELIVERED] < EVENTS:
            for worker, log in zip(workers, logs, strict=True):
                if worker.poll() is not None:
                    pytest.fail(f"a worker exited ({worker.returncode}):\n{log.read_text()}")
            if time.monotonic() > deadline:
                pytest.fail(f"not all delivered in {WAIT_SECONDS} s: {_statuses(application)}")
            time.sleep(0.2)
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=30)
        server.stop()

    stats = platform.stats()
    stored = platform.store.rows()
    platform.close()
    assert {row["event_key"] for row in stored} == keys and len(stored) == EVENTS
    assert stats["stored"] == EVENTS and stats["duplicates"] == 0  # no key was ever sent twice
    with application.app_context():
        rows = db.session.execute(sa.select(OutboxEvent.attempts, OutboxEvent.claimed_by)).all()
        db.session.remove()
    assert {row.attempts for row in rows} == {1}
    # Both workers took part: the claims really were shared, not serialised behind one worker.
    assert len({row.claimed_by.rsplit(":", 2)[1] for row in rows}) == 2
