"""Reorder points: a store low on a drug is listed with a transfer from the store with the largest surplus
and/or a purchase up to its target."""

import pytest
from sqlalchemy import select

from app.inventory import ledger, services
from app.inventory.models import LotStatus, ReorderPoint
from tests.inventory.conftest import AMLODIPINE, INSULIN, METFORMIN, in_days
from tests.inventory.transfer_helpers import make_store, refused


@pytest.fixture
def shops(stock):
    stock.north = make_store("N01")
    stock.south = make_store("S01")
    stock.ambient = make_store("A01", cold_chain=False)
    return stock


def point(shops, store, minimum, target, code=AMLODIPINE):
    return services.set_reorder_point(store, shops.drugs[code], minimum, target, shops.pharmacist)


def test_a_reorder_point_is_set_and_changed_in_place(db, shops):
    first = point(shops, shops.store, 5, 10)
    again = point(shops, shops.store, "4", "12")
    assert first is again
    assert db.session.scalars(select(ReorderPoint)).all() == [first]
    assert (first.min_packs, first.target_packs, first.updated_by_id) == (4, 12, shops.pharmacist.id)
    assert services.remove_reorder_point(shops.store, shops.drugs[AMLODIPINE]) is True
    assert services.remove_reorder_point(shops.store, shops.drugs[AMLODIPINE]) is False


@pytest.mark.parametrize(("minimum", "target", "message"), [
    (-1, 10, "Enter the minimum as a whole number of packs, 0 or more."),
    ("2.5", 10, "Enter the minimum as a whole number of packs, 0 or more."),
    (0, 0, "Enter the target as a whole number of packs, at least 1."),
    (5, "ten", "Enter the target as a whole number of packs, at least 1."),
    (8, 6, "The target must be at least the minimum (8 packs)."),
])
def test_a_reorder_point_with_bad_numbers_is_refused(db, shops, minimum, target, message):
    assert refused(db, point, shops, shops.store, minimum, target) == message


def test_a_reorder_point_needs_a_known_active_store_that_can_keep_the_drug(db, shops):
    assert refused(db, point, shops, 987654, 1, 2) == "Unknown store."
    assert refused(db, services.set_reorder_point, shops.store, 987654, 1, 2, None) == "Unknown drug."
    shops.north.is_active = False
    assert refused(db, point, shops, shops.north, 1, 2) == (
        "This store is inactive; it keeps no reorder points.")
    assert refused(db, point, shops, shops.ambient, 1, 2, INSULIN) == (
        "Insulin glargine (INSULIN-GLARGINE-300IU-PEN) needs the cold chain (2–8 °C); this store cannot "
        "store it.")


def test_low_stock_counts_only_available_in_date_packs_and_suggests_the_largest_surplus(db, shops):
    point(shops, shops.store, 5, 10)
    shops.receive("OWN", in_days(200), 4)
    services.reserve(shops.store, {shops.drugs[AMLODIPINE]: 1}, 30, ("order", 1), shops.pharmacist)  # 3 left
    shops.receive("OLD", in_days(-1), 20, at=in_days(-200))  # expired, not yet marked so: never counted
    bad = shops.receive("BAD", in_days(300), 20)
    ledger.change_status(bad, LotStatus.QUARANTINED, "temperature_excursion", user=shops.pharmacist)
    point(shops, shops.north, 2, 8)
    shops.receive("N-1", in_days(300), 12, into=shops.north)  # 4 above its own target
    shops.receive("S-1", in_days(300), 6, into=shops.south)  # no reorder point: all 6 are surplus
    shops.receive("S-2", in_days(20), 30, into=shops.south, at=in_days(-100))  # too close to expiry to send

    [line] = services.low_stock()
    assert (line.store, line.drug.code, line.available, line.min_packs, line.target_packs, line.incoming) == (
        shops.store, AMLODIPINE, 3, 5, 10, 0)
    assert (line.needed, line.transfer_from, line.transfer_packs, line.purchase_packs) == (
        7, shops.south, 6, 1)

    services.request_transfer(shops.south, shops.store, shops.drugs[AMLODIPINE], 6, shops.pharmacist)
    [line] = services.low_stock(shops.store)
    assert (line.incoming, line.needed, line.transfer_from, line.transfer_packs, line.purchase_packs) == (
        6, 1, shops.south, 1, 0)
    assert services.low_stock(shops.north) == []


def test_without_a_surplus_anywhere_the_suggestion_is_a_purchase_up_to_the_target(db, shops):
    point(shops, shops.store, 2, 6, METFORMIN)
    point(shops, shops.north, 1, 5, METFORMIN)
    shops.receive("N-1", in_days(300), 5, METFORMIN, into=shops.north)  # exactly its target: nothing spare
    [line] = services.low_stock()
    assert (line.store, line.available, line.transfer_from, line.transfer_packs, line.purchase_packs) == (
        shops.store, 0, None, 0, 6)


def test_a_store_at_its_minimum_is_not_low_and_lines_come_by_store_then_drug(db, shops):
    point(shops, shops.store, 3, 6)
    shops.receive("OWN", in_days(300), 3)
    assert services.low_stock() == []
    point(shops, shops.south, 1, 2, METFORMIN)
    point(shops, shops.north, 1, 2, METFORMIN)
    point(shops, shops.north, 1, 2, AMLODIPINE)
    assert [(line.store.code, line.drug.code) for line in services.low_stock()] == [
        ("N01", AMLODIPINE), ("N01", METFORMIN), ("S01", METFORMIN)]
