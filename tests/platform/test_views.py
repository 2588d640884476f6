"""Operations admins see the push's health and each event exactly as it is sent, and replay dead events;
no other role sees any of it."""

import html
import json
from datetime import timedelta
from itertools import count

import pytest
from sqlalchemy import select, update

from app.audit.models import AuditEvent
from app.database import utcnow
from app.extensions import db as _db
from app.outbox.models import OutboxEvent, OutboxStatus
from app.outbox.services import emit, event_row, new_key
from app.patients.models import ConsentKind
from app.patients.services import grant_consent, revoke_consent
from app.platform import fhir, push
from app.platform.views import push_target
from tests import factories
from tests.platform.conftest import ID_NUMBER, LEGAL_NAME, STREET, events, sharing  # noqa: F401  (fixture)
from tests.query_budget import count_statements
from tests.sms.conftest import (  # noqa: F401  (fixtures)
    approve,
    as_user,
    catalogue_drugs,
    coded,
    deliver,
    flow,
    ordering,
    pharmacists,
    receive,
    shop,
    sign,
    stripe_client,
    texted,
    visit,
)

_lines = count(1)


def resource(key: str) -> dict:
    return {"resourceType": "MedicationDispense", "status": "completed",
            "identifier": [{"system": fhir.EVENT_SYSTEM, "value": key}],
            "medicationCodeableConcept": {"text": "amlodipine 5 mg"}}


def add_event(patient=None, *, status=OutboxStatus.PENDING, event_type="medication.dispensed",
              payload: dict | None = None, last_error: str = "") -> OutboxEvent:
    """One outbox row as emit() writes it, then put into `status` as the worker would have left it."""
    key = new_key()
    row = event_row(event_type, "order_lines", next(_lines), getattr(patient, "id", None),
                    payload or resource(key), key=key)
    row.update(status=status, last_error=last_error,
               delivered_at=utcnow() if status == OutboxStatus.DELIVERED else None)
    emit([row])
    _db.session.commit()
    return _db.session.scalar(select(OutboxEvent).where(OutboxEvent.idempotency_key == key))


def sharing_patient(*, withdrawn: bool = False):
    patient = factories.make_patient()
    grant_consent(patient, ConsentKind.DATA_SHARING)
    if withdrawn:
        revoke_consent(patient, ConsentKind.DATA_SHARING)
    _db.session.commit()
    return patient


