"""Receiving with the unit cost in yuan, dates in messages as on every page (ISO), lot numbers typed in
any case on the pages, and a transfer request that shows and respects what the sender can send."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.accounts.models import Role
from app.database import utcnow
from app.inventory import services as inventory
from app.inventory.models import LotRecall, StockLot, StockTransfer
from tests import factories
from tests.prescribing.conftest import load_shipped_rows

AMLODIPINE = "AMLODIPINE-5MG-TAB"


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def shop(db):
    store = factories.make_store(code="SH-RCV", is_cold_chain_capable=True)
    pharmacist = factories.make_user(Role.PHARMACIST)
    pharmacist.pharmacist_profile.home_store_id = store.id
    drugs = load_shipped_rows(db, (AMLODIPINE,))
    db.session.commit()
    return store, pharmacist, drugs[AMLODIPINE]


def receipt(drug, **overrides) -> dict:
    data = {"drug_id": str(drug.id), "lot_number": "Y-1",
            "expiry_date": (utcnow().date() + timedelta(days=400)).isoformat(), "quantity": "10",
            "unit_cost": "12.34", "arrival_temperature": ""}
    return data | overrides


def lot_count(db) -> int:
    return db.session.scalar(select(func.count()).select_from(StockLot))


@pytest.mark.parametrize(("typed", "fen"), [("12.34", 1234), ("0.01", 1), ("35", 3500), ("1,234.5", 123450),
                                            ("1000000", 100_000_000)])
def test_the_unit_cost_is_typed_in_yuan_and_stored_in_fen(db, shop, login_as, client, typed, fen):
    store, pharmacist, drug = shop
    login_as(pharmacist)
    response = client.post(f"/stock/stores/{store.id}/receive", data=receipt(drug, unit_cost=typed))
    assert response.status_code == 303
    assert db.session.scalar(select(StockLot.unit_cost_fen)) == fen
    assert "¥" in text(client.get(f"/stock/stores/{store.id}/receive"))  # the label names the currency


@pytest.mark.parametrize(("typed", "message"), [
    ("12.345", "Enter a price in yuan above zero, with at most 2 decimals."),
    ("0", "Enter a price in yuan above zero, with at most 2 decimals."),
    ("0.00", "Enter a price in yuan above zero, with at most 2 decimals."),
    ("-1", "Enter a price in yuan above zero, with at most 2 decimals."),
    ("1e999999", "Enter a price in yuan above zero, with at most 2 decimals."),
    ("abc", "Enter a price in yuan above zero, with at most 2 decimals."),
    ("1000000.01", "Enter a price of at most ¥1,000,000.00."),
    ("9" * 5000, "Enter a price of at most ¥1,000,000.00."),
])
def test_a_unit_cost_that_is_not_a_yuan_amount_is_refused(db, shop, login_as, client, typed, message):
    store, pharmacist, drug = shop
    login_as(pharmacist)
    response = client.post(f"/stock/stores/{store.id}/receive", data=receipt(drug, unit_cost=typed))
    assert response.status_code == 400 and message in text(response)
    assert lot_count(db) == 0


def test_a_lot_number_typed_in_lower_case_is_received_upper_case_and_found_that_way(db, shop, login_as,
                                                                                    client):
    store, pharmacist, drug = shop
    login_as(pharmacist)
    assert client.post(f"/stock/stores/{store.id}/receive",
                       data=receipt(drug, lot_number=" sh01-0107 ")).status_code == 303
    assert db.session.scalar(select(StockLot.lot_number)) == "SH01-0107"
    assert 'data-lot="SH01-0107"' in text(client.get(f"/stock/stores/{store.id}?q=sh01-0107"))


def test_an_admin_recalls_a_lot_typed_in_lower_case(db, shop, login_as, client):
    store, pharmacist, drug = shop
    inventory.receive(store, drug, "SH01-0107", utcnow().date() + timedelta(days=400), 5, 1500, pharmacist)
    db.session.commit()
    login_as(Role.ADMIN)
    response = client.post("/stock/recalls", data={"drug_id": str(drug.id), "lot_number": "sh01-0107",
                                                   "reason": "Manufacturer notice 9"})
    assert response.status_code == 303
    assert "Lot SH01-0107 is recalled in every store." in text(client.get(response.location))
    assert db.session.scalar(select(LotRecall.lot_number)) == "SH01-0107"


def test_dates_in_stock_messages_are_iso_like_every_page(db, shop, login_as, client):
    store, pharmacist, drug = shop
    login_as(pharmacist)
    expiry = utcnow().date() + timedelta(days=30)
    response = client.post(f"/stock/stores/{store.id}/receive",
                           data=receipt(drug, expiry_date=expiry.isoformat()))
    assert response.status_code == 400
    page = text(response)
    assert f"This lot expires on {expiry.isoformat()}, in less than 90 days" in page
    assert not re.search(r"[A-Z][a-z]{2} \d{1,2}, \d{4}", page)  # not "Jan 15, 2027"


@pytest.fixture
def two_stores(db, shop):
    store, pharmacist, drug = shop
    sender = factories.make_store(code="SH-SEND")
    today = utcnow().date()
    admin = factories.make_user(Role.ADMIN)
    inventory.receive(sender, drug, "S-1", today + timedelta(days=300), 12, 1500, admin)
    inventory.receive(sender, drug, "S-SOON", today + timedelta(days=95), 5, 1500, admin)
    inventory.reserve(sender, {drug: 2}, 30, ("order", 1), admin)  # from S-SOON (first expiry)
    soon = db.session.scalar(select(StockLot).where(StockLot.lot_number == "S-SOON"))
    soon.expiry_date = today + timedelta(days=20)  # now too close to expiry to be sent
    db.session.commit()
    return store, pharmacist, drug, sender


def request(client, sender, store, drug, packs):
    return client.post("/stock/transfers/new", data={
        "from_store_id": str(sender.id), "to_store_id": str(store.id), "drug_id": str(drug.id),
        "packs": str(packs), "note": ""})


def test_the_transfer_form_shows_what_each_store_can_send(db, two_stores, login_as, client):
    _store, pharmacist, drug, _sender = two_stores
    login_as(pharmacist)
    page = text(client.get(f"/stock/transfers/new?drug_id={drug.id}"))
    found = page.split('data-free-store="SH-SEND"')[1].split("</tr>")[0]
    assert re.search(r"data-free-packs>(\d+)<", found).group(1) == "12"  # in date 30+ days, unreserved
    assert 'data-free-store="SH-RCV"' not in page  # nothing to send there


@pytest.mark.parametrize(("packs", "accepted"), [(11, True), (12, True), (13, False), (500, False)])
def test_a_request_for_more_than_the_sender_can_send_is_refused_on_the_form(db, two_stores, login_as, client,
                                                                            packs, accepted):
    store, pharmacist, drug, sender = two_stores
    login_as(pharmacist)
    response = request(client, sender, store, drug, packs)
    if accepted:
        assert response.status_code == 303
        assert db.session.scalar(select(StockTransfer.packs_requested)) == packs
        return
    assert response.status_code == 400
    assert (f"SH-SEND has 12 packs of Amlodipine (AMLODIPINE-5MG-TAB) free to send (in date for at least 30 "
            f"more days and not reserved); {packs} requested.") in text(response)
    assert 'data-free-store="SH-SEND"' in text(response)  # the availability is on the page beside it
    assert db.session.scalar(select(func.count()).select_from(StockTransfer)) == 0


def test_the_sender_sees_on_a_requested_transfer_how_many_packs_it_can_send(db, two_stores, as_user):
    store, pharmacist, drug, sender = two_stores
    transfer = inventory.request_transfer(sender, store, drug, 15, pharmacist)  # asked for before stock left
    db.session.commit()
    page = text(as_user(pharmacist).get(f"/stock/transfers/{transfer.id}"))
    assert re.search(r'id="free-to-send">12 ', page)
    assert "Fewer than requested: the pick will be refused until more stock is free." in page
