"""Keyset pagination: the cursor, and the admin, audit and patient lists read a page at a time, with no
row lost or repeated (even when rows share a time), filters kept, and a bad cursor only the first page."""

import base64
import json
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select, update

from app import pagination
from app.accounts.models import Role
from app.admin import views as admin_views
from app.audit import views as audit_views
from app.audit.models import AuditEvent
from app.consultations import queries as consultation_queries
from app.consultations.models import Consultation
from app.database import utcnow
from app.limits import MAX_ID
from app.prescribing import listing as prescription_listing
from app.prescribing.models import Prescription
from tests import factories
from tests.paging import listed, next_link, walk
from tests.review.conftest import (  # noqa: F401  (fixtures)
    AMLODIPINE,
    as_user,
    catalogue_drugs,
    deliver,
    flow,
    sign,
    stripe_client,
    visit,
)

SIZE = 3
KINDS = [datetime, int]
GARBAGE = ["%%%", "not-base64!", "W10", "e30", pagination.encode(["x", 1]), pagination.encode([1, 2]),
           pagination.encode(["2026-01-01T00:00:00", 5]),  # a time without its zone
           pagination.encode(["2026-01-01T00:00:00+00:00", MAX_ID + 1]),
           pagination.encode(["2026-01-01T00:00:00+00:00", True]),
           pagination.encode(["2026-01-01T00:00:00+00:00", 1, 2]), "A" * 700,
           base64.urlsafe_b64encode(b"\xff\xfe").decode()]


def _raw(values) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


# ---- the cursor ---------------------------------------------------------------------------------

def test_a_cursor_carries_the_last_rows_key_there_and_back():
    moment = datetime(2026, 11, 30, 8, 15, 0, 123456, tzinfo=UTC)
    cursor = pagination.encode([moment, 42])
    assert pagination.decode(cursor, KINDS) == [moment, 42]
    assert pagination.decode(pagination.encode(["阿莫西林", date(2027, 5, 31), 7]), [str, date, int]) \
        == ["阿莫西林", date(2027, 5, 31), 7]


@pytest.mark.parametrize("cursor", [*GARBAGE, "", None])
def test_anything_else_is_no_cursor_at_all(cursor):
    assert pagination.decode(cursor, KINDS) is None


# ---- admin: users -------------------------------------------------------------------------------

@pytest.fixture
def small_pages(monkeypatch):
    for module in (admin_views, audit_views):
        monkeypatch.setattr(module, "PAGE_SIZE", SIZE)
    for module in (prescription_listing, consultation_queries):
        monkeypatch.setattr(module, "PAGE_SIZE", SIZE)


def _listed_users(db) -> list[str]:
    return list(db.session.scalars(select(AuditEvent.detail).where(AuditEvent.action == "admin.users_listed")
                                   .order_by(AuditEvent.id)))


@pytest.mark.parametrize("matching", [SIZE - 1, SIZE, SIZE + 1])
def test_the_user_list_pages_at_its_size_keeping_the_search(db, client, login_as, small_pages, matching):
    login_as(Role.ADMIN)
    made = [factories.make_user(Role.PHARMACIST, display_name=f"Shelf Tester {n}") for n in range(matching)]
    factories.make_user(Role.PHARMACIST, display_name="Counter Tester")  # the search leaves this one out
    factories.make_user(Role.DOCTOR, display_name="Shelf Doctor")  # and the role filter this one
    db.session.commit()
    pages = walk(client, "/admin/users?role=pharmacist&q=Shelf", r'href="/admin/users/(\d+)"')
    newest_first = [user.id for user in reversed(made)]
    assert pages == [newest_first[:SIZE], newest_first[SIZE:]] if matching > SIZE else [newest_first]
    # One audit row per page, naming exactly the accounts that page showed.
    assert _listed_users(db) == [f"role=pharmacist; users={','.join(map(str, ids))}; q=Shelf"
                                 for ids in pages]


def test_the_next_link_keeps_the_filters_and_a_way_back(db, client, login_as, small_pages):
    login_as(Role.ADMIN)
    for n in range(SIZE + 1):
        factories.make_user(Role.PHARMACIST, display_name=f"Shelf Tester {n}")
    db.session.commit()
    first = client.get("/admin/users?role=pharmacist&q=Shelf").get_data(as_text=True)
    link = next_link(first)
    assert "role=pharmacist" in link and "q=Shelf" in link and "after=" in link
    assert 'id="pager-first"' not in first
    second = client.get(link).get_data(as_text=True)
    assert 'id="pager-first"' in second and 'id="pager-next"' not in second


@pytest.mark.parametrize("cursor", GARBAGE)
def test_a_garbage_cursor_shows_the_first_page_of_users(db, client, login_as, small_pages, cursor):
    login_as(Role.ADMIN)
    made = [factories.make_user(Role.COURIER) for _ in range(SIZE + 1)]
    db.session.commit()
    response = client.get("/admin/users", query_string={"role": "courier", "after": cursor})
    assert response.status_code == 200
    assert listed(response.get_data(as_text=True), r'href="/admin/users/(\d+)"') \
        == [user.id for user in reversed(made)][:SIZE]


# ---- admin: the audit trail ---------------------------------------------------------------------

def _events(db, count: int, at: datetime, action: str = "stock.reserved") -> list[AuditEvent]:
    """Events written together (one INSERT gives every row the same time); the detail tells them apart."""
    events = [AuditEvent(occurred_at=at, action=action, object_type="stock_lots", object_id=str(n),
                         detail=f"row-{n}") for n in range(count)]
    db.session.add_all(events)
    db.session.commit()
    return events


ROW = r'translate="no">row-(\d+)<'


