"""Which stores can fill a prescription now, nearest first, and which could after a transfer: enough
available, in-date packs; cold chain only where it can be kept; delivery only inside a store's area."""

from datetime import UTC, datetime, time

import pytest
from sqlalchemy import event, select

from app.errors import DomainError
from app.extensions import db as _db
from app.inventory import ledger, services
from app.inventory.models import LotStatus, StockLot, Store, StoreServiceCity
from tests.inventory.conftest import AMLODIPINE, INSULIN, METFORMIN, in_days
from tests.inventory.transfer_helpers import make_store, refused

JINGAN = (31.2286, 121.4480)  # the patient, in Shanghai: Xuhui about 4.6 km, Pudong about 9.2 km


@pytest.fixture
def chain(stock):
    """Four stores: Xuhui and Pudong in Shanghai, Hangzhou, and Beijing without coordinates (the
    fixture's own empty stores are closed)."""
    for store in _db.session.scalars(select(Store)):
        store.is_active = False
    stock.xuhui = make_store("XH", lat=31.1884, lng=121.4366,
                             service_cities=[StoreServiceCity(city="Shanghai")])
    stock.pudong = make_store("PD", cold_chain=False, lat=31.2215, lng=121.5443, delivery_radius_km=15)
    stock.hangzhou = make_store("HZ", lat=30.2741, lng=120.1551,
                                service_cities=[StoreServiceCity(city="Hangzhou")])
    stock.beijing = make_store("BJ", city="Beijing", service_cities=[StoreServiceCity(city="Beijing")])
    for store in (stock.xuhui, stock.pudong, stock.beijing):
        stock.receive(f"A-{store.code}", in_days(300), 10, AMLODIPINE, into=store)
        stock.receive(f"M-{store.code}", in_days(300), 10, METFORMIN, into=store)
    stock.receive("A-HZ", in_days(300), 10, AMLODIPINE, into=stock.hangzhou)  # no metformin in Hangzhou
    stock.drug = lambda code: stock.drugs[code]
    return stock


def _lot(number) -> StockLot:
    return _db.session.scalar(select(StockLot).where(StockLot.lot_number == number))


def codes(options) -> list[str]:
    return [option.store.code for option in options]


def fill(chain, amlodipine=2, metformin=1, days=30, **kwargs):
    items = {chain.drug(AMLODIPINE): amlodipine, chain.drug(METFORMIN): metformin}
    return services.stores_that_can_fill(items, days, **kwargs)


def test_for_pickup_every_store_with_all_items_is_listed_nearest_first_unknown_distance_last(db, chain):
    found = fill(chain, patient_lat=JINGAN[0], patient_lng=JINGAN[1])
    assert codes(found.now) == ["XH", "PD", "BJ"]
    assert [round(option.distance_km, 1) for option in found.now[:2]] == [4.6, 9.2]
    assert found.now[2].distance_km is None
    assert found.now[0].transfers == ()


def test_a_store_missing_an_item_could_fill_after_a_transfer_from_the_nearest_store_with_enough(db, chain):
    found = fill(chain, metformin=4, patient_lat=JINGAN[0], patient_lng=JINGAN[1])
    [hangzhou] = found.after_transfer
    [transfer] = hangzhou.transfers
    assert (hangzhou.store, transfer.drug.code, transfer.packs, transfer.from_store) == (
        chain.hangzhou, METFORMIN, 4, chain.xuhui)  # Xuhui is nearer Hangzhou than Pudong
    eleven = codes(fill(chain, metformin=11).after_transfer)
    assert eleven == ["BJ", "PD", "XH"]  # each is 1 short, which any other can send
    assert "HZ" not in eleven  # short of all 11, and no single store has 11 to send
    chain.receive("M-HZ", in_days(300), 1, METFORMIN, into=chain.hangzhou)
    [transfer] = fill(chain, metformin=4).after_transfer[0].transfers
    assert transfer.packs == 3  # only the shortfall travels


def test_short_lots_and_lots_that_cannot_be_sold_do_not_count(db, chain):
    chain.receive("SOON", in_days(20), 50, METFORMIN, into=chain.hangzhou, at=in_days(-100))
    assert "HZ" not in codes(fill(chain, days=30).now)  # expires before a 30-day supply is used up
    assert "HZ" in codes(fill(chain, days=14).now)
    services.reserve(chain.xuhui, {chain.drug(AMLODIPINE): 9}, 30, ("order", 1), chain.pharmacist)
    ledger.change_status(_lot("M-PD"), LotStatus.QUARANTINED, "temperature_excursion", user=chain.pharmacist)
    assert codes(fill(chain).now) == ["BJ"]  # Xuhui has 1 free pack, Pudong's metformin is quarantined
    after = {option.store.code: option for option in fill(chain).after_transfer}
    assert {code: [(t.drug.code, t.packs) for t in option.transfers] for code, option in after.items()} == {
        "XH": [(AMLODIPINE, 1)], "PD": [(METFORMIN, 1)], "HZ": [(METFORMIN, 1)]}
    # Nor is a lot sent that would not last the supply plus the journey (and at least 30 days).
    assert codes(fill(chain, metformin=30, days=14).now) == ["HZ"]
    assert codes(fill(chain, metformin=30, days=14).after_transfer) == []


