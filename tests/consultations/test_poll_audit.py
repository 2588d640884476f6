"""An open consultation page asks for news every few seconds: opening it is audited once, and a poll
only when its answer tells the page something new."""

import html
import re

from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.consultations import services as consultations

POLLS = 5


def rows(db, consultation) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.object_type == "consultations", AuditEvent.object_id == str(consultation.id)))


def page_state(response) -> tuple[str, int]:
    page = response.get_data(as_text=True)
    state = html.unescape(re.search(r'data-state="([^"]*)"', page).group(1))
    return state, int(re.search(r'data-last-id="(\d+)"', page).group(1))


def test_polls_with_nothing_new_write_no_audit_rows_and_a_new_message_writes_one(db, flow, as_user):
    consultation = flow.accepted()
    browser = as_user(consultation.patient)
    url = f"/consultations/{consultation.id}"
    before_open = rows(db, consultation)
    state, last_id = page_state(browser.get(url))
    assert rows(db, consultation) == before_open + 1  # the page view

    opened = rows(db, consultation)
    for _ in range(POLLS):
        answer = browser.get(f"{url}/messages", query_string={"after": last_id, "state": state}).get_json()
        assert answer["messages"] == [] and answer["state"] == state
    assert rows(db, consultation) == opened

    message = consultations.post_message(consultation, consultation.doctor, "Take it with breakfast.")
    db.session.commit()
    sent = rows(db, consultation)
    news = browser.get(f"{url}/messages", query_string={"after": last_id, "state": state}).get_json()
    assert [m["body"] for m in news["messages"]] == ["Take it with breakfast."]
    assert rows(db, consultation) == sent + 1
    assert db.session.scalar(select(AuditEvent.action).order_by(AuditEvent.id.desc())) == \
        "consultation.messages_read"

    for _ in range(POLLS):
        browser.get(f"{url}/messages", query_string={"after": message.id, "state": state})
    assert rows(db, consultation) == sent + 1


def test_status_polls_are_audited_only_when_the_state_changed(db, flow, as_user):
    consultation = flow.paid()
    browser = as_user(consultation.patient)
    url = f"/consultations/{consultation.id}"
    state, _ = page_state(browser.get(url))
    opened = rows(db, consultation)
    for _ in range(POLLS):
        assert browser.get(f"{url}/status", query_string={"state": state}).get_json()["state"] == state
    assert rows(db, consultation) == opened

    consultations.accept(consultation, consultation.doctor)
    db.session.commit()
    accepted = rows(db, consultation)
    changed = browser.get(f"{url}/status", query_string={"state": state}).get_json()
    assert changed["status"] == "in_progress" and changed["state"] != state
    assert rows(db, consultation) == accepted + 1


def test_a_poll_that_says_nothing_of_its_state_is_audited(db, flow, as_user):
    consultation = flow.paid()
    browser = as_user(consultation.patient)
    before = rows(db, consultation)
    browser.get(f"/consultations/{consultation.id}/status")
    assert rows(db, consultation) == before + 1