def test_events_sharing_one_time_are_each_shown_once_newest_first(db, client, login_as, small_pages):
    login_as(Role.ADMIN)
    now = utcnow()
    same_time = _events(db, 2 * SIZE + 1, now)
    _events(db, 2, now, action="stock.released")  # filtered out
    pages = walk(client, "/audit/?action=stock.reserved", ROW)
    assert [len(page) for page in pages] == [SIZE, SIZE, 1]
    shown = [n for page in pages for n in page]
    assert shown == list(reversed(range(len(same_time))))  # by id, newest first: none lost, none twice


def test_the_audit_filters_travel_with_the_cursor(db, client, login_as, small_pages):
    login_as(Role.ADMIN)
    today = utcnow()
    _events(db, SIZE + 1, today)
    _events(db, 2, today - timedelta(days=10))  # before the date filter
    url = f"/audit/?action=stock.res&date_from={(today - timedelta(days=1)).date().isoformat()}"
    first = client.get(url).get_data(as_text=True)
    link = next_link(first)
    assert "action=stock.res" in link and "date_from=" in link
    assert len(listed(first, ROW)) == SIZE
    assert len(listed(client.get(link).get_data(as_text=True), ROW)) == 1


@pytest.mark.parametrize("cursor", GARBAGE[:4])
def test_a_garbage_cursor_shows_the_newest_events(db, client, login_as, small_pages, cursor):
    login_as(Role.ADMIN)
    _events(db, SIZE + 1, utcnow())
    response = client.get("/audit/", query_string={"action": "stock.reserved", "after": cursor})
    assert response.status_code == 200
    assert listed(response.get_data(as_text=True), ROW) == [SIZE, SIZE - 1, SIZE - 2]


# ---- the patient's own lists --------------------------------------------------------------------

def _same_time(db, model, ids) -> None:
    """Give the rows one creation time, as rows written in the same instant have."""
    db.session.execute(update(model).where(model.id.in_(ids)).values(created_at=utcnow()))
    db.session.commit()
    db.session.expire_all()


@pytest.mark.parametrize("count", [SIZE, SIZE + 1])
def test_the_patients_prescriptions_page_with_no_gap_or_repeat(
        db, client, login_as, small_pages, sign, visit, count):  # noqa: F811
    made = [sign(AMLODIPINE).id for _ in range(count)]
    _same_time(db, Prescription, made)
    login_as(visit.patient)
    pages = walk(client, "/prescriptions/", r'data-prescription-id="(\d+)"')
    newest_first = list(reversed(made))
    assert pages == ([newest_first[:SIZE], newest_first[SIZE:]] if count > SIZE else [newest_first])
    details = db.session.scalars(select(AuditEvent.detail)
                                 .where(AuditEvent.action == "prescription.list_viewed")
                                 .order_by(AuditEvent.id)).all()
    assert details == [f"prescriptions={','.join(map(str, ids))}" for ids in pages]


def test_a_crafted_cursor_never_shows_another_patients_prescriptions(
        db, client, login_as, small_pages, sign, visit):  # noqa: F811
    for _ in range(SIZE + 1):
        sign(AMLODIPINE)
    login_as(visit.patient)
    their_cursor = next_link(client.get("/prescriptions/").get_data(as_text=True)).split("after=")[1]
    client.post("/accounts/logout")
    other = factories.make_patient()
    login_as(other)
    for cursor in (their_cursor, _raw(["2999-12-31T00:00:00+00:00", MAX_ID]),
                   _raw(["1900-01-01T00:00:00+00:00", 0])):
        response = client.get("/prescriptions/", query_string={"after": cursor})
        assert response.status_code == 200
        page = response.get_data(as_text=True)
        assert other.display_name in page  # signed in as the other patient
        assert not listed(page, r'data-prescription-id="(\d+)"')


@pytest.mark.parametrize("count", [SIZE - 1, SIZE + 1])
def test_the_patients_consultations_page_with_no_gap_or_repeat(
        app, db, client, login_as, small_pages, flow, count, monkeypatch):  # noqa: F811
    monkeypatch.setitem(app.config, "CONSULTATION_MAX_UNPAID", SIZE + 1)  # bookings left unpaid
    condition = flow.condition()
    made = [flow.book(condition=condition).id for _ in range(count)]
    _same_time(db, Consultation, made)
    login_as(condition.patient)
    pages = walk(client, "/consultations/", r'href="/consultations/(\d+)"')
    newest_first = list(reversed(made))
    assert pages == ([newest_first[:SIZE], newest_first[SIZE:]] if count > SIZE else [newest_first])


def test_a_crafted_cursor_never_shows_another_patients_consultations(
        db, client, login_as, small_pages, flow):  # noqa: F811
    theirs = [flow.book().id for _ in range(2)]
    mine = flow.book()
    login_as(mine.patient)
    for cursor in (_raw(["2999-12-31T00:00:00+00:00", MAX_ID]), _raw(["1900-01-01T00:00:00+00:00", 0])):
        response = client.get("/consultations/", query_string={"after": cursor})
        assert response.status_code == 200
        assert not set(listed(response.get_data(as_text=True), r'href="/consultations/(\d+)"')) & set(theirs)
    assert listed(client.get("/consultations/?after=garbage").get_data(as_text=True),
                  r'href="/consultations/(\d+)"') == [mine.id]


def test_the_pager_is_in_chinese_for_a_chinese_reader(db, client, login_as, small_pages):
    admin = factories.make_user(Role.ADMIN, locale="zh")
    for _ in range(SIZE + 1):
        factories.make_user(Role.COURIER)
    db.session.commit()
    login_as(admin)
    first = client.get("/admin/users?role=courier").get_data(as_text=True)
    assert ">更早</a>" in first
    assert ">回到最新</a>" in client.get(next_link(first)).get_data(as_text=True)
