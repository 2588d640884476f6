"""The stock lists a page at a time: a store's lots (with totals over every page), the near-expiry report
across stores, transfers and recalls; filters kept, nothing lost or repeated, a bad cursor the first page."""

import itertools
import re
from datetime import timedelta

import pytest

from app.accounts.models import Role
from app.database import utcnow
from app.inventory import services as inventory
from app.inventory import transfers
from app.inventory.models import LotRecall
from app.limits import MAX_ID
from app.pagination import encode
from app.stock import queries as stock_queries
from app.stock import transfer_views
from tests import factories
from tests.paging import listed, next_link, walk
from tests.prescribing.conftest import load_shipped_rows

SIZE = 2
LOT = r'href="/stock/lots/(\d+)"'
AMLODIPINE, NIFEDIPINE = "AMLODIPINE-5MG-TAB", "NIFEDIPINE-30MG-CRTAB"
LOT_NUMBERS = itertools.count(1)  # a lot number names one expiry date across the chain


@pytest.fixture
def small_pages(monkeypatch):
    monkeypatch.setattr(stock_queries, "PAGE_SIZE", SIZE)
    monkeypatch.setattr(stock_queries, "NEAR_EXPIRY_PAGE_SIZE", SIZE)
    monkeypatch.setattr(transfer_views, "PAGE_SIZE", SIZE)


@pytest.fixture
def drugs(db):
    return load_shipped_rows(db, (AMLODIPINE, NIFEDIPINE))


@pytest.fixture
def shop(db, login_as):
    """A store and its pharmacist, signed in."""
    store = factories.make_store()
    pharmacist = factories.make_user(Role.PHARMACIST)
    pharmacist.pharmacist_profile.home_store_id = store.id
    db.session.commit()
    login_as(pharmacist)
    return store, pharmacist


def _lots(db, store, user, drug, count: int, packs: int = 5, first_day: int = 200):
    today = utcnow().date()
    made = [inventory.receive(store, drug, f"{drug.code[:4]}{next(LOT_NUMBERS):04d}",
                              today + timedelta(days=first_day + n), packs, 1500, user) for n in range(count)]
    db.session.commit()
    return made


@pytest.mark.parametrize("count", [SIZE, SIZE + 1])
def test_a_stores_lots_page_by_drug_name_then_expiry(db, client, drugs, shop, small_pages, count):
    store, pharmacist = shop
    # Nifedipine first, so the order shown is the name's, not the order received.
    nifedipine = _lots(db, store, pharmacist, drugs[NIFEDIPINE], count - 1)
    amlodipine = _lots(db, store, pharmacist, drugs[AMLODIPINE], 1)
    pages = walk(client, f"/stock/stores/{store.id}", LOT)
    order = [lot.id for lot in amlodipine + nifedipine]
    assert pages == ([order[:SIZE], order[SIZE:]] if count > SIZE else [order])


def test_the_totals_count_every_page_not_only_the_one_shown(db, client, drugs, shop, small_pages):
    store, pharmacist = shop
    _lots(db, store, pharmacist, drugs[AMLODIPINE], 2 * SIZE + 1, packs=4)
    first = client.get(f"/stock/stores/{store.id}").get_data(as_text=True)
    assert len(listed(first, LOT)) == SIZE
    sellable = re.search(r'data-total="sellable"><strong>[^:]+: (\d+) packs', first)
    assert sellable and int(sellable.group(1)) == 4 * (2 * SIZE + 1)


def test_the_store_filters_travel_with_the_cursor(db, client, drugs, shop, small_pages):
    store, pharmacist = shop
    wanted = _lots(db, store, pharmacist, drugs[AMLODIPINE], SIZE + 1)
    _lots(db, store, pharmacist, drugs[NIFEDIPINE], 2)
    first = client.get(f"/stock/stores/{store.id}?q=amlodipine&status=available").get_data(as_text=True)
    link = next_link(first)
    assert "q=amlodipine" in link and "status=available" in link
    second = client.get(link).get_data(as_text=True)
    assert listed(first, LOT) + listed(second, LOT) == [lot.id for lot in wanted]


@pytest.mark.parametrize("cursor", ["garbage", encode([1, 2, 3]), encode(["x", "2027-02-30", 1]), "A" * 700])
def test_a_garbage_cursor_shows_the_stores_first_page(db, client, drugs, shop, small_pages, cursor):
    store, pharmacist = shop
    made = _lots(db, store, pharmacist, drugs[AMLODIPINE], SIZE + 1)
    response = client.get(f"/stock/stores/{store.id}", query_string={"after": cursor})
    assert response.status_code == 200
    assert listed(response.get_data(as_text=True), LOT) == [lot.id for lot in made][:SIZE]


