"""A long conversation: the consultation page shows the latest messages and links to the earlier ones,
a page at a time, for both participants and in both languages, at a cost that does not grow with it."""

import re

import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.consultations.models import ConsultationMessage
from app.consultations.queries import MESSAGES_SHOWN
from tests import factories
from tests.query_budget import count_statements

N = MESSAGES_SHOWN
NOTE = re.compile(r"note-(\d{4})\.")
EARLIER = re.compile(r'id="earlier-messages"[^>]*href="([^"]+)"')


def _write(db, consultation, count: int) -> list[int]:
    """`count` more messages, taking turns (odd numbers the doctor's); their bodies number them from 1
    in the order written."""
    start = db.session.query(ConsultationMessage).filter_by(consultation_id=consultation.id).count()
    senders = (consultation.patient_id, consultation.doctor_id)
    rows = [ConsultationMessage(consultation_id=consultation.id, sender_id=senders[n % 2],
                                body=f"note-{n:04d}.") for n in range(start + 1, start + count + 1)]
    db.session.add_all(rows)
    db.session.commit()
    return [row.id for row in rows]


def _page(browser, url: str) -> str:
    response = browser.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def _notes(page: str) -> list[int]:
    return [int(number) for number in NOTE.findall(page)]


def _earlier(page: str) -> str | None:
    found = EARLIER.search(page)
    return found.group(1).replace("&amp;", "&") if found else None


@pytest.fixture
def talk(db, flow):
    return flow.accepted()


@pytest.mark.parametrize("who", ["patient", "doctor"])
def test_with_exactly_n_messages_the_page_shows_them_all_and_no_earlier_link(db, talk, as_user, who):
    _write(db, talk, N)
    page = _page(as_user(getattr(talk, who)), f"/consultations/{talk.id}")
    assert _notes(page) == list(range(1, N + 1))
    assert _earlier(page) is None


@pytest.mark.parametrize("who", ["patient", "doctor"])
def test_one_message_more_moves_the_first_one_behind_the_earlier_link(db, talk, as_user, who):
    ids = _write(db, talk, N + 1)
    browser = as_user(getattr(talk, who))
    page = _page(browser, f"/consultations/{talk.id}")
    assert _notes(page) == list(range(2, N + 2))  # the latest N, oldest at the top
    assert f'data-last-id="{ids[-1]}"' in page  # the live poll goes on from the newest one
    earlier = _earlier(page)
    assert earlier and earlier.startswith(f"/consultations/{talk.id}/messages/earlier?after=")
    older = _page(browser, earlier)
    assert _notes(older) == [1]
    assert _earlier(older) is None
    assert f'href="/consultations/{talk.id}#messages"' in older


def test_following_the_earlier_links_reaches_every_message_once_in_order(db, talk, as_user):
    _write(db, talk, 2 * N + 7)
    browser = as_user(talk.patient)
    page = _page(browser, f"/consultations/{talk.id}")
    pages = [_notes(page)]
    while (link := _earlier(page)) is not None:
        page = _page(browser, link)
        pages.append(_notes(page))
    assert [len(shown) for shown in pages] == [N, N, 7]
    assert [n for shown in reversed(pages) for n in shown] == list(range(1, 2 * N + 8))


def test_a_malformed_cursor_shows_the_latest_messages(db, talk, as_user):
    _write(db, talk, N + 3)
    page = _page(as_user(talk.doctor), f"/consultations/{talk.id}/messages/earlier?after=not-a-cursor")
    assert _notes(page) == list(range(4, N + 4))


def test_the_earlier_messages_are_audited_and_only_the_two_participants_see_them(db, talk, as_user):
    _write(db, talk, N + 1)
    url = _earlier(_page(as_user(talk.patient), f"/consultations/{talk.id}"))
    _page(as_user(talk.doctor), url)
    row = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "consultation.messages_read")
                            .order_by(AuditEvent.id.desc()))
    assert (row.actor_id, row.patient_id, row.object_id) == (talk.doctor_id, talk.patient_id, str(talk.id))
    for outsider in (factories.make_patient(), factories.make_user(talk.doctor.role)):
        assert as_user(outsider).get(url).status_code == 404


@pytest.mark.parametrize(("language", "link", "other"), [("en", "Earlier messages", "更早的消息"),
                                                          ("zh", "更早的消息", "Earlier messages")])
def test_the_earlier_link_and_page_speak_the_readers_language(db, talk, as_user, language, link, other):
    _write(db, talk, N + 1)
    for reader in (talk.patient, talk.doctor):
        reader.locale = language
        browser = as_user(reader)
        page = _page(browser, f"/consultations/{talk.id}")
        assert link in page and other not in page
        older = _page(browser, _earlier(page))
        assert link in older and other not in older


def test_a_posted_message_appears_at_the_end_of_a_long_thread(db, talk, as_user):
    _write(db, talk, N + 5)
    browser = as_user(talk.patient)
    response = browser.post(f"/consultations/{talk.id}/messages", data={"body": "note-9999."})
    assert response.status_code == 303
    page = _page(browser, f"/consultations/{talk.id}")
    assert _notes(page) == [*range(7, N + 6), 9999]


def test_the_poll_answers_in_bounded_batches_that_catch_up_in_order(db, talk, as_user):
    ids = _write(db, talk, N + 4)
    browser = as_user(talk.doctor)
    first = browser.get(f"/consultations/{talk.id}/messages?after=0&state=x").get_json()
    assert [m["id"] for m in first["messages"]] == ids[:N]
    assert [m["mine"] for m in first["messages"][:2]] == [True, False]
    assert first["messages"][1]["sender"] == talk.patient.display_name
    rest = browser.get(f"/consultations/{talk.id}/messages?after={ids[N - 1]}&state=x").get_json()
    assert [m["body"] for m in rest["messages"]] == [f"note-{n:04d}." for n in range(N + 1, N + 5)]
    latest = browser.get(f"/consultations/{talk.id}/messages?after={ids[-1]}&state={first['state']}")
    assert latest.get_json()["messages"] == []


# The doctor's page also reads the patient's record, with its adherence panel (one statement).
@pytest.mark.parametrize(("who", "budget"), [("patient", 8), ("doctor", 17)])
def test_the_page_costs_the_same_statements_with_3_messages_as_with_many(db, talk, as_user, who, budget):
    browser = as_user(getattr(talk, who))
    url = f"/consultations/{talk.id}"
    counts, written = {}, 0
    for total in (3, 2 * N + 10):
        written += len(_write(db, talk, total - written))
        db.session.expire_all()
        with count_statements(db) as seen:
            page = _page(browser, url)
        assert f"note-{total:04d}." in page
        counts[total] = seen
    few, many = counts.values()
    assert few.count == many.count, f"{few.count} → {many.count}:\n{many}"
    assert many.count <= budget, str(many)
    earlier = _earlier(page)
    db.session.expire_all()
    with count_statements(db) as seen:
        _page(browser, earlier)
    assert seen.count <= budget, str(seen)
