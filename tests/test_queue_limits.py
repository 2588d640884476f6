"""A work queue shows its oldest QUEUE_SHOWN entries and counts the rest (at, below and above it)."""

import re

import pytest

from app import limits
from tests.review.conftest import (  # noqa: F401  (fixtures)
    AMLODIPINE,
    as_user,
    catalogue_drugs,
    deliver,
    flow,
    pharmacists,
    sign,
    stripe_client,
    visit,
)

SHOWN = 3


@pytest.fixture
def small_queues(monkeypatch):
    monkeypatch.setattr(limits, "QUEUE_SHOWN", SHOWN)


def _listed(page: str, pattern: str) -> list[int]:
    return [int(found) for found in re.findall(pattern, page)]


def _badge(page: str, element_id: str) -> str:
    return re.search(rf'id="{element_id}">(\d+)<', page).group(1)


@pytest.mark.parametrize("waiting", [SHOWN - 1, SHOWN, SHOWN + 1])
def test_the_review_queue_shows_the_oldest_and_counts_the_rest(
        db, client, login_as, pharmacists, sign, small_queues, waiting):  # noqa: F811
    made = [sign(AMLODIPINE) for _ in range(waiting)]
    login_as(pharmacists[0])
    page = client.get("/reviews/").get_data(as_text=True)
    assert _listed(page, r'data-prescription-id="(\d+)"') == [p.id for p in made][:SHOWN]
    assert f'data-queue-count="review" >{waiting}<' in page.replace("  ", " ")
    rest = re.search(r'id="queue-rest">([^<]+)<', page)
    if waiting > SHOWN:
        assert rest and rest.group(1).startswith("1 more prescription is waiting")
    else:
        assert rest is None


@pytest.mark.parametrize("waiting", [SHOWN - 1, SHOWN, SHOWN + 1])
def test_the_doctors_queue_shows_the_longest_waiting_and_counts_the_rest(
        db, client, login_as, flow, small_queues, waiting):  # noqa: F811
    doctor = flow.doctor()
    made = [flow.paid(doctor=doctor) for _ in range(waiting)]
    login_as(doctor)
    page = client.get("/consultations/queue").get_data(as_text=True)
    assert _listed(page, r'queue-item" data-consultation-id="(\d+)"') == [c.id for c in made][:SHOWN]
    assert _badge(page, "queue-length") == str(waiting)
    rest = re.search(r'id="queue-rest">([^<]+)<', page)
    if waiting > SHOWN:
        assert rest and rest.group(1).startswith("1 more patient is waiting")
    else:
        assert rest is None


def test_the_rest_is_counted_in_chinese(db, client, login_as, pharmacists, sign, small_queues):  # noqa: F811
    for _ in range(SHOWN + 2):
        sign(AMLODIPINE)
    pharmacist = pharmacists[0]
    pharmacist.locale = "zh"
    login_as(pharmacist)
    page = client.get("/reviews/").get_data(as_text=True)
    assert "另有 2 张处方在等待" in page


def test_a_queue_page_starts_polling_from_the_version_the_counts_give(
        db, client, login_as, flow, small_queues):  # noqa: F811
    """The page reads the counts once for its badges and its version: the first poll must agree."""
    doctor = flow.doctor()
    for _ in range(SHOWN + 1):
        flow.paid(doctor=doctor)
    login_as(doctor)
    page = client.get("/consultations/queue").get_data(as_text=True)
    version = re.search(r'data-live-version="([0-9a-f]+)"', page).group(1)
    polled = client.get("/queues/counts").get_json()
    assert (polled["version"], polled["counts"]["consultations"]) == (version, SHOWN + 1)
    assert _badge(page, "queue-length") == str(SHOWN + 1)
    flow.paid(doctor=doctor)  # one more patient: the next poll sees a new version
    assert client.get("/queues/counts").get_json()["version"] != version
