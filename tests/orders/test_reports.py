"""Order reports: orders per store per day in each store's own calendar, dispensing times, cold-chain
excursions, refunds and cancelled authorizations; a bounded period; an admin's chain, a pharmacist's store."""

from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser

import pytest
from sqlalchemy import select

from app.accounts.models import Role
from app.audit.models import AuditEvent
from app.delivery import services as deliveries
from app.extensions import db as _db
from app.integrations.stripe_gateway import Intent
from app.orders import dispensing, reports, returns
from app.orders import services as orders
from app.orders.models import PAYABLE, Order
from app.payments import operations
from app.payments import services as payments
from app.templating import yuan
from tests import factories
from tests.orders.conftest import home_address
from tests.orders.test_delivery import INSULIN
from tests.orders.test_dispensing import EVERY_CHECK, _lot, code, coded  # noqa: F401  (fixture)
from tests.query_budget import count_statements

pytestmark = pytest.mark.usefixtures("coded")  # every drug dispensed here has a product code

URL = "/orders/reports"


class _Tables(HTMLParser):
    """The page's tables as {table id: [(row attributes, {cell's data-count, else its tag: text})]}."""

    def __init__(self):
        super().__init__()
        self.tables, self.table, self.row, self.cell = {}, None, None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            self.table = self.tables.setdefault(attrs.get("id"), [])
        elif tag == "tr" and self.table is not None:
            self.row = (attrs, {})
            self.table.append(self.row)
        elif tag in ("td", "th") and self.row is not None:
            self.cell = attrs.get("data-count") or tag
            self.row[1].setdefault(self.cell, "")

    def handle_endtag(self, tag):
        if tag == "table":
            self.table = None
        elif tag == "tr":
            self.row = None

    def handle_data(self, data):
        if self.row is not None and self.cell is not None:
            self.row[1][self.cell] += data.strip()


def tables(page: str) -> dict:
    parser = _Tables()
    parser.feed(page)
    return parser.tables


def day_counts(page: str, table: str = "orders-per-day") -> dict:
    """{(day, store code): {count name: text}} of one per-day table."""
    return {(attrs["data-day"], attrs["data-store"]): cells
            for attrs, cells in tables(page)[table] if "data-day" in attrs}


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _placed(ordering, prescription, shop, moment: datetime, store=None) -> Order:
    """An order placed at the shop through the services (and at once cancelled by the patient, so the
    prescription may be ordered again), then moved to `moment`, and to `store` when given: the report
    reads the times and the store as stored."""
    order = ordering.place(prescription, shop.store)
    orders.cancel_by_patient(order, prescription.patient)
    order.placed_at = order.closed_at = moment
    order.store_id = (store or shop.store).id
    _db.session.commit()
    return order


def _report(client, **query) -> str:
    response = client.get(URL, query_string=query)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_data(as_text=True)


@pytest.fixture
def new_york(db):
    return factories.make_store(code="NY1", name_en="New York", name_zh="纽约", city="New York",
                                time_zone="America/New_York")


# ---- days in each store's calendar ---------------------------------------------------------------

def test_orders_count_on_the_stores_own_day_with_local_midnight_as_the_boundary(
        db, client, login_as, shop, approve, ordering, new_york):
    prescription = approve()
    # Shanghai is UTC+8: 15:59:59 UTC is 23:59:59 on the 9th there, 16:00:00 UTC is midnight of the 10th.
    _placed(ordering, prescription, shop, _at("2025-03-09 15:59:59"))
    _placed(ordering, prescription, shop, _at("2025-03-09 16:00:00"))
    # New York moves its clocks on 9 March 2025 at 07:00 UTC: 04:30 UTC is 23:30 on the 8th (UTC−5)
    # before the change, and 00:30 on the 10th (UTC−4) the day after.
    _placed(ordering, prescription, shop, _at("2025-03-09 04:30:00"), new_york)
    _placed(ordering, prescription, shop, _at("2025-03-10 04:30:00"), new_york)
    login_as(factories.make_user(Role.ADMIN))
    rows = day_counts(_report(client, **{"from": "2025-03-08", "to": "2025-03-10"}))
    assert {key: (cells["placed"], cells["cancelled"]) for key, cells in rows.items()} == {
        ("2025-03-09", "SH1"): ("1", "1"), ("2025-03-10", "SH1"): ("1", "1"),
        ("2025-03-08", "NY1"): ("1", "1"), ("2025-03-10", "NY1"): ("1", "1")}
    # A period ending on the 9th leaves out the order placed at Shanghai's midnight.
    rows = day_counts(_report(client, store=shop.store.id, **{"from": "2025-03-09", "to": "2025-03-09"}))
    assert {key: cells["placed"] for key, cells in rows.items()} == {("2025-03-09", "SH1"): "1"}


