"""What a store's stock page says about each lot (sellable, quarantined, recalled, expired) and the
assessment of a quarantined lot through the lot page: a pharmacist of the store decides, an admin only
looks, errors in the reader's language, the system's ledger notes in the reader's language."""

import re
from datetime import timedelta

import pytest
from flask import render_template_string
from flask_babel import force_locale
from sqlalchemy import select

from app.accounts.models import Role
from app.database import utcnow
from app.inventory import ledger
from app.inventory import services as inventory
from app.inventory.models import LotStatus, MovementKind, StockLot, StockMovement
from tests import factories
from tests.prescribing.conftest import load_shipped_rows

AMLODIPINE, INSULIN = "AMLODIPINE-5MG-TAB", "INSULIN-GLARGINE-300IU-PEN"


def text(response) -> str:
    return response.get_data(as_text=True)


def today():
    return utcnow().date()


@pytest.fixture
def shelf(db):
    """A store with one lot in each state, and its pharmacist."""
    store = factories.make_store(code="SH-LOTS", is_cold_chain_capable=True)
    pharmacist = factories.make_user(Role.PHARMACIST)
    pharmacist.pharmacist_profile.home_store_id = store.id
    drugs = load_shipped_rows(db, (AMLODIPINE, INSULIN))
    amlodipine = drugs[AMLODIPINE]
    lots = {
        "good": inventory.receive(store, amlodipine, "GOOD-1", today() + timedelta(days=400), 10, 1500,
                                  pharmacist),
        "cold": inventory.receive(store, drugs[INSULIN], "COLD-12", today() + timedelta(days=300), 6, 9000,
                                  pharmacist, "12.0"),
        "recalled": inventory.receive(store, amlodipine, "BAD-1", today() + timedelta(days=400), 4, 1500,
                                      pharmacist),
        "old": inventory.receive(store, amlodipine, "OLD-1", today() + timedelta(days=400), 3, 1500,
                                 pharmacist),
    }
    inventory.reserve(store, {amlodipine: 2}, 30, ("order", 1), pharmacist)  # from GOOD-1 (first expiry)
    inventory.recall_lot(amlodipine, "BAD-1", factories.make_user(Role.ADMIN), "Manufacturer notice 12")
    lots["old"].expiry_date = today() - timedelta(days=2)  # past its date; the expiry job has not run
    db.session.commit()
    return store, pharmacist, lots


def row(page: str, lot_number: str) -> str:
    return page.split(f'data-lot="{lot_number}"')[1].split("</tr>")[0]


def test_the_stock_page_shows_each_lot_s_real_state_and_counts_only_sellable_packs(db, shelf, login_as,
                                                                                   client):
    store, pharmacist, _lots = shelf
    login_as(pharmacist)
    page = text(client.get(f"/stock/stores/{store.id}"))
    expected = {"GOOD-1": ("available", "Available", "8"), "COLD-12": ("quarantined", "Quarantined", "0"),
                "BAD-1": ("recalled", "Recalled", "0"), "OLD-1": ("expired", "Expired", "0")}
    for lot_number, (state, label, sellable) in expected.items():
        found = row(page, lot_number)
        assert f'data-state="{state}"' in found, lot_number
        assert f'data-lot-status="{state}">{label}</span>' in found, lot_number
        assert re.search(r"data-sellable>(\d+)<", found).group(1) == sellable, lot_number
    totals = page.split('id="stock-totals"')[1].split("</ul>")[0]
    assert "Sellable: 8 packs" in totals
    assert re.search(r'data-total="quarantined">.*?6 packs', totals, re.S)
    assert re.search(r'data-total="recalled">.*?4 packs', totals, re.S)
    assert re.search(r'data-total="expired">.*?3 packs', totals, re.S)
    assert "Not for sale until a pharmacist assesses it." in row(page, "COLD-12")


