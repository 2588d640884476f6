"""The order browser tests' shared steps: an approved prescription, paying at a store, dispensing at
the counter and reading the printed label."""

import re
from io import BytesIO

from playwright.sync_api import Page, expect
from pypdf import PdfReader

from app.prescribing import services as rx
from app.review import services as review
from tests import factories
from tests.e2e.pages import fits_the_screen, open_menu


def approved_prescription(visit, drug, **sig):
    """The visit's doctor prescribes `drug` (`sig` as rx.add_item takes it) and signs; a pharmacist
    approves. The caller commits."""
    prescription = rx.start(visit, visit.doctor, condition_id=visit.condition_id)
    rx.add_item(prescription, visit.doctor, drug_id=drug.id, **sig)
    review.submit(rx.sign(prescription, visit.doctor, factories.PASSWORD))
    reviewer = factories.make_user("pharmacist")
    review.claim(prescription, reviewer)
    review.decide(prescription, reviewer, "approved")
    return prescription


def pay_at_store(page: Page, store_id: int, text: dict) -> None:
    """On the store choice: order from `store_id`, pay with the test card and wait until the webhook,
    signed by localstripe, has marked the order paid (the page looks again by itself)."""
    store = page.locator(f'[data-store-id="{store_id}"]')
    expect(store.locator("[data-ready=now]")).to_be_visible()
    assert fits_the_screen(page)
    store.get_by_role("button", name=re.compile("^" + re.escape(text["here"]))).click()
    page.get_by_label(text["card"]).check()
    page.get_by_role("button", name=text["pay"], exact=True).click()
    expect(page.locator("#order-status")).to_have_attribute("data-status", "paid", timeout=30_000)


def dispense_at_counter(page: Page, text: dict, order_id: int, lot: str, codes: list[str]) -> None:
    """The store's pharmacist opens the order from the menu, types the lot, scans each pack's code,
    ticks every check and dispenses."""
    open_menu(page)
    page.locator("#main-nav").get_by_role("link", name=text["store"]).click()
    page.locator(f'#store-orders a[data-order-id="{order_id}"]').click()
    [line] = page.locator("fieldset[data-line-id]").all()
    line.get_by_label(text["lot"]).fill(lot)
    line.locator("textarea").fill("\n".join(codes))
    for box in page.locator("#checklist input[type=checkbox]").all():
        box.check()
    assert fits_the_screen(page)
    page.get_by_role("button", name=text["dispense"], exact=True).click()


def printed_label(page: Page, base: str, text: dict) -> str:
    """The text of the label PDF the dispensing page links to."""
    label = page.request.get(base + page.get_by_role("link", name=text["label"]).get_attribute("href"))
    assert label.ok and label.headers["content-type"] == "application/pdf"
    return "".join(p.extract_text() for p in PdfReader(BytesIO(label.body())).pages)