def test_a_daylight_saving_change_is_found_to_the_second():
    start, end = _at("2025-03-08 05:00:00"), _at("2025-03-11 04:00:00")
    assert reports.offsets("America/New_York", start, end) == [
        (None, -5 * 3600), (_at("2025-03-09 07:00:00"), -4 * 3600)]
    assert reports.offsets("Asia/Shanghai", start, end) == [(None, 8 * 3600)]


# ---- the period ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("last", "days", "status"), [
    ("2025-04-01", 91, 200), ("2025-04-02", 92, 200), ("2025-04-03", 93, 400)])
def test_a_report_covers_at_most_92_days(db, client, login_as, last, days, status):
    assert (date.fromisoformat(last) - date(2025, 1, 1)).days + 1 == days  # both days included
    login_as(factories.make_user(Role.ADMIN))
    response = client.get(URL, query_string={"from": "2025-01-01", "to": last})
    assert response.status_code == status
    page = response.get_data(as_text=True)
    assert ("A report covers at most 92 days; choose a shorter period." in page) == (status == 400)
    assert ('id="orders-per-day"' in page) == (status == 200)
    csv = client.get(f"{URL}/orders.csv", query_string={"from": "2025-01-01", "to": last})
    assert csv.status_code == status


@pytest.mark.parametrize(("query", "message"), [
    ({"from": "2025-03-10", "to": "2025-03-09"}, "The first day is after the last day."),
    ({"from": "2025-13-01", "to": "2025-03-09"}, "“2025-13-01” is not a date like 2026-05-31."),
    ({"from": "yesterday"}, "“yesterday” is not a date like 2026-05-31."),
    ({"from": "0001-01-01", "to": "0001-01-05"}, "Choose a date between 1900-01-01 and 2999-12-31."),
])
def test_bad_or_reversed_dates_are_refused_with_a_message(db, client, login_as, query, message):
    login_as(factories.make_user(Role.ADMIN))
    response = client.get(URL, query_string=query)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert client.get(f"{URL}/orders.csv", query_string=query).status_code == 400


def test_the_refusal_is_in_the_readers_language(db, client, login_as):
    login_as(factories.make_user(Role.ADMIN, locale="zh"))
    page = client.get(URL, query_string={"from": "2025-01-01", "to": "2025-06-01"}).get_data(as_text=True)
    assert "报表最多涵盖 92 天" in page


def test_the_default_is_the_last_seven_days_of_the_store(db, client, login_as, shop):
    login_as(shop.pharmacist)
    page = _report(client)
    today = shop.store.today()
    assert f'value="{(today - timedelta(days=6)).isoformat()}"' in page
    assert f'value="{today.isoformat()}"' in page


# ---- who sees what -------------------------------------------------------------------------------

@pytest.fixture
def two_stores(db, shop, approve, ordering):
    """An order placed on 1 March 2025 at the test shop (SH1) and one at another store (OT1)."""
    other = factories.make_store(code="OT1")
    prescription = approve()
    _placed(ordering, prescription, shop, _at("2025-03-01 02:00:00"))
    _placed(ordering, prescription, shop, _at("2025-03-01 03:00:00"), other)
    return shop.store, other


MARCH = {"from": "2025-03-01", "to": "2025-03-02"}


def test_an_admin_sees_the_chain_and_can_pick_one_store(db, client, login_as, two_stores):
    _mine, other = two_stores
    login_as(factories.make_user(Role.ADMIN))
    assert set(day_counts(_report(client, **MARCH))) == {("2025-03-01", "SH1"), ("2025-03-01", "OT1")}
    assert set(day_counts(_report(client, store=other.id, **MARCH))) == {("2025-03-01", "OT1")}
    assert client.get(URL, query_string={"store": "999999", **MARCH}).status_code == 404


