"""A pharmacist on a phone, in English and in Chinese: insulin that arrived at 12 °C shows as quarantined
and not for sale on the store's stock page; the pharmacist releases it from its lot page with a reason,
and the stock page then counts it as sellable."""

import itertools
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from app.accounts.models import Role
from app.database import utcnow
from app.drugs.models import Drug
from app.extensions import db
from app.inventory import services as inventory
from tests import factories
from tests.e2e.pages import fits_the_screen, sign_in, sign_out
from tests.prescribing.conftest import load_shipped_rows

pytestmark = pytest.mark.e2e

INSULIN = "INSULIN-GLARGINE-300IU-PEN"
_stores = itertools.count(1)
TEXT = {
    "en": {"quarantined": "Quarantined", "available": "Available", "release": "Release",
           "reason": "Reason", "decide": "Record the decision",
           "released": "Lot released: it can be sold again.",
           "note": "12.0 °C on arrival", "sellable": "Sellable: 6 packs"},
    "zh": {"quarantined": "待处理（隔离）", "available": "可用", "release": "放行", "reason": "原因",
           "decide": "记录决定", "released": "批次已放行，可以重新销售。", "note": "12.0 °C 到货时",
           "sellable": "可售: 6盒"},
}


@pytest.fixture
def quarantined(live_app, lang):
    """A store holding insulin received at 12 °C, and its pharmacist reading in `lang`."""
    with live_app.app_context():
        drug = db.session.scalar(select(Drug).where(Drug.code == INSULIN))
        if drug is None:
            drug = load_shipped_rows(db, (INSULIN,))[INSULIN]
        store = factories.make_store(code=f"E2E-Q{next(_stores)}-{lang}")
        pharmacist = factories.make_user(Role.PHARMACIST, locale=lang)
        pharmacist.pharmacist_profile.home_store_id = store.id
        lot = inventory.receive(store, drug, "q-ins-12", utcnow().date() + timedelta(days=300), 6, 9000,
                                pharmacist, "12.0")
        db.session.commit()
        found = (store.id, lot.id, pharmacist.login_name)
        db.session.remove()  # an open SQLite transaction would lock the live server out
    return found


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_pharmacist_releases_a_quarantined_lot_on_a_phone(page: Page, live_server, quarantined, lang):
    text = TEXT[lang]
    store_id, lot_id, login = quarantined
    sign_in(page, live_server, login)
    page.goto(f"{live_server}/stock/stores/{store_id}")
    row = page.locator('tr[data-lot="Q-INS-12"]')  # typed in lower case, stored upper case
    expect(row.locator("[data-lot-status]")).to_have_text(text["quarantined"])
    expect(row.locator("[data-sellable]")).to_have_text("0")
    assert fits_the_screen(page)

    page.goto(f"{live_server}/stock/lots/{lot_id}")
    expect(page.locator("#ledger")).to_contain_text(text["note"])
    form = page.locator("#assess-form")  # the count, adjustment and write-off forms have a reason too
    form.get_by_label(text["release"]).check()
    form.get_by_label(text["reason"], exact=True).fill("Logger 12 °C for 15 min; within stability data.")
    assert fits_the_screen(page)
    page.get_by_role("button", name=text["decide"]).click()
    expect(page.get_by_role("alert")).to_contain_text(text["released"])
    expect(page.locator("[data-lot-status]").first).to_have_text(text["available"])  # beside the title

    page.goto(f"{live_server}/stock/stores/{store_id}")
    expect(page.locator('tr[data-lot="Q-INS-12"] [data-sellable]')).to_have_text("6")
    expect(page.locator("#stock-totals [data-total=sellable]")).to_contain_text(text["sellable"])
    sign_out(page)