def test_the_near_expiry_report_shows_a_lot_past_its_date_as_expired_for_its_pharmacist_and_an_admin(
        db, shelf, login_as, client):
    store, pharmacist, lots = shelf
    lots["good"].expiry_date = today() + timedelta(days=20)
    db.session.commit()
    for reader in (pharmacist, factories.make_user(Role.ADMIN)):
        login_as(reader)
        page = text(client.get("/stock/near-expiry?days=30"))
        assert 'data-lot-status="expired">Expired</span>' in row(page, "OLD-1")
        assert 'data-lot-status="available">Available</span>' in row(page, "GOOD-1")
        assert f"<td>{store.code}</td>" in row(page, "GOOD-1")
        client.post("/accounts/logout")


def test_the_state_filter_uses_the_real_state(db, shelf, login_as, client):
    store, pharmacist, _lots = shelf
    login_as(pharmacist)
    expired = text(client.get(f"/stock/stores/{store.id}?status=expired"))
    available = text(client.get(f"/stock/stores/{store.id}?status=available"))
    assert 'data-lot="OLD-1"' in expired and 'data-lot="GOOD-1"' not in expired
    assert 'data-lot="GOOD-1"' in available and 'data-lot="OLD-1"' not in available


def test_the_chain_dashboard_separates_sellable_from_unsellable_packs(db, shelf, login_as, client):
    login_as(Role.ADMIN)
    page = text(client.get("/stock/dashboard"))
    found = page.split('data-store="SH-LOTS"')[1].split("</tr>")[0]
    assert re.search(r"data-sellable>(\d+)<", found).group(1) == "8"
    # 6 quarantined, 4 recalled, 3 expired
    assert re.search(r"data-unsellable>(\d+)<", found).group(1) == "13"


def assess(client, lot, **data):
    return client.post(f"/stock/lots/{lot.id}/assess", data=data)


def test_a_pharmacist_releases_a_quarantined_lot_from_its_page(db, shelf, login_as, client):
    _store, pharmacist, lots = shelf
    login_as(pharmacist)
    page = text(client.get(f"/stock/lots/{lots['cold'].id}"))
    assert 'id="assess-form"' in page and "Waiting for assessment" in page
    response = assess(client, lots["cold"], decision="release", reason="Logger: 12 °C for 15 min; stable.")
    assert response.status_code == 303
    page = text(client.get(response.location))
    assert "Lot released: it can be sold again." in page and 'id="assess-form"' not in page
    assert 'data-lot-status="available"' in page
    assert "Released after assessment — Logger: 12 °C for 15 min; stable." in page
    db.session.expire_all()
    assert db.session.get(StockLot, lots["cold"].id).status == LotStatus.AVAILABLE


def test_a_pharmacist_rejects_a_quarantined_lot_and_its_packs_are_written_off(db, shelf, login_as, client):
    store, pharmacist, lots = shelf
    login_as(pharmacist)
    response = assess(client, lots["cold"], decision="reject", reason="Frozen: destroyed.")
    assert response.status_code == 303
    page = text(client.get(response.location))
    assert "Lot rejected: every pack is written off." in page
    assert 'id="assess-form"' not in page and "Rejected after assessment — Frozen: destroyed." in page
    db.session.expire_all()
    lot = db.session.get(StockLot, lots["cold"].id)
    assert lot.quantity_on_hand == 0
    assert 'data-lot="COLD-12"' not in text(client.get(f"/stock/stores/{store.id}"))


@pytest.mark.parametrize(("data", "message"), [
    ({"decision": "release", "reason": ""}, "This field is required."),
    ({"decision": "release", "reason": "x" * 501}, "A note has at most 500 characters."),
    ({"reason": "Checked."}, "Choose release or reject."),
    ({"decision": "destroy", "reason": "Checked."}, "Choose release or reject."),
])
def test_a_decision_with_a_missing_or_bad_field_is_refused_on_the_form(db, shelf, login_as, client, data,
                                                                       message):
    _store, pharmacist, lots = shelf
    login_as(pharmacist)
    before = db.session.query(StockMovement).count()
    response = assess(client, lots["cold"], **data)
    assert response.status_code == 400 and message in text(response)
    assert db.session.query(StockMovement).count() == before