def test_a_pharmacist_sees_their_own_store_only(db, client, login_as, two_stores, shop):
    mine, other = two_stores
    login_as(shop.pharmacist)
    page = _report(client, **MARCH)
    assert set(day_counts(page)) == {("2025-03-01", "SH1")}
    assert 'id="store"' not in page  # no store picker
    assert set(day_counts(_report(client, store=mine.id, **MARCH))) == {("2025-03-01", "SH1")}
    assert client.get(URL, query_string={"store": other.id, **MARCH}).status_code == 404
    assert client.get(f"{URL}/orders.csv", query_string={"store": other.id, **MARCH}).status_code == 404


def test_another_stores_pharmacist_cannot_see_it(db, client, login_as, two_stores):
    mine, other = two_stores
    elsewhere = factories.make_user(Role.PHARMACIST)
    elsewhere.pharmacist_profile.home_store_id = other.id
    login_as(elsewhere)
    assert set(day_counts(_report(client, **MARCH))) == {("2025-03-01", "OT1")}
    assert client.get(URL, query_string={"store": mine.id, **MARCH}).status_code == 404
    csv = client.get(f"{URL}/orders.csv", query_string=MARCH).get_data(as_text=True)
    assert "OT1" in csv and "SH1" not in csv


@pytest.mark.parametrize("role", [Role.PATIENT, Role.DOCTOR, Role.COURIER])
def test_patients_doctors_and_couriers_are_refused(db, client, login_as, role):
    login_as(role)
    assert client.get(URL).status_code == 403
    assert client.get(f"{URL}/orders.csv").status_code == 403


def test_reading_the_report_is_audited_without_naming_a_patient(db, client, login_as, two_stores):
    mine, _other = two_stores
    admin = login_as(factories.make_user(Role.ADMIN))
    _report(client, store=mine.id, **MARCH)
    [event] = _db.session.scalars(select(AuditEvent).where(AuditEvent.actor_id == admin.id,
                                                           AuditEvent.action == "order.reports_viewed"))
    assert event.patient_id is None and event.detail == "store=SH1; 2025-03-01..2025-03-02; page"


# ---- what the tables show ------------------------------------------------------------------------

def _picked_up(shop, approve, ordering, *, hours_after_approval: float, hours_at_counter: float):
    """A pickup order paid, dispensed and handed over through the services; its times then set."""
    prescription = approve()
    order, _payment = ordering.paid(prescription, shop.store)
    order = _db.session.get(Order, order.id)
    [line] = order.lines
    dispensing.dispense(order, shop.pharmacist, {line.id: (_lot(shop.store, line.drug).lot_number,
                                                           code(order.id))}, EVERY_CHECK)
    _db.session.commit()
    assert dispensing.hand_over(order, shop.pharmacist, order.handover_code)
    approved = _at("2025-03-05 01:00:00")
    prescription.review.decided_at = approved
    order.placed_at = order.paid_at = approved
    order.dispensed_at = approved + timedelta(hours=hours_after_approval)
    order.handed_over_at = order.completed_at = order.dispensed_at + timedelta(hours=hours_at_counter)
    _db.session.commit()
    return order


def test_times_give_the_median_and_90th_percentile_in_hours(db, client, login_as, shop, approve, ordering):
    for to_dispense, at_counter in ((1, 0.5), (2, 3), (10, 24)):
        _picked_up(shop, approve, ordering, hours_after_approval=to_dispense, hours_at_counter=at_counter)
    login_as(shop.pharmacist)
    page = _report(client, **{"from": "2025-03-05", "to": "2025-03-06"})
    [(attrs, cells)] = [row for row in tables(page)["times"] if row[0].get("data-store")]
    # Nearest rank of three: the median is the 2nd time, the 90th percentile the 3rd.
    assert attrs["data-store"] == "SH1"
    assert (cells["0-median"], cells["0-p90"], cells["0-orders"]) == ("2.0", "10.0", "3")
    assert (cells["1-median"], cells["1-p90"], cells["1-orders"]) == ("3.0", "24.0", "3")
    rows = day_counts(page)
    # Approved at 09:00 on the 5th in Shanghai: the last order reached the patient 34 hours later.
    assert (rows[("2025-03-05", "SH1")]["paid"], rows[("2025-03-05", "SH1")]["dispensed"]) == ("3", "3")
    assert rows[("2025-03-05", "SH1")]["handed_over"] == "2"
    assert rows[("2025-03-06", "SH1")]["handed_over"] == "1"


