"""The chain's adherence in SQL: the window-function PDC agrees with app.adherence.pdc on made-up fills,
fills are dated in each patient's zone, and the admin dashboard shows per class and per store the pairs
in the 90-day measure and the share adherent."""

import random
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import literal_column, select, union_all, update

from app.accounts.models import Role
from app.adherence import distribution as chain
from app.adherence import pdc as rules
from app.adherence.queries import LOOKBACK_DAYS, patient_adherence
from app.database import utcnow
from app.extensions import db as _db
from app.orders.models import Order
from tests import factories
from tests.adherence.conftest import AMLODIPINE, METFORMIN_BID, completed_on

TODAY = 20_000  # a day number (days since 1970-01-01); the arithmetic does not care which


def _literal_fills(fills: list[tuple]):
    """(patient, key, d, s) rows as the subquery chain.fill_days() would give, without any order."""
    def value(item) -> str:
        return f"'{item}'" if isinstance(item, str) else str(item)

    rows = [select(*[literal_column(value(item)).label(name)
                     for name, item in (("patient_id", patient), ("key", key), ("store_id", 1),
                                        ("atc_class", "C08"), ("d", d), ("s", s), ("e", TODAY),
                                        ("order_id", number), ("line_id", number))])
            for number, (patient, key, d, s) in enumerate(fills, 1)]
    return union_all(*rows).subquery("fills")


def _made_up(seed: int) -> list[tuple]:
    """Pairs of every shape: one fill, fills after today or before the lookback, early refills, gaps,
    several on one day, supplies up to the longest allowed."""
    rng = random.Random(seed)
    fills = []
    for pair in range(60):
        patient, key = pair // 3 + 1, f"K{pair % 3}"
        for _ in range(rng.choice((1, 2, 2, 3, 4, 6))):
            ago = rng.choice((rng.randint(0, 100), rng.randint(0, 200), rng.randint(0, LOOKBACK_DAYS + 30),
                              -rng.randint(1, 5)))
            d = TODAY - ago
            s = rng.choice((7, 14, 28, 30, 56, 84, rng.randint(1, rules.MAX_DAYS_SUPPLY)))
            fills.append((patient, key, d, s))
    return fills


def _in_python(fills: list[tuple], window_days: int) -> dict:
    end = date.fromordinal(date(1970, 1, 1).toordinal() + TODAY)
    groups: dict = {}
    for patient, key, d, s in fills:
        day = date.fromordinal(date(1970, 1, 1).toordinal() + d)
        if end - timedelta(days=LOOKBACK_DAYS) < day <= end:
            groups.setdefault((patient, key), []).append(rules.Fill(key, day, s))
    return {pair: rules.window(group, end, window_days) for pair, group in groups.items()}


def test_the_window_functions_compute_what_the_pqa_rules_say(db):
    for seed in (1, 2, 3):
        fills = _made_up(seed)
        for window_days in (90, 180):
            expected = _in_python(fills, window_days)
            found = {(row.patient_id, row.key): row for row in
                     _db.session.execute(chain.measure(_literal_fills(fills), window_days)).all()}
            assert found.keys() == expected.keys()
            for pair, result in expected.items():
                row = found[pair]
                assert (row.covered, row.period, row.dates >= 2) == (
                    result.covered_days, result.period_days, result.eligible), (seed, window_days, pair)


# ---- from the orders, in the patients' zones ------------------------------------------------------

def _pairs(now) -> dict:
    return {(row.patient_id, row.key): row for row in _db.session.execute(
        chain.measure(chain.fill_days(now), chain.MEASURED_DAYS)).all()}


def test_a_fill_counts_on_the_patient_s_own_day(db, visit, receive):
    """03:00 UTC is still the evening before in New York: both fills are a day earlier there than in
    Shanghai, and the SQL and the patient's page agree on it."""
    now = datetime.combine(utcnow().date(), time(15), tzinfo=UTC)  # the same date in both zones
    first, second = receive(), receive()
    completed_on(first, datetime.combine(now.date() - timedelta(days=40), time(3), tzinfo=UTC))
    completed_on(second, datetime.combine(now.date() - timedelta(days=10), time(3), tzinfo=UTC))
    for zone, first_day in (("Asia/Shanghai", 40), ("America/New_York", 41)):
        visit.patient.time_zone = zone
        _db.session.commit()
        # From the first fill: its 28 days, then the second's, 30 days later, up to today.
        period, covered = first_day + 1, 28 + (first_day - 30) + 1
        page = patient_adherence(visit.patient.id, now).drugs[0].pdc[90]
        row = _pairs(now)[(visit.patient.id, "C08CA01")]
        assert (page.period_days, page.covered_days) == (row.period, row.covered) == (period, covered), zone