def test_the_near_expiry_report_pages_across_every_store(app, db, client, login_as, drugs, small_pages,
                                                         monkeypatch):
    monkeypatch.setitem(app.config, "INVENTORY_MIN_SHELF_DAYS", 0)
    admin = factories.make_user(Role.ADMIN)
    stores = [factories.make_store() for _ in range(3)]
    soon = [_lots(db, store, admin, drugs[AMLODIPINE], 1, first_day=10 + n)[0]
            for n, store in enumerate(stores)]
    _lots(db, stores[0], admin, drugs[NIFEDIPINE], 1, first_day=400)  # not near its expiry
    login_as(admin)
    pages = walk(client, "/stock/near-expiry?days=30", LOT)
    assert pages == [[lot.id for lot in soon[:SIZE]], [soon[SIZE].id]]
    assert "days=30" in next_link(client.get("/stock/near-expiry?days=30").get_data(as_text=True))


def test_a_pharmacists_near_expiry_report_holds_only_their_store_whatever_the_cursor(
        app, db, client, drugs, shop, small_pages, monkeypatch):
    monkeypatch.setitem(app.config, "INVENTORY_MIN_SHELF_DAYS", 0)
    store, pharmacist = shop
    mine = _lots(db, store, pharmacist, drugs[AMLODIPINE], 1, first_day=20)
    other = factories.make_store()
    _lots(db, other, pharmacist, drugs[AMLODIPINE], 3, first_day=5)
    for cursor in ("", encode(["1900-01-01", "", 0]), encode(["2999-12-31", "ZZZ", MAX_ID])):
        page = client.get("/stock/near-expiry", query_string={"days": 30, "after": cursor})
        assert set(listed(page.get_data(as_text=True), LOT)) <= {lot.id for lot in mine}


def _transfers(db, drug, user, count: int, sender=None, receiver=None):
    sender, receiver = sender or factories.make_store(), receiver or factories.make_store()
    made = [transfers.request_transfer(sender, receiver, drug, n + 1, user) for n in range(count)]
    db.session.commit()
    return made


def test_transfers_page_newest_first_with_the_status_filter(db, client, login_as, drugs, small_pages):
    admin = factories.make_user(Role.ADMIN)
    made = _transfers(db, drugs[AMLODIPINE], admin, SIZE + 1)
    login_as(admin)
    pages = walk(client, "/stock/transfers?status=requested", r'data-transfer-id="(\d+)"')
    newest_first = [t.id for t in reversed(made)]
    assert pages == [newest_first[:SIZE], newest_first[SIZE:]]
    first = client.get("/stock/transfers?status=requested").get_data(as_text=True)
    assert "status=requested" in next_link(first)
    assert walk(client, "/stock/transfers?status=shipped", r'data-transfer-id="(\d+)"') == [[]]


def test_a_crafted_cursor_never_shows_another_stores_transfers(db, client, drugs, shop, small_pages):
    store, pharmacist = shop
    theirs = _transfers(db, drugs[AMLODIPINE], pharmacist, 3)
    mine = _transfers(db, drugs[AMLODIPINE], pharmacist, 1, sender=store)
    for cursor in (encode(["2999-12-31T00:00:00+00:00", MAX_ID]), "garbage"):
        page = client.get("/stock/transfers", query_string={"after": cursor}).get_data(as_text=True)
        shown = listed(page, r'data-transfer-id="(\d+)"')
        assert shown == [mine[0].id] and not set(shown) & {t.id for t in theirs}


def test_recalls_page_newest_first(db, client, login_as, drugs, small_pages):
    admin = factories.make_user(Role.ADMIN)
    now = utcnow()
    made = [LotRecall(drug_id=drugs[AMLODIPINE].id, lot_number=f"R{n}", reason="Invented test recall.",
                      recalled_by_id=admin.id, recalled_at=now) for n in range(SIZE + 1)]  # one shared time
    db.session.add_all(made)
    db.session.commit()
    login_as(admin)
    pages = walk(client, "/stock/recalls", r'data-recall-id="(\d+)"')
    newest_first = [r.id for r in reversed(made)]
    assert pages == [newest_first[:SIZE], newest_first[SIZE:]]