def _wallet_paid(shop, approve, ordering):
    """An order paid from a wallet (charged at once), the way Stripe reports it."""
    prescription = approve()
    order = ordering.place(prescription, shop.store)
    payment = orders.start_payment(order, method_type="alipay")
    payment.stripe_payment_intent_id = f"pi_wallet_report_{order.id}"
    _db.session.commit()
    payments.apply_intent(payment, Intent(id=payment.stripe_payment_intent_id, status="succeeded",
                                          amount=order.total_fen, currency=payment.currency, metadata={}))
    _db.session.commit()
    return _db.session.get(Order, order.id), prescription


def _plain(fen: int) -> str:
    """Yuan as the CSV writes them, for a spreadsheet: 123.45."""
    return f"{fen // 100}.{fen % 100:02d}"


def test_refunds_and_cancelled_authorizations_are_counted_with_their_amounts(
        db, client, login_as, shop, approve, ordering):
    # A card order the patient cancels: its authorization is cancelled (never charged).
    card_order, _payment = ordering.paid(approve(), shop.store)
    orders.cancel_by_patient(card_order, card_order.patient)
    # A wallet order the patient cancels: the charge is refunded.
    wallet_order, prescription = _wallet_paid(shop, approve, ordering)
    orders.cancel_by_patient(wallet_order, prescription.patient)
    # A dispensed card order the store takes back: refunded, its authorization cancelled.
    taken_back, _payment = ordering.paid(approve(), shop.store)
    taken_back = _db.session.get(Order, taken_back.id)
    [line] = taken_back.lines
    dispensing.dispense(taken_back, shop.pharmacist, {line.id: (_lot(shop.store, line.drug).lot_number,
                                                                code(7))}, EVERY_CHECK)
    _db.session.commit()
    returns.cancel_after_dispensing(taken_back, shop.pharmacist, "patient_declined")
    _db.session.commit()
    operations.perform_for_payable(PAYABLE, card_order.id)  # Stripe carries out the first one only
    login_as(shop.pharmacist)
    today = shop.store.today().isoformat()
    page = _report(client, **{"from": today, "to": today})
    [money] = day_counts(page, "refunds").values()
    total = card_order.total_fen + taken_back.total_fen
    assert (money["refunds"], money["refunded_fen"]) == ("1", yuan(wallet_order.total_fen))
    assert (money["cancels"], money["cancelled_fen"]) == ("2", yuan(total))
    assert money["not_done"] == "2"
    [day] = day_counts(page).values()
    assert (day["placed"], day["paid"], day["cancelled"], day["refunded"], day["dispensed"]) == (
        "3", "3", "2", "1", "1")
    csv = client.get(f"{URL}/refunds.csv", query_string={"from": today, "to": today})
    assert csv.mimetype == "text/csv"
    assert f"{today},SH1," in csv.get_data(as_text=True)
    assert f",1,{_plain(wallet_order.total_fen)},2,{_plain(total)},2" in csv.get_data(as_text=True)


def test_a_cold_chain_excursion_is_listed_open_then_resolved(db, client, login_as, shop, approve, ordering,
                                                             visit, courier):
    visit.drugs["INSULIN-GLARGINE-300IU-PEN"].traceability_prefix = "8690003"
    prescription = approve(INSULIN)
    order, _payment = ordering.paid(prescription, shop.store, fulfilment="delivery",
                                    address=home_address(prescription.patient))
    order = _db.session.get(Order, order.id)
    [line] = order.lines
    lot = _lot(shop.store, line.drug)
    dispensing.dispense(order, shop.pharmacist, {line.id: (lot.lot_number, code(1, "8690003"))}, EVERY_CHECK)
    delivery = deliveries.pack(order, shop.pharmacist, courier_id=courier.id, cold_box=True, ice_packs="2",
                               packing_temperature="4.5")
    deliveries.picked_up(delivery, courier, "5.0")
    deliveries.in_transit(delivery, courier, "12.5")  # outside 2–8 °C
    _db.session.commit()
    login_as(shop.pharmacist)
    today = shop.store.today().isoformat()
    page = _report(client, **{"from": today, "to": today})
    [(attrs, cells)] = [row for row in tables(page)["excursions"] if "data-excursion" in row[0]]
    assert attrs["data-order"] == str(order.id)
    assert lot.lot_number in cells["td"] and "12.5 °C" in cells["td"] and "Open" in cells["td"]
    assert order.patient.display_name not in page  # the list names orders, never patients
    deliveries.returned(delivery, courier, "cold chain broken")
    returns.cancel_after_dispensing(order, shop.pharmacist, "cold_chain_excursion")
    _db.session.commit()
    page = _report(client, **{"from": today, "to": today})
    assert '<span class="badge text-bg-danger">Open</span>' not in page
    assert ">Refunded</span>" in page
    csv = client.get(f"{URL}/excursions.csv", query_string={"from": today, "to": today})
    [_header, row] = csv.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert row.startswith(f"{today},SH1,") and f",{order.id}," in row
    assert f",{lot.lot_number},1,12.5,Refunded," in row


