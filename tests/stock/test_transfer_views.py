"""Transfers and recalls through the pages: the sender picks and ships, the receiver receives with a
shortfall, a stranger store sees nothing; an admin recalls a lot and sees who received it."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.accounts.models import Role
from app.audit.models import AuditEvent
from app.database import utcnow
from app.inventory import services as inventory
from app.inventory.models import LotStatus, StockLot, StockTransfer, TransferStatus
from tests import factories
from tests.prescribing.conftest import load_shipped_rows

T = TransferStatus


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def chain(db):
    """Two stores with a pharmacist each; the sender holds two lots of amlodipine and one of insulin."""
    drugs = load_shipped_rows(db, ("AMLODIPINE-5MG-TAB", "INSULIN-GLARGINE-300IU-PEN"))
    sender = factories.make_store(code="SH-A", is_cold_chain_capable=True)
    receiver = factories.make_store(code="SH-B", is_cold_chain_capable=True)
    people = {}
    for name, store in (("sender", sender), ("receiver", receiver)):
        people[name] = factories.make_user(Role.PHARMACIST, display_name=f"Pharmacist {name}")
        people[name].pharmacist_profile.home_store_id = store.id
    today = utcnow().date()
    inventory.receive(sender, drugs["AMLODIPINE-5MG-TAB"], "EARLY", today + timedelta(days=200), 4, 3000,
                      people["sender"])
    inventory.receive(sender, drugs["AMLODIPINE-5MG-TAB"], "LATE", today + timedelta(days=600), 10, 3000,
                      people["sender"])
    inventory.receive(sender, drugs["INSULIN-GLARGINE-300IU-PEN"], "COLD", today + timedelta(days=300), 5,
                      9000, people["sender"], "5.0")
    db.session.commit()
    return drugs, sender, receiver, people


def _request(client, drugs, sender, receiver, code="AMLODIPINE-5MG-TAB", packs="6"):
    return client.post("/stock/transfers/new", data={
        "from_store_id": str(sender.id), "to_store_id": str(receiver.id), "drug_id": str(drugs[code].id),
        "packs": packs, "note": ""})


def test_request_pick_ship_and_receive_with_a_shortfall_through_the_pages(db, chain, as_user):
    drugs, sender, receiver, people = chain
    asking, sending = as_user(people["receiver"]), as_user(people["sender"])
    response = _request(asking, drugs, sender, receiver)
    assert response.status_code == 303
    transfer = db.session.scalar(select(StockTransfer))
    assert 'id="pick-submit"' not in text(asking.get(response.location))  # the receiver cannot pick
    assert asking.post(f"/stock/transfers/{transfer.id}/pick").status_code == 403

    assert sending.post(f"/stock/transfers/{transfer.id}/pick").status_code == 303
    page = text(sending.get(f"/stock/transfers/{transfer.id}"))
    assert page.index('data-lot="EARLY"') < page.index('data-lot="LATE"')  # first expiry first
    assert sending.post(f"/stock/transfers/{transfer.id}/ship").status_code == 303
    db.session.expire_all()
    assert db.session.get(StockTransfer, transfer.id).status == T.SHIPPED

    lines = db.session.get(StockTransfer, transfer.id).lines
    form = {f"received_{line.id}": str(line.packs) for line in lines}
    too_many = dict(form, **{f"received_{lines[0].id}": str(lines[0].packs + 1)})
    refused = asking.post(f"/stock/transfers/{transfer.id}/receive", data=too_many)
    assert refused.status_code == 400 and "were shipped; receive packs that were not shipped" in text(refused)
    form[f"received_{lines[-1].id}"] = str(lines[-1].packs - 1)
    refused = asking.post(f"/stock/transfers/{transfer.id}/receive", data=form)
    assert refused.status_code == 400  # a shortfall needs a note
    form["note"] = "One pack crushed in transit."
    assert asking.post(f"/stock/transfers/{transfer.id}/receive", data=form).status_code == 303
    db.session.expire_all()
    arrived = db.session.scalars(select(StockLot).where(StockLot.store_id == receiver.id)).all()
    assert sum(lot.quantity_on_hand for lot in arrived) == 5
    assert {(lot.lot_number, lot.expiry_date) for lot in arrived} == {
        (line.lot_number, line.expiry_date) for line in lines}
    assert "One pack crushed in transit." in text(asking.get(f"/stock/transfers/{transfer.id}"))


def test_a_cold_chain_transfer_opened_at_12_degrees_lands_in_quarantine(db, chain, as_user):
    drugs, sender, receiver, _people = chain
    admin = as_user(factories.make_user(Role.ADMIN))
    _request(admin, drugs, sender, receiver, "INSULIN-GLARGINE-300IU-PEN", "2")
    transfer = db.session.scalar(select(StockTransfer))
    admin.post(f"/stock/transfers/{transfer.id}/pick")
    admin.post(f"/stock/transfers/{transfer.id}/ship")
    line = db.session.get(StockTransfer, transfer.id).lines[0]
    response = admin.post(f"/stock/transfers/{transfer.id}/receive",
                          data={f"received_{line.id}": "2", "temperature": "12"})
    assert response.status_code == 303
    lot = db.session.scalar(select(StockLot).where(StockLot.store_id == receiver.id))
    assert (lot.lot_number, lot.status) == ("COLD", LotStatus.QUARANTINED)


def test_a_transfer_to_the_same_store_is_refused_on_the_page(db, chain, as_user):
    drugs, sender, _receiver, _people = chain
    admin = as_user(factories.make_user(Role.ADMIN))
    response = _request(admin, drugs, sender, sender)
    assert response.status_code == 400
    assert db.session.scalar(select(StockTransfer)) is None


def test_a_third_store_sees_neither_the_transfer_nor_its_buttons(db, chain, as_user):
    drugs, sender, receiver, people = chain
    _request(as_user(people["receiver"]), drugs, sender, receiver)
    transfer = db.session.scalar(select(StockTransfer))
    stranger = factories.make_user(Role.PHARMACIST)
    browser = as_user(stranger)
    assert browser.get(f"/stock/transfers/{transfer.id}").status_code == 404
    assert browser.post(f"/stock/transfers/{transfer.id}/cancel").status_code == 404
    assert f'data-transfer-id="{transfer.id}"' not in text(browser.get("/stock/transfers"))


def test_an_admin_recalls_a_lot_and_sees_exactly_who_received_it(db, chain, as_user):
    drugs, sender, _receiver, people = chain
    amlodipine = drugs["AMLODIPINE-5MG-TAB"]
    takers = [factories.make_patient(display_name=f"Patient {n}") for n in range(3)]
    for number, patient in enumerate(takers[:2], start=1):
        reference = ("order", 9000 + number)
        inventory.reserve(sender, {amlodipine: 1}, 28, reference, people["sender"], patient=patient)
        inventory.dispense(sender, {amlodipine: 1}, reference, people["sender"], patient=patient)
    db.session.commit()
    # FEFO gave both the EARLY lot; the third patient received nothing.
    admin = as_user(factories.make_user(Role.ADMIN))
    response = admin.post("/stock/recalls", data={"drug_id": str(amlodipine.id), "lot_number": "EARLY",
                                                  "reason": "Manufacturer notice 2026-117: label misprint."})
    assert response.status_code == 303
    page = text(admin.get(response.location))
    shown = set(map(int, re.findall(r'data-patient-id="(\d+)"', page)))
    assert shown == {takers[0].id, takers[1].id}
    assert 'data-lot-status="recalled"' in page
    audited = {row.patient_id for row in db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "recall.recipients_viewed"))}
    assert audited == shown
    again = admin.post("/stock/recalls", data={"drug_id": str(amlodipine.id), "lot_number": "EARLY",
                                               "reason": "again"})
    assert again.status_code == 400 and "was already recalled" in text(again)


def test_only_admins_recall(db, chain, as_user):
    _drugs, _sender, _receiver, people = chain
    assert as_user(people["sender"]).get("/stock/recalls").status_code == 403


def test_transfer_pages_speak_chinese(db, chain, as_user):
    _drugs, _sender, _receiver, people = chain
    people["receiver"].locale = "zh"
    db.session.commit()
    assert "调拨" in text(as_user(people["receiver"]).get("/stock/transfers/new"))


def test_low_stock_suggests_a_transfer_from_the_store_with_surplus(db, chain, as_user):
    drugs, sender, receiver, people = chain
    browser = as_user(people["receiver"])
    response = browser.post(f"/stock/stores/{receiver.id}/reorder", data={
        "drug_id": str(drugs["AMLODIPINE-5MG-TAB"].id), "min_packs": "5", "target_packs": "8"})
    assert response.status_code == 303
    page = text(browser.get(f"/stock/stores/{receiver.id}/reorder"))
    row = page.split('data-drug="AMLODIPINE-5MG-TAB"')[1].split("</tr>")[0]
    assert 'data-suggest="transfer"' in row and sender.code in row
    bad = browser.post(f"/stock/stores/{receiver.id}/reorder", data={
        "drug_id": str(drugs["AMLODIPINE-5MG-TAB"].id), "min_packs": "9", "target_packs": "3"})
    assert bad.status_code == 400 and "The target must be at least the minimum" in text(bad)
    assert browser.get(f"/stock/stores/{sender.id}/reorder").status_code == 404