def test_form_errors_and_labels_are_in_chinese_for_a_chinese_pharmacist(db, shelf, login_as, client):
    _store, pharmacist, lots = shelf
    pharmacist.locale = "zh"
    db.session.commit()
    login_as(pharmacist)
    page = text(client.get(f"/stock/lots/{lots['cold'].id}"))
    assert "待评估" in page and "放行" in page and "报废" in page
    assert "12.0 °C 到货" in page  # the system's ledger note, not "12.0 °C on arrival"
    assert "on arrival" not in page
    refused = text(assess(client, lots["cold"], decision="release", reason=""))
    assert "此项为必填项。" in refused
    refused = text(assess(client, lots["cold"], reason="已检查"))
    assert "请选择放行或报废。" in refused


def test_an_admin_sees_the_lot_but_cannot_decide(db, shelf, login_as, client):
    _store, _pharmacist, lots = shelf
    login_as(Role.ADMIN)
    page = text(client.get(f"/stock/lots/{lots['cold'].id}"))
    assert "Waiting for assessment" in page and 'id="assess-form"' not in page
    assert "Only a pharmacist of this store can record the decision." in page
    assert assess(client, lots["cold"], decision="release", reason="Admin override").status_code == 403
    db.session.expire_all()
    assert db.session.get(StockLot, lots["cold"].id).status == LotStatus.QUARANTINED


def test_a_pharmacist_of_another_store_gets_no_lot_and_other_roles_are_forbidden(db, shelf, as_user):
    _store, _pharmacist, lots = shelf
    elsewhere = as_user(factories.make_user(Role.PHARMACIST))  # home: a store of their own
    assert assess(elsewhere, lots["cold"], decision="release", reason="Checked.").status_code == 404
    for role in (Role.DOCTOR, Role.COURIER, Role.PATIENT):
        browser = as_user(factories.make_user(role))
        assert assess(browser, lots["cold"], decision="release", reason="Checked.").status_code == 403
    rows = db.session.scalars(select(StockMovement).where(StockMovement.lot_id == lots["cold"].id)).all()
    assert [row.kind for row in rows] == [MovementKind.RECEIPT, MovementKind.STATUS_CHANGE]
    assert ledger.verify() == []


@pytest.mark.parametrize(("kind", "reason", "note", "english", "chinese"), [
    ("status_change", "temperature_excursion", "12.0 °C on arrival", "12.0 °C on arrival", "12.0 °C 到货时"),
    ("status_change", "temperature_excursion", "9.5 °C on receipt of transfer 7",
     "9.5 °C on receipt of transfer 7", "调拨单 7 收货时 9.5 °C"),
    ("status_change", "expired", "expiry date 2027-01-15", "Expiry date 2027-01-15", "有效期至 2027-01-15"),
    # A person's own words stay as typed, even when they look like the system's.
    ("status_change", "recalled", "12.0 °C on arrival", "12.0 °C on arrival", "12.0 °C on arrival"),
    ("write_off", "damaged", "expiry date 2027-01-15", "expiry date 2027-01-15", "expiry date 2027-01-15"),
    ("status_change", "temperature_excursion", "Fridge door left open", "Fridge door left open",
     "Fridge door left open"),
])
def test_notes_the_system_wrote_read_in_the_reader_s_language(app, kind, reason, note, english, chinese):
    from flask_babel import force_locale

    from app.inventory.reasons import note as stock_note

    with app.test_request_context():
        with force_locale("en"):
            assert stock_note(kind, reason, note) == english
        with force_locale("zh"):
            assert stock_note(kind, reason, note) == chinese


@pytest.mark.parametrize("locale, status, shown, colour", [
    ("en", "quarantined", "Quarantined", "warning"), ("zh", "quarantined", "待处理（隔离）", "warning"),
    ("zh", "recalled", "已召回", "danger"), ("en", "unknown", "unknown", "secondary")])
def test_a_lot_badge_reads_in_the_reader_s_language(app, locale, status, shown, colour):
    """The badge names are built once per process (lazy strings), yet each page gets its reader's language."""
    source = '{% from "stock/_labels.html" import lot_status %}{{ lot_status(status) }}'
    with app.test_request_context(), force_locale(locale):
        badge = render_template_string(source, status=status)
    assert badge == f'<span class="badge text-bg-{colour}" data-lot-status="{status}">{shown}</span>'
