"""The order lists stay flat as orders pile up: the patient's orders a page at a time, newest first; the
store's queue and the courier's trips show the oldest few and count the rest (at, below and above the
limit); each page runs as many SQL statements with 2 rows as with 8."""

import re

import pytest
from sqlalchemy import select

from app import limits
from app.delivery import services as deliveries
from app.delivery.models import Delivery
from app.extensions import db as _db
from app.orders import dispensing, queries
from app.orders.models import Order
from tests import factories
from tests.orders.conftest import home_address
from tests.orders.test_dispensing import EVERY_CHECK, _lot, code, coded  # noqa: F401  (fixture)
from tests.paging import listed, walk
from tests.query_budget import count_statements

SHOWN = 3
SMALL, LARGE = 2, 8


@pytest.fixture
def small_lists(monkeypatch):
    monkeypatch.setattr(limits, "QUEUE_SHOWN", SHOWN)
    monkeypatch.setattr(queries, "PAGE_SIZE", SHOWN)


@pytest.fixture
def paid_orders(shop, approve, ordering):
    """`paid_orders(n)`: n more paid pickup orders at the shop, each its own approved prescription."""

    def made(count: int) -> list[Order]:
        return [ordering.paid(approve(), shop.store)[0] for _ in range(count)]

    return made


@pytest.fixture
def parcels(shop, approve, ordering, courier, coded):  # noqa: F811
    """`parcels(n)`: n more orders dispensed, packed and assigned to the courier; their deliveries."""
    serial = iter(range(1, 1000))

    def made(count: int) -> list[Delivery]:
        found = []
        for _ in range(count):
            prescription = approve()
            order, _payment = ordering.paid(prescription, shop.store, fulfilment="delivery",
                                            address=home_address(prescription.patient))
            order = _db.session.get(Order, order.id)
            [line] = order.lines
            scan = (_lot(shop.store, line.drug).lot_number, code(next(serial), line.drug.traceability_prefix))
            dispensing.dispense(order, shop.pharmacist, {line.id: scan}, EVERY_CHECK)
            found.append(deliveries.pack(order, shop.pharmacist, courier_id=courier.id))
            _db.session.commit()
        return found

    return made