def test_a_zone_the_system_does_not_know_counts_in_the_clinic_s_zone(db, visit, receive):
    now = datetime.combine(utcnow().date(), time(15), tzinfo=UTC)
    first, second = receive(), receive()
    # 20:00 UTC is the next day in China.
    completed_on(first, datetime.combine(now.date() - timedelta(days=40), time(20), tzinfo=UTC))
    completed_on(second, now - timedelta(hours=1))
    visit.patient.time_zone = "Mars/Olympus_Mons"
    _db.session.commit()
    row = _pairs(now)[(visit.patient.id, "C08CA01")]
    assert row.period == 40 and row.dates == 2  # from the day after in Shanghai, to today


# ---- the admin dashboard --------------------------------------------------------------------------

def _dashboard(as_user) -> str:
    admin = factories.make_user(Role.ADMIN)
    response = as_user(admin).get("/admin/")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_the_dashboard_shows_each_class_and_store_with_the_share_adherent(
        db, as_user, visit, received_on, shop):
    other_store = factories.make_store(code="BJ1", name_en="Beijing Store", name_zh="北京门店")
    received_on(80, METFORMIN_BID)  # metformin (A10): 10 days, then again 55 days later: 20 of 81 days
    received_on(50, AMLODIPINE)  # amlodipine (C08): 28 days, refilled early: 51 of 51 days
    latest = received_on(25, AMLODIPINE, METFORMIN_BID)
    # The latest fill was at another store: both pairs count there, none at the first store.
    _db.session.execute(update(Order).where(Order.id == latest.id).values(store_id=other_store.id))
    _db.session.commit()
    page = _dashboard(as_user)
    section = page.split('id="adherence-distribution"')[1]
    assert 'data-eligible="2" data-adherent="1"' in section.split('id="adherence-by-class"')[0]  # the chain
    classes = section.split('id="adherence-by-class"')[1].split("</table>")[0]
    assert 'data-atc-class="C08" data-eligible="1" data-adherent="1"' in classes
    assert "C08 · Calcium channel blockers" in classes and "1 (100%)" in classes
    assert 'data-atc-class="A10" data-eligible="1" data-adherent="0"' in classes
    assert "A10 · Drugs used in diabetes" in classes and "0 (0%)" in classes
    stores = section.split('id="adherence-by-store"')[1].split("</table>")[0]
    assert f'data-store-id="{other_store.id}" data-eligible="2" data-adherent="1"' in stores
    assert "BJ1 · Beijing Store" in stores and f'data-store-id="{shop.store.id}"' not in stores
    # The patient's own page says the same of each pair.
    drugs = {drug.key: drug for drug in patient_adherence(visit.patient.id).drugs}
    assert drugs["C08CA01"].adherent(90) is True and drugs["A10BA02"].adherent(90) is False
    assert drugs["A10BA02"].pdc[90].covered_days == 20 and drugs["A10BA02"].pdc[90].period_days == 81


def test_the_dashboard_says_when_nobody_is_in_the_measure_yet(db, as_user, visit, received_on):
    received_on(3, AMLODIPINE)  # one fill: not yet measured
    page = _dashboard(as_user)
    assert 'id="adherence-chain-none"' in page and "adherence-by-class" not in page


def test_only_the_largest_classes_and_stores_are_listed(db, monkeypatch, visit, received_on):
    received_on(40, AMLODIPINE, METFORMIN_BID)
    received_on(10, AMLODIPINE, METFORMIN_BID)
    monkeypatch.setattr(chain, "CLASSES_SHOWN", 1)
    found = chain.distribution()
    assert found.chain.eligible == 2 and len(found.classes) == 1 and found.more_classes == 1
    assert found.classes[0].atc_class == "A10"  # a tie in pairs: by code
    assert len(found.stores) == 1 and found.more_stores == 0

