"""`flask platform …`: preview prints exactly what would be sent, status counts, replay queues the dead
again, and a backfill writes what the platform has not had, once."""

import json

from sqlalchemy import delete

from app.extensions import db as _db
from app.outbox.models import OutboxEvent, OutboxStatus
from app.outbox.services import emit
from app.platform import fhir, push
from tests.platform.conftest import events, made_up_rows


def _run(app, *args):
    return app.test_cli_runner().invoke(args=["platform", *args])


def test_preview_prints_exactly_the_batch_that_would_be_sent(sharing, receive, app, receiver):
    receive()
    [event] = events()
    result = _run(app, "preview", "--event", str(event.id))
    assert result.exit_code == 0, result.output
    printed = result.output.strip()
    assert printed == push.bundle_body([(event.idempotency_key, json.loads(event.payload))]).decode()
    bundle = json.loads(printed)
    assert bundle["type"] == "batch" and bundle["entry"][0]["fullUrl"] == f"urn:uuid:{event.idempotency_key}"
    condition = f"identifier={fhir.EVENT_SYSTEM}|{event.idempotency_key}"
    assert bundle["entry"][0]["request"]["ifNoneExist"] == condition
    push.push_due(0)
    [stored] = receiver.store.rows()
    assert json.loads(stored["resource"]) == bundle["entry"][0]["resource"]


def test_preview_says_why_an_invalid_event_would_not_be_sent(db, app):
    rows = made_up_rows(1)
    rows[0]["payload"] = json.dumps({**json.loads(rows[0]["payload"]), "whenHandedOver": "yesterday"})
    emit(rows)
    _db.session.commit()
    [event] = events()
    result = _run(app, "preview", "--event", str(event.id))
    assert result.exit_code == 1 and "would not be sent: invalid FHIR" in result.output
    assert "whenHandedOver" in result.output and "Traceback" not in result.output
    assert "There is no event 999999." in _run(app, "preview", "--event", "999999").output


def test_status_counts_events_and_gives_the_oldest_pending_age_and_the_last_error(db, app):
    emit(made_up_rows(3))
    _db.session.commit()
    first, second, _third = events()
    first.status, first.last_error = OutboxStatus.DEAD, "refused by the platform (400): bad code"
    second.status = OutboxStatus.DELIVERED
    _db.session.commit()
    output = _run(app, "status").output
    assert "pending    1" in output and "delivered  1" in output and "dead       1" in output
    assert "withdrawn  0" in output and "oldest pending: " in output and " s" in output
    assert f"last error (event {first.id}): refused by the platform (400): bad code" in output


def test_replay_queues_every_dead_event_again_from_a_first_attempt(sharing, receive, app):
    receive()
    receive()
    for event in events():
        event.status, event.attempts, event.last_error = OutboxStatus.DEAD, 4, "HTTP 401: bad signature"
    _db.session.commit()
    result = _run(app, "replay", "--dead")
    assert "2 dead events queued again." in result.output
    assert [(e.status, e.attempts, e.last_error) for e in events()] == [(OutboxStatus.PENDING, 0, "")] * 2
    assert "0 dead events queued again." in _run(app, "replay", "--dead").output


def test_a_backfill_writes_what_the_platform_missed_and_nothing_twice(sharing, receive, app):
    receive()
    receive()
    _db.session.execute(delete(OutboxEvent))  # as if these had happened before the push existed
    _db.session.commit()
    result = _run(app, "backfill", "--since", "2026-01-01")
    assert result.exit_code == 0, result.output
    assert "Dispensed orders" in result.output and "2 events written." in result.output
    assert [e.event_type for e in events()] == ["medication.dispensed", "medication.dispensed"]
    again = _run(app, "backfill", "--since", "2026-01-01")
    assert "0 events written." in again.output and len(events()) == 2


def test_a_backfill_from_after_the_handover_writes_nothing_and_a_bad_date_is_refused(sharing, receive, app):
    receive()
    _db.session.execute(delete(OutboxEvent))
    _db.session.commit()
    assert "0 events written." in _run(app, "backfill", "--since", "2999-01-01").output
    refused = _run(app, "backfill", "--since", "01/02/2026")
    assert refused.exit_code == 2 and "YYYY-MM-DD" in refused.output