# ---- cost and languages --------------------------------------------------------------------------

def test_the_page_runs_the_same_statements_for_2_orders_as_for_8(db, client, login_as, shop, approve,
                                                                  ordering):
    prescription = approve()
    admin = factories.make_user(Role.ADMIN)
    login_as(admin)
    counted, made = {}, 0
    for size in (2, 8):
        while made < size:  # one order a day, each on its own row of the table
            _placed(ordering, prescription, shop, _at("2025-02-01 04:00:00") + timedelta(days=made))
            made += 1
        _db.session.expire_all()
        with count_statements(_db) as seen:
            page = _report(client, **{"from": "2025-02-01", "to": "2025-02-28"})
        assert len(day_counts(page)) == size
        counted[size] = seen
    assert counted[2].count == counted[8].count, str(counted[8])
    # The user, the stores, four report statements, the audit row (and the session's own checks).
    assert counted[8].count <= 9, str(counted[8])


def test_the_page_speaks_english_and_chinese(db, client, login_as, shop):
    login_as(shop.pharmacist)
    english = _report(client)
    assert "Order reports" in english and "Cold-chain excursions" in english
    assert "Refunds and cancelled authorizations" in english
    client.post("/accounts/logout")
    pharmacist = factories.make_user(Role.PHARMACIST, locale="zh")
    pharmacist.pharmacist_profile.home_store_id = shop.store.id
    login_as(pharmacist)
    chinese = _report(client)
    for words in ("订单报表", "每日订单", "冷链温度超标", "退款与取消的预授权", "中位数"):
        assert words in chinese
    assert "Order reports" not in chinese


def test_the_navigation_leads_admins_and_pharmacists_to_the_reports(db, client, login_as, shop):
    login_as(shop.pharmacist)
    assert f'href="{URL}"' in client.get("/orders/store").get_data(as_text=True)
    client.post("/accounts/logout")
    login_as(factories.make_user(Role.ADMIN))
    response = client.get("/admin/")
    assert response.status_code == 200 and f'href="{URL}"' in response.get_data(as_text=True)


def test_the_day_a_moment_falls_on_matches_pythons_calendar(db, shop, new_york, approve, ordering):
    """Moments around midnight in Shanghai and in New York, where the clocks go back on 2 November 2025
    at 06:00 UTC: the day SQL gives each is the day Python's time-zone database gives."""
    prescription = approve()
    moments = ["2025-11-01 15:59:59", "2025-11-01 16:00:00", "2025-11-02 03:59:59", "2025-11-02 04:00:00",
               "2025-11-02 05:59:59", "2025-11-02 06:00:00", "2025-11-03 04:30:00", "2025-11-03 05:00:00"]
    expected = {}
    for store in (shop.store, new_york):
        for moment in map(_at, moments):
            _placed(ordering, prescription, shop, moment, store)
            key = (store.id, store.today(moment))
            expected[key] = expected.get(key, 0) + 1
    window = reports.Period(date(2025, 10, 31), date(2025, 11, 4))
    rows = reports.orders_per_day([shop.store, new_york], window, chain=False)
    assert {(row.store_id, row.day): row.placed for row in rows} == expected
    assert expected[(new_york.id, date(2025, 11, 2))] == 4  # 00:00 EDT to 23:30 EST