def test_cold_chain_items_only_in_stores_that_can_keep_them(db, chain):
    for store in (chain.xuhui, chain.pudong):
        store.is_cold_chain_capable = True
        chain.receive(f"I-{store.code}", in_days(300), 5, INSULIN, temperature="5", into=store)
    chain.pudong.is_cold_chain_capable = False  # its refrigerator failed: the stock is there, unusable
    found = services.stores_that_can_fill({chain.drug(INSULIN): 1, chain.drug(AMLODIPINE): 1}, 28)
    assert codes(found.now) == ["XH"]
    assert codes(found.after_transfer) == ["BJ", "HZ"]  # both keep a cold chain
    assert [option.transfers[0].from_store for option in found.after_transfer] == [chain.xuhui] * 2


def test_delivery_only_from_stores_whose_area_covers_the_patient(db, chain):
    near = fill(chain, delivery_city="shanghai ", patient_lat=JINGAN[0], patient_lng=JINGAN[1])
    assert codes(near.now) == ["XH", "PD"]  # Xuhui lists Shanghai; Pudong's 15 km reach the patient
    assert codes(fill(chain, delivery_city="Shanghai").now) == ["XH"]  # no coordinates: only the city list
    assert codes(fill(chain, delivery_city="Beijing").now) == ["BJ"]
    hangzhou = fill(chain, delivery_city="Hangzhou")
    assert (codes(hangzhou.now), codes(hangzhou.after_transfer)) == ([], ["HZ"])
    assert codes(fill(chain, delivery_city="Chengdu").now) == []
    assert codes(fill(chain).now) == ["BJ", "PD", "XH"]  # pickup, no coordinates: by code


def test_a_medicine_that_is_never_delivered_is_refused_for_delivery(db, chain):
    chain.drug(AMLODIPINE).is_deliverable = False
    assert refused(db, fill, chain, delivery_city="Shanghai") == (
        "Amlodipine (AMLODIPINE-5MG-TAB) may not be delivered; it can only be picked up in a store.")
    assert codes(fill(chain).now)  # picking it up is fine


def test_inactive_stores_neither_fill_nor_send(db, chain):
    chain.xuhui.is_active = False
    found = fill(chain, metformin=4)
    assert "XH" not in codes(found.now) + codes(found.after_transfer)
    assert all(t.from_store != chain.xuhui for option in found.after_transfer for t in option.transfers)


def test_each_store_judges_expiry_by_its_own_calendar(db, chain):
    los_angeles = make_store("LA", time_zone="America/Los_Angeles")
    last_day = in_days(200)
    for store in (los_angeles, chain.hangzhou):
        chain.receive(f"I-{store.code}", last_day, 3, INSULIN, temperature="5", into=store)
    moment = datetime.combine(last_day, time(17, 0), tzinfo=UTC)  # the next morning in Shanghai already
    found = services.stores_that_can_fill({chain.drug(INSULIN): 1}, 0, now=moment)
    assert codes(found.now) == ["LA"]


def test_bad_input_is_refused(db, chain):
    assert refused(db, services.stores_that_can_fill, {987654: 1}, 30) == "Unknown drug."
    assert refused(db, services.stores_that_can_fill, {chain.drug(AMLODIPINE): 0}, 30) == (
        "Enter a whole number of packs, at least 1.")
    assert refused(db, services.stores_that_can_fill, {}, 30) == "Add at least one drug."
    assert refused(db, services.stores_that_can_fill, {chain.drug(AMLODIPINE): 1}, -1) == (
        "Enter the days' supply as a whole number of days.")
    with pytest.raises(DomainError):
        services.stores_that_can_fill({"x": 1}, 30)


def test_the_chain_is_answered_in_two_queries_whatever_the_number_of_lots(app, db, chain):
    for number in range(30):
        chain.receive(f"EXTRA-{number}", in_days(300 + number), 1, AMLODIPINE, into=chain.hangzhou)
    statements = []

    def count(*_args):
        statements.append(1)

    engine = db.session.get_bind()
    event.listen(engine, "before_cursor_execute", count)
    try:
        found = fill(chain, metformin=4, delivery_city="Hangzhou")
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert codes(found.after_transfer) == ["HZ"]
    assert len(statements) == 2  # the stores, and the lots grouped by store and drug
