"""Stock pages as pharmacists and admins use them: receiving, the store list and its filters, a lot's
ledger, counts, adjustments and write-offs; a pharmacist sees only their own store."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.accounts.models import Role
from app.database import utcnow
from app.inventory import services as inventory
from app.inventory.models import LotStatus, StockLot, StockMovement
from tests import factories
from tests.prescribing.conftest import load_shipped_rows

CODES = ("AMLODIPINE-5MG-TAB", "INSULIN-GLARGINE-300IU-PEN")


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def shop(db):
    """A cold-chain store, its pharmacist, and the drugs."""
    store = factories.make_store(code="SH-TEST-01", is_cold_chain_capable=True)
    pharmacist = factories.make_user(Role.PHARMACIST)
    pharmacist.pharmacist_profile.home_store_id = store.id
    db.session.commit()
    return store, pharmacist, load_shipped_rows(db, CODES)


def in_days(days: int) -> str:
    return (utcnow().date() + timedelta(days=days)).isoformat()


def receipt(drug, **overrides) -> dict:
    data = {"drug_id": str(drug.id), "lot_number": "A2401", "expiry_date": in_days(400), "quantity": "10",
            "unit_cost": "35.00", "arrival_temperature": ""}
    data.update(overrides)
    return data


def movements(db) -> int:
    return db.session.scalar(select(func.count()).select_from(StockMovement))


def test_a_pharmacist_receives_goods_and_sees_the_lot_and_its_ledger(db, shop, login_as, client):
    store, pharmacist, drugs = shop
    login_as(pharmacist)
    response = client.post(f"/stock/stores/{store.id}/receive", data=receipt(drugs["AMLODIPINE-5MG-TAB"]))
    assert response.status_code == 303
    lot = db.session.scalar(select(StockLot))
    assert (lot.quantity_on_hand, lot.status) == (10, LotStatus.AVAILABLE)
    page = text(client.get(response.location))
    assert "Received into lot A2401." in page and 'id="on-hand">10<' in page
    assert re.search(r'data-kind="receipt".*?\+10', page, re.S)
    listing = text(client.get(f"/stock/stores/{store.id}"))
    assert 'data-lot="A2401"' in listing


def test_a_cold_chain_drug_arriving_at_12_degrees_is_quarantined(db, shop, login_as, client):
    store, pharmacist, drugs = shop
    login_as(pharmacist)
    insulin = drugs["INSULIN-GLARGINE-300IU-PEN"]
    missing = client.post(f"/stock/stores/{store.id}/receive", data=receipt(insulin))
    assert missing.status_code == 400 and "Record the arrival temperature" in text(missing)
    response = client.post(f"/stock/stores/{store.id}/receive",
                           data=receipt(insulin, arrival_temperature="12"), follow_redirects=True)
    assert "is quarantined" in text(response)
    assert db.session.scalar(select(StockLot)).status == LotStatus.QUARANTINED


@pytest.mark.parametrize(("change", "message"), [
    ({"quantity": "-3"}, "Enter a whole number of packs, at least 1."),
    ({"quantity": "2.5"}, "Enter a whole number of packs, at least 1."),
    ({"expiry_date": in_days(30)}, "stock is received only with at least 90 days of shelf life left"),
    ({"drug_id": "999999"}, "Unknown drug."),
])
def test_bad_receipts_are_refused_with_a_message_and_nothing_written(db, shop, login_as, client, change,
                                                                     message):
    store, pharmacist, drugs = shop
    login_as(pharmacist)
    response = client.post(f"/stock/stores/{store.id}/receive",
                           data=receipt(drugs["AMLODIPINE-5MG-TAB"], **change))
    assert response.status_code == 400
    assert message in text(response)
    assert movements(db) == 0 and db.session.scalar(select(func.count()).select_from(StockLot)) == 0


def _lot(db, store, drug, pharmacist, **fields):
    values = dict(lot_number="B1", expiry=utcnow().date() + timedelta(days=400), quantity=10,
                  unit_cost_fen=3500)
    values.update(fields)
    lot = inventory.receive(store, drug, values["lot_number"], values["expiry"], values["quantity"],
                            values["unit_cost_fen"], pharmacist)
    db.session.commit()
    return lot


def test_counts_adjustments_and_write_offs_move_the_ledger(db, shop, login_as, client):
    store, pharmacist, drugs = shop
    lot = _lot(db, store, drugs["AMLODIPINE-5MG-TAB"], pharmacist)
    login_as(pharmacist)
    assert client.post(f"/stock/lots/{lot.id}/count", data={"counted": "8"}).status_code == 303
    refused = client.post(f"/stock/lots/{lot.id}/write-off", data={"quantity": "2", "reason": "other"})
    assert refused.status_code == 400 and "Explain the other reason in the note." in text(refused)
    assert client.post(f"/stock/lots/{lot.id}/write-off",
                       data={"quantity": "2", "reason": "damaged"}).status_code == 303
    too_many = client.post(f"/stock/lots/{lot.id}/adjust", data={"change": "-7", "reason": "count"})
    assert too_many.status_code == 400 and "has only 6 packs on hand" in text(too_many)
    db.session.expire_all()
    lot = db.session.get(StockLot, lot.id)
    assert lot.quantity_on_hand == 6
    page = text(client.get(f"/stock/lots/{lot.id}"))
    assert "Stock count difference" in page and "Damaged" in page


def test_a_pharmacist_sees_only_their_own_store(db, shop, login_as, client):
    store, pharmacist, drugs = shop
    other = factories.make_store(code="BJ-TEST-02")
    db.session.commit()
    foreign = _lot(db, other, drugs["AMLODIPINE-5MG-TAB"], factories.make_user(Role.ADMIN))
    login_as(pharmacist)
    assert client.get("/stock/").location.endswith(f"/stock/stores/{store.id}")
    assert client.get(f"/stock/stores/{other.id}").status_code == 404
    assert client.get(f"/stock/lots/{foreign.id}").status_code == 404
    before = movements(db)
    assert client.post(f"/stock/lots/{foreign.id}/count", data={"counted": "0"}).status_code == 404
    assert client.post(f"/stock/stores/{other.id}/receive",
                       data=receipt(drugs["AMLODIPINE-5MG-TAB"])).status_code == 404
    assert movements(db) == before
    assert 'data-lot="B1"' not in text(client.get("/stock/near-expiry?days=90"))


def test_filters_and_the_near_expiry_report(db, shop, login_as, client):
    store, pharmacist, drugs = shop
    amlodipine = drugs["AMLODIPINE-5MG-TAB"]
    _lot(db, store, amlodipine, pharmacist, lot_number="SOON", expiry=utcnow().date() + timedelta(days=100))
    _lot(db, store, amlodipine, pharmacist, lot_number="LATER", expiry=utcnow().date() + timedelta(days=700))
    soon = db.session.scalar(select(StockLot).where(StockLot.lot_number == "SOON"))
    soon.expiry_date = utcnow().date() + timedelta(days=45)  # time passes on the shelf
    db.session.commit()
    login_as(pharmacist)
    page = text(client.get(f"/stock/stores/{store.id}?near_expiry=60"))
    assert 'data-lot="SOON"' in page and 'data-lot="LATER"' not in page
    assert 'data-lot="LATER"' in text(client.get(f"/stock/stores/{store.id}?q=later"))
    assert 'data-lot="SOON"' not in text(client.get(f"/stock/stores/{store.id}?cold_chain=1"))
    assert 'data-lot="SOON"' in text(client.get("/stock/near-expiry?days=60"))
    assert 'data-lot="SOON"' not in text(client.get("/stock/near-expiry?days=30"))


def test_the_admin_sees_the_chain_and_every_store(db, shop, login_as, client):
    store, pharmacist, drugs = shop
    _lot(db, store, drugs["AMLODIPINE-5MG-TAB"], pharmacist)
    login_as("admin")
    page = text(client.get("/stock/dashboard"))
    row = page.split('data-store="SH-TEST-01"')[1].split("</tr>")[0]
    assert re.findall(r'<td class="text-end">(\d+)</td>', row)[:2] == ["1", "10"]
    assert client.get(f"/stock/stores/{store.id}").status_code == 200


def test_stock_pages_speak_chinese(db, shop, login_as, client):
    store, pharmacist, _drugs = shop
    pharmacist.locale = "zh"
    db.session.commit()
    login_as(pharmacist)
    assert "收货入库" in text(client.get(f"/stock/stores/{store.id}/receive"))
    assert "近效期" in text(client.get(f"/stock/stores/{store.id}"))


def test_patients_doctors_and_couriers_cannot_open_stock_pages(db, shop, login_as, client):
    store, _pharmacist, _drugs = shop
    for role in (Role.PATIENT, Role.DOCTOR, Role.COURIER):
        login_as(role)
        assert client.get(f"/stock/stores/{store.id}").status_code == 403