def audit_rows(action: str) -> list[AuditEvent]:
    return list(_db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def page(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


# ---- the health page ----------------------------------------------------------------------------

def test_an_admin_sees_the_counts_by_status_and_the_events(client, login_as, db):
    login_as("admin")
    waiting = [add_event() for _ in range(2)]
    delivered = add_event(status=OutboxStatus.DELIVERED)
    dead = add_event(status=OutboxStatus.DEAD, last_error="refused by the platform (422): bad dose")
    withdrawn = add_event(status=OutboxStatus.WITHDRAWN, event_type="adherence.summary")
    text = page(client.get("/platform/"))
    counts = text.split('id="push-counts"')[1].split("</table>")[0]
    for status, expected in (("pending", 2), ("delivered", 1), ("dead", 1), ("withdrawn", 1)):
        row = counts.split(f'data-status="{status}"')[1].split("</tr>")[0]
        assert f'<td class="text-end">{expected}</td>' in row, (status, row)
    assert "Waiting to be sent" in counts and "Dead: not sent" in counts
    for event in (*waiting, delivered, dead, withdrawn):
        assert f'id="event-{event.id}"' in text
    # Newest first; kinds by name; the last error linked to its event.
    assert text.index(f'id="event-{withdrawn.id}"') < text.index(f'id="event-{waiting[0].id}"')
    assert "Monthly adherence summary" in text and "Medicine dispensed" in text
    last_error = text.split('id="last-error"')[1].split("</dd>")[0]
    assert f'href="/platform/events/{dead.id}"' in last_error and "bad dose" in last_error
    assert 'id="replay-dead"' in text


def _oldest(client) -> str:
    return page(client.get("/platform/")).split('id="oldest-pending">')[1].split("</dd>")[0]


def test_the_oldest_waiting_event_is_said_in_seconds_minutes_or_hours(client, login_as, db):
    login_as("admin")
    assert _oldest(client) == "—"
    event = add_event()
    assert _oldest(client).endswith(" s")
    for age, said in ((timedelta(minutes=12, seconds=5), "12 min"),
                      (timedelta(hours=3, minutes=30, seconds=5), "3 h 30 min"),
                      (timedelta(days=2, hours=4, seconds=5), "2 d 4 h")):
        _db.session.execute(update(OutboxEvent).where(OutboxEvent.id == event.id)
                            .values(created_at=utcnow() - age))
        _db.session.commit()
        assert _oldest(client) == said


def test_the_list_filters_by_status_and_ignores_an_unknown_one(client, login_as, db):
    login_as("admin")
    waiting = add_event()
    dead = add_event(status=OutboxStatus.DEAD, last_error="x")
    only_dead = page(client.get("/platform/?status=dead"))
    assert f'id="event-{dead.id}"' in only_dead and f'id="event-{waiting.id}"' not in only_dead
    for nonsense in ("nope", "DEAD", "%00", "x" * 5000):
        everything = page(client.get("/platform/", query_string={"status": nonsense}))
        assert f'id="event-{dead.id}"' in everything and f'id="event-{waiting.id}"' in everything


def test_the_list_is_paginated_fifty_at_a_time(client, login_as, db):
    login_as("admin")
    rows = [event_row("medication.dispensed", "order_lines", next(_lines), None, resource(key), key=key)
            for key in (new_key() for _ in range(51))]
    emit(rows)
    _db.session.commit()
    ids = sorted(_db.session.scalars(select(OutboxEvent.id)), reverse=True)
    first = page(client.get("/platform/"))
    assert first.count('id="event-') == 50 and f'id="event-{ids[50]}"' not in first
    after = html.unescape(first.split('id="pager-next"')[1].split('href="')[1].split('"')[0])
    second = page(client.get(after))
    assert second.count('id="event-') == 1 and f'id="event-{ids[50]}"' in second


def test_the_page_says_when_nothing_is_sent_and_never_prints_the_urls_secrets(client, login_as, db, app,
                                                                                monkeypatch):
    login_as("admin")
    monkeypatch.setitem(app.config, "PLATFORM_PUSH_URL", "")
    text = page(client.get("/platform/"))
    assert 'id="push-off"' in text and "nothing is sent" in text
    monkeypatch.setitem(app.config, "PLATFORM_PUSH_URL",
                        "https://ops:hunter2@platform.example:8443/fhir/batch?token=s3cret#frag")
    text = page(client.get("/platform/"))
    assert 'id="push-off"' not in text
    assert "https://platform.example:8443/fhir/batch" in text
    for secret in ("hunter2", "ops:", "token=", "s3cret", "#frag"):
        assert secret not in text, secret


def test_the_target_keeps_only_scheme_host_and_path():
    assert push_target("http://127.0.0.1:5050/fhir?key=1") == "http://127.0.0.1:5050/fhir"
    assert push_target("https://u:p@[::1]/x#y") == "https://[::1]/x"
    assert push_target("https://host:notaport/x") == "https://host/x"
    assert push_target("not a url") == ""


def test_the_list_runs_as_many_statements_for_one_event_as_for_many_and_never_loads_payloads(
        client, login_as, db):
    login_as("admin")
    seen = {}
    for size in (1, 12):
        while len(_db.session.scalars(select(OutboxEvent.id)).all()) < size:
            add_event(status=OutboxStatus.DEAD if size % 2 else OutboxStatus.PENDING, last_error="x")
        _db.session.expire_all()
        with count_statements(_db) as counted:
            text = page(client.get("/platform/"))
        assert text.count('id="event-') == size
        seen[size] = counted
    small, large = seen[1], seen[12]
    assert small.count == large.count, f"{small.count} → {large.count}:\n{large}"
    # The user, the counts, the oldest pending, the last error, the page of events.
    assert large.count <= 5, str(large)
    assert not any("payload" in statement for statement in large.statements), str(large)


# ---- one event ----------------------------------------------------------------------------------

def test_the_detail_shows_exactly_the_bundle_sent_and_nothing_that_names_the_patient(
        client, login_as, db, sharing, receive):  # noqa: F811
    receive()
    event = events("medication.dispensed")[0]
    login_as("admin")
    text = page(client.get(f"/platform/events/{event.id}"))
    expected = push.bundle_body([(event.idempotency_key, json.loads(event.payload))])
    shown = html.unescape(text.split('id="bundle" translate="no">')[1].split("</pre>")[0])
    assert json.loads(shown) == json.loads(expected)
    assert shown == json.dumps(json.loads(expected), indent=2, ensure_ascii=False)
    assert event.idempotency_key in shown
    bundle = json.loads(shown)
    assert bundle["type"] == "batch" and len(bundle["entry"]) == 1
    for identifying in (LEGAL_NAME, sharing.display_name, sharing.phone, sharing.phone[-8:], ID_NUMBER,
                        STREET, "1949-12-31"):
        assert identifying not in text, identifying
    viewed = audit_rows("platform.event_viewed")
    assert [(row.object_type, row.object_id, row.patient_id) for row in viewed] == [
        ("outbox_events", str(event.id), sharing.id)]


def test_an_invalid_payload_shows_why_it_is_not_sent_and_the_payload_as_stored(client, login_as, db):
    login_as("admin")
    broken = {"resourceType": "MedicationDispense", "medicationCodeableConcept": {"text": "x"}}
    event = add_event(status=OutboxStatus.DEAD, payload=broken)
    text = page(client.get(f"/platform/events/{event.id}"))
    alert = text.split('id="invalid-payload"')[1].split("</div>")[0]
    assert "not valid FHIR" in alert and "status" in alert and "required" in alert
    raw = html.unescape(text.split('id="raw-payload" translate="no">')[1].split("</pre>")[0])
    assert raw == event.payload
    assert 'id="bundle"' not in text


def test_an_unknown_event_is_not_found(client, login_as, db):
    login_as("admin")
    assert client.get("/platform/events/987654").status_code == 404
    assert client.post("/platform/events/987654/replay").status_code == 404


# ---- replays ------------------------------------------------------------------------------------

def test_replaying_a_dead_event_queues_it_again_and_is_audited(client, login_as, db):
    login_as("admin")
    patient = sharing_patient()
    event = add_event(patient, status=OutboxStatus.DEAD, last_error="refused by the platform (422): x")
    _db.session.execute(update(OutboxEvent).where(OutboxEvent.id == event.id).values(attempts=4))
    _db.session.commit()
    assert 'id="replay-event"' in page(client.get(f"/platform/events/{event.id}"))
    response = client.post(f"/platform/events/{event.id}/replay", follow_redirects=True)
    assert "is queued again" in page(response)
    _db.session.expire_all()
    event = _db.session.get(OutboxEvent, event.id)
    assert (event.status, event.attempts, event.last_error) == (OutboxStatus.PENDING, 0, "")
    replayed = audit_rows("platform.event_replayed")
    assert [(row.object_id, row.patient_id, row.detail) for row in replayed] == [
        (str(event.id), patient.id, "queued=1")]


def test_a_dead_event_of_a_patient_who_withdrew_consent_is_not_replayed_and_the_page_says_why(
        client, login_as, db):
    login_as("admin")
    patient = sharing_patient(withdrawn=True)
    event = add_event(patient, status=OutboxStatus.DEAD, last_error="x")
    text = page(client.post(f"/platform/events/{event.id}/replay", follow_redirects=True))
    assert "no longer shares data" in text
    _db.session.expire_all()
    assert _db.session.get(OutboxEvent, event.id).status == OutboxStatus.DEAD
    assert [row.detail for row in audit_rows("platform.event_replayed")] == ["queued=0"]


def test_only_a_dead_event_can_be_replayed(client, login_as, db):
    login_as("admin")
    event = add_event(sharing_patient(), status=OutboxStatus.DELIVERED)
    assert 'id="replay-event"' not in page(client.get(f"/platform/events/{event.id}"))
    text = page(client.post(f"/platform/events/{event.id}/replay", follow_redirects=True))
    assert "only a dead event can be replayed" in text
    _db.session.expire_all()
    assert _db.session.get(OutboxEvent, event.id).status == OutboxStatus.DELIVERED


def test_replay_all_queues_the_dead_events_of_patients_still_sharing(client, login_as, db):
    login_as("admin")
    kept = add_event(sharing_patient(), status=OutboxStatus.DEAD, last_error="x")
    stopped = add_event(sharing_patient(withdrawn=True), status=OutboxStatus.DEAD, last_error="x")
    delivered = add_event(sharing_patient(), status=OutboxStatus.DELIVERED)
    response = client.post("/platform/replay-dead")
    assert response.status_code == 302 and response.headers["Location"].endswith("/platform/")
    assert "Dead events queued again: 1." in page(client.get("/platform/"))
    _db.session.expire_all()
    assert [_db.session.get(OutboxEvent, e.id).status for e in (kept, stopped, delivered)] == [
        OutboxStatus.PENDING, OutboxStatus.DEAD, OutboxStatus.DELIVERED]
    assert [row.detail for row in audit_rows("platform.dead_replayed")] == ["queued=1"]


# ---- who may see it -----------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["doctor", "pharmacist", "patient", "courier"])
def test_no_other_role_sees_or_replays_anything(client, login_as, db, role):
    event = add_event(sharing_patient(), status=OutboxStatus.DEAD, last_error="x")
    login_as(role)
    for method, url in (("GET", "/platform/"), ("GET", f"/platform/events/{event.id}"),
                        ("POST", f"/platform/events/{event.id}/replay"), ("POST", "/platform/replay-dead")):
        assert client.open(url, method=method).status_code == 403, (method, url)
    _db.session.expire_all()
    assert _db.session.get(OutboxEvent, event.id).status == OutboxStatus.DEAD
    assert audit_rows("platform.event_viewed") == []


def test_anonymous_visitors_are_sent_to_sign_in(client, db):
    event = add_event(status=OutboxStatus.DEAD)
    for method, url in (("GET", "/platform/"), ("GET", f"/platform/events/{event.id}"),
                        ("POST", f"/platform/events/{event.id}/replay"), ("POST", "/platform/replay-dead")):
        response = client.open(url, method=method)
        assert response.status_code == 302 and "/accounts/login" in response.headers["Location"], url


def test_the_dashboard_links_to_the_push_health(client, login_as, db):
    login_as("admin")
    assert 'href="/platform/"' in page(client.get("/admin/"))


# ---- languages ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("locale", "words"), [
    ("en", ["Data platform push", "Waiting to be sent", "Medicine dispensed", "Replay all dead events",
            "Exactly what is sent"]),
    ("zh", ["数据平台推送", "待发送", "药品已发放", "重放全部失败事件", "实际发送的内容"]),
])
def test_both_pages_read_in_the_admins_language(client, login_as, db, locale, words):
    event = add_event()
    add_event(status=OutboxStatus.DEAD, last_error="x")
    login_as("admin", locale=locale)
    text = page(client.get("/platform/")) + page(client.get(f"/platform/events/{event.id}"))
    for word in words:
        assert word in text, word
    assert ("Waiting to be sent" in text) is (locale == "en")


def test_the_admin_dashboard_counts_the_platform_events_and_links_to_the_push(client, login_as, db):
    login_as("admin")
    add_event()
    add_event(status=OutboxStatus.DEAD, last_error="HTTP 401: bad signature")
    add_event(status=OutboxStatus.DEAD, last_error="HTTP 401: bad signature")
    text = page(client.get("/admin/"))
    for status, expected in (("pending", 1), ("dead", 2), ("delivered", 0)):
        row = text.split(f'data-platform-status="{status}"')[1].split("</tr>")[0]
        assert f'<td class="text-end">{expected}</td>' in row, (status, row)
    assert "Dead: not sent" in text and 'href="/platform/"' in text