def _get(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def _rest(page: str) -> str | None:
    found = re.search(r'id="queue-rest">([^<]+)<', page)
    return found.group(1) if found else None


# ---- the patient's orders, a page at a time ------------------------------------------------------

@pytest.mark.parametrize("count", [SHOWN - 1, SHOWN, SHOWN + 1, 2 * SHOWN + 1])
def test_the_patients_orders_come_a_page_at_a_time_newest_first(db, client, login_as, shop, approve, ordering,
                                                               small_lists, count):
    made = [ordering.place(approve(), shop.store) for _ in range(count)]
    login_as(made[0].patient)
    pages = walk(client, "/orders/", r'data-order-id="(\d+)"')
    assert [order for page in pages for order in page] == [order.id for order in reversed(made)]
    assert [len(page) for page in pages] == [min(SHOWN, count - n) for n in range(0, count, SHOWN)]


def test_the_next_page_link_is_worded_in_the_patients_language(db, client, login_as, shop, approve, ordering,
                                                              small_lists):
    made = [ordering.place(approve(), shop.store) for _ in range(SHOWN + 1)]
    patient = made[0].patient
    patient.locale = "zh"
    login_as(patient)
    first = _get(client, "/orders/")
    assert 'id="pager-next"' in first and "更早" in first
    older = re.search(r'id="pager-next" rel="next" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    assert listed(_get(client, older), r'data-order-id="(\d+)"') == [made[0].id]


def test_a_cursor_never_shows_another_patients_orders(db, client, login_as, shop, approve, ordering,
                                                      small_lists):
    mine = [ordering.place(approve(), shop.store) for _ in range(SHOWN + 1)]
    login_as(factories.make_patient())
    assert listed(_get(client, "/orders/"), r'data-order-id="(\d+)"') == []
    page = _get(client, "/orders/?after=not-a-cursor")
    assert not set(listed(page, r'data-order-id="(\d+)"')) & {order.id for order in mine}


# ---- the store's queue and the courier's trips ---------------------------------------------------

@pytest.mark.parametrize("waiting", [SHOWN - 1, SHOWN, SHOWN + 1])
def test_the_store_queue_shows_the_oldest_orders_and_counts_the_rest(db, client, login_as, shop, paid_orders,
                                                                     small_lists, waiting):
    made = paid_orders(waiting)
    login_as(shop.pharmacist)
    page = _get(client, "/orders/store")
    assert listed(page, r'data-order-id="(\d+)"') == [order.id for order in made][:SHOWN]
    rest = _rest(page)
    if waiting > SHOWN:
        assert rest and rest.startswith("1 more order is waiting")
    else:
        assert rest is None


def test_the_rest_of_the_store_queue_is_counted_in_chinese(db, client, login_as, shop, paid_orders,
                                                           small_lists):
    paid_orders(SHOWN + 2)
    shop.pharmacist.locale = "zh"
    login_as(shop.pharmacist)
    assert _rest(_get(client, "/orders/store")).startswith("另有 2 个订单在等待")


def test_another_stores_orders_are_neither_listed_nor_counted(db, client, login_as, shop, paid_orders,
                                                              small_lists):
    paid_orders(SHOWN + 1)
    elsewhere = factories.make_user("pharmacist")
    elsewhere.pharmacist_profile.home_store_id = factories.make_store(code="ELSE").id
    login_as(elsewhere)
    page = _get(client, "/orders/store")
    assert listed(page, r'data-order-id="(\d+)"') == [] and _rest(page) is None


@pytest.mark.parametrize("assigned", [SHOWN - 1, SHOWN, SHOWN + 1])
def test_the_couriers_list_shows_the_oldest_trips_and_counts_the_rest(db, client, login_as, courier, parcels,
                                                                      small_lists, assigned):
    made = parcels(assigned)
    login_as(courier)
    page = _get(client, "/deliveries/")
    assert listed(page, r'data-delivery-id="(\d+)"') == [delivery.id for delivery in made][:SHOWN]
    rest = _rest(page)
    if assigned > SHOWN:
        assert rest and rest.startswith("1 more delivery is assigned to you")
    else:
        assert rest is None


def test_a_finished_trip_leaves_the_couriers_list(db, client, login_as, courier, parcels, small_lists):
    first, second = parcels(2)
    deliveries.picked_up(first, courier)
    order = _db.session.get(Order, first.order_id)
    assert deliveries.delivered(first, courier, code=order.handover_code)
    _db.session.commit()
    login_as(courier)
    assert listed(_get(client, "/deliveries/"), r'data-delivery-id="(\d+)"') == [second.id]


# ---- query budgets ------------------------------------------------------------------------------

def _statements(db, client, url: str, pattern: str, expected: list[int]):
    db.session.expire_all()
    with count_statements(db) as seen:
        page = _get(client, url)
    assert listed(page, pattern) == expected, url
    return seen


def _flat(small, large, budget: int) -> None:
    print(f"statements: {small.count} → {large.count}")
    assert small.count == large.count, f"{small.count} → {large.count} statements:\n{large}"
    assert large.count <= budget, str(large)
    assert large.inserts <= 1  # one audit row for the list, not one per order


def test_the_patients_order_list_is_flat(db, client, login_as, shop, approve, ordering):
    made = [ordering.place(approve(), shop.store) for _ in range(SMALL)]
    login_as(made[0].patient)
    pattern = r'data-order-id="(\d+)"'
    small = _statements(db, client, "/orders/", pattern, [order.id for order in reversed(made)])
    made += [ordering.place(approve(), shop.store) for _ in range(LARGE - SMALL)]
    large = _statements(db, client, "/orders/", pattern, [order.id for order in reversed(made)])
    _flat(small, large, budget=5)


def test_the_store_queue_is_flat(db, client, login_as, shop, paid_orders):
    made = paid_orders(SMALL)
    login_as(shop.pharmacist)
    pattern = r'data-order-id="(\d+)"'
    small = _statements(db, client, "/orders/store", pattern, [order.id for order in made])
    made += paid_orders(LARGE - SMALL)
    large = _statements(db, client, "/orders/store", pattern, [order.id for order in made])
    _flat(small, large, budget=7)


def test_the_couriers_list_is_flat(db, client, login_as, courier, parcels):
    made = parcels(SMALL)
    login_as(courier)
    pattern = r'data-delivery-id="(\d+)"'
    small = _statements(db, client, "/deliveries/", pattern, [delivery.id for delivery in made])
    made += parcels(LARGE - SMALL)
    large = _statements(db, client, "/deliveries/", pattern, [delivery.id for delivery in made])
    _flat(small, large, budget=4)


def test_the_stores_query_uses_one_statement_for_the_rows_and_one_count_when_full(db, shop, paid_orders):
    made = paid_orders(SHOWN + 1)
    db.session.expire_all()
    with count_statements(db) as seen:
        shown, total = queries.store_queue(shop.store.id, SHOWN)
    assert [order.id for order in shown] == [order.id for order in made][:SHOWN] and total == SHOWN + 1
    assert sum(sql.startswith("SELECT count(") for sql in seen.statements) == 1
    assert _db.session.scalar(select(Order.status).where(Order.id == made[0].id)) == "paid"
