"""The push against the reference receiver: each event arrives once whatever fails on the way; an
invalid payload or a final refusal is dead and never retried; a retry waits longer each time."""

import json
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.database import utcnow
from app.extensions import db as _db
from app.outbox.models import OutboxEvent, OutboxStatus
from app.outbox.services import emit
from app.platform import push
from tests.platform.conftest import events, made_up_rows


def _push_until_settled(rounds: int = 200) -> None:
    """Run the worker's job until nothing is pending (retries are milliseconds apart in the tests)."""
    for _ in range(rounds):
        push.push_due(0)
        pending = _db.session.scalar(select(OutboxEvent.id).where(
            OutboxEvent.status == OutboxStatus.PENDING).limit(1))
        if pending is None:
            return
        _db.session.execute(  # the retry is due now: no test waits for a backoff
            OutboxEvent.__table__.update().where(OutboxEvent.status == OutboxStatus.PENDING)
            .values(next_attempt_at=utcnow() - timedelta(seconds=1)))
        _db.session.commit()
    pytest.fail("events still pending")


def _by_status() -> Counter:
    return Counter(event.status for event in events())


def test_a_handover_reaches_the_platform_once(sharing, receive, receiver):
    receive()
    [event] = events()
    assert push.push_due(0) == 1
    _db.session.refresh(event)
    assert event.status == OutboxStatus.DELIVERED and event.delivered_at is not None
    assert event.attempts == 1 and event.last_error == ""
    [row] = receiver.store.rows()
    assert row["event_key"] == event.idempotency_key
    assert json.loads(row["resource"]) == json.loads(event.payload)
    assert push.push_due(0) == 0  # nothing left to send


def test_a_thousand_events_arrive_exactly_once_through_503s_and_dropped_connections(db, receiver):
    emit(made_up_rows(1000))
    _db.session.commit()
    receiver.set_faults(fail_first=3, drop_first=3, drop_after_store=3)
    _push_until_settled()
    assert _by_status() == Counter({OutboxStatus.DELIVERED: 1000})
    stored = receiver.store.rows()
    assert len(stored) == 1000
    assert {row["event_key"] for row in stored} == {event.idempotency_key for event in events()}
    stats = receiver.stats()
    assert stats["failed"] == 3 and stats["dropped"] == 6
    # The three batches stored before their answer was lost were sent again and answered "already had".
    assert stats["duplicates"] == 3 * 100 and stats["stored"] == 1000


def test_a_503_is_retried_later_with_a_growing_delay(db, receiver):
    emit(made_up_rows(2))
    _db.session.commit()
    receiver.set_faults(fail_first=2)
    before = utcnow()
    push.push_due(0)
    first = {e.id: e.next_attempt_at for e in events()}
    assert _by_status() == Counter({OutboxStatus.PENDING: 2})
    assert all("503" in e.last_error and e.attempts == 1 for e in events())
    assert all(moment > before for moment in first.values())
    _push_until_settled()
    assert _by_status() == Counter({OutboxStatus.DELIVERED: 2})
    assert all(e.attempts == 3 for e in events())


@pytest.mark.parametrize(("attempts", "low", "high"), [(1, 1.0, 2.0), (2, 2.0, 4.0), (3, 4.0, 8.0),
                                                       (12, 1800.0, 3600.0), (40, 1800.0, 3600.0)])
def test_the_backoff_doubles_with_jitter_and_stops_at_an_hour(db, app, monkeypatch, attempts, low, high):
    monkeypatch.setitem(app.config, "PLATFORM_RETRY_BASE_SECONDS", 2.0)
    monkeypatch.setitem(app.config, "PLATFORM_MAX_BACKOFF_SECONDS", 3600)
    delays = [push.backoff(attempts).total_seconds() for _ in range(200)]
    assert all(low <= delay <= high for delay in delays)
    assert len(set(delays)) > 100  # jittered, not in step


def test_an_invalid_payload_is_dead_and_never_sent_while_the_rest_of_the_batch_goes(db, receiver):
    rows = made_up_rows(3)
    broken = json.loads(rows[1]["payload"])
    broken["quantity"] = {"value": "twenty-eight"}
    rows[1]["payload"] = json.dumps(broken)
    emit(rows)
    _db.session.commit()
    push.push_due(0)
    by_key = {e.idempotency_key: e for e in events()}
    dead = by_key[rows[1]["idempotency_key"]]
    assert dead.status == OutboxStatus.DEAD and dead.last_error.startswith("invalid FHIR, not sent: quantity")
    assert {row["event_key"] for row in receiver.store.rows()} == {rows[0]["idempotency_key"],
                                                                   rows[2]["idempotency_key"]}
    _push_until_settled()
    assert receiver.stats()["requests"] == 1  # the dead one is never tried again


def test_a_wrong_signature_is_refused_and_the_batch_is_dead_with_the_reason(db, app, receiver, monkeypatch):
    emit(made_up_rows(2))
    _db.session.commit()
    monkeypatch.setitem(app.config, "PLATFORM_PUSH_SECRET", "not-the-platform-secret")
    push.push_due(0)
    assert _by_status() == Counter({OutboxStatus.DEAD: 2})
    assert all(e.last_error.startswith("HTTP 401") for e in events())
    assert receiver.store.rows() == []


def test_an_entry_the_platform_refuses_is_dead_with_its_reason_and_the_others_delivered(db, app):
    sendable = [(1, "a", {}, 1), (2, "b", {}, 1), (3, "c", {}, 1), (4, "d", {}, 1)]
    reply = {"resourceType": "Bundle", "type": "batch-response", "entry": [
        {"response": {"status": "201 Created"}}, {"response": {"status": "200 OK"}},
        {"response": {"status": "400 Bad Request", "outcome": {"issue": [{"diagnostics": "bad code"}]}}},
        {"response": {"status": "503 Service Unavailable"}}]}
    delivered, retry, dead = push.outcomes(sendable, reply)
    assert delivered == [1, 2] and list(retry) == [4]
    assert dead == {3: "refused by the platform (400): bad code"}
    # A reply that does not answer every entry proves nothing: all are retried.
    delivered, retry, dead = push.outcomes(sendable, {**reply, "entry": reply["entry"][:3]})
    assert (delivered, sorted(retry), dead) == ([], [1, 2, 3, 4], {})


def test_nothing_is_sent_without_a_platform_address(db, app, monkeypatch):
    emit(made_up_rows(1))
    _db.session.commit()
    monkeypatch.setitem(app.config, "PLATFORM_PUSH_URL", "")
    assert push.push_due(0) == 0
    assert _by_status() == Counter({OutboxStatus.PENDING: 1})


def test_a_lapsed_lease_lets_another_worker_send_and_the_platform_keeps_one_copy(db, app, receiver):
    emit(made_up_rows(2))
    _db.session.commit()
    taken = push.take_due(10, "worker-that-died")
    _db.session.commit()
    assert len(taken) == 2 and push.take_due(10, "another") == []  # leased: not taken twice
    body = push.bundle_body([(key, json.loads(payload)) for _id, key, payload, _n in taken])
    push.client().post(body, "first-try")  # it sent them, then died before recording
    lapsed = utcnow() - timedelta(seconds=1)
    _db.session.execute(OutboxEvent.__table__.update().values(lease_expires_at=lapsed))
    _db.session.commit()
    _push_until_settled()
    assert _by_status() == Counter({OutboxStatus.DELIVERED: 2})
    assert len(receiver.store.rows()) == 2 and receiver.stats()["duplicates"] == 2
