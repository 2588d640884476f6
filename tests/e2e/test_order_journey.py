"""An order on a phone-sized screen, in English and in Chinese: the patient orders an approved
prescription from a store and pays with the test card (localstripe signs the webhook); the store's
pharmacist types the lot and scans the pack's traceability code, ticks the checklist, prints the
label (a PDF in the patient's language) and hands the medicines over against the patient's code."""

from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from app.consultations.models import Consultation
from app.database import utcnow
from app.drugs.models import Drug
from app.extensions import db
from app.inventory import services as inventory
from app.orders.models import Order
from app.payments.models import Payment, PaymentStatus
from tests import factories
from tests.e2e.pages import fits_the_screen, sign_in, sign_out
from tests.e2e.prescriptions import approved_prescription, dispense_at_counter, pay_at_store, printed_label

pytestmark = pytest.mark.e2e

AMLODIPINE = "AMLODIPINE-5MG-TAB"
TEXT = {
    "en": {"order": "Get your medicines", "here": "Order from this store", "card": "Visa 4242", "pay": "Pay",
           "store": "Orders at my store", "lot": "Lot number (scan or type)", "dispense": "Dispense",
           "label": "Print the label (PDF)", "code": "Pickup code", "hand_over": "Hand over",
           "directions": "once a day", "done": "Handed over. The order is complete."},
    "zh": {"order": "购药", "here": "在此门店下单", "card": "Visa 4242", "pay": "支付", "store": "本门店订单",
           "lot": "批号（扫描或输入）", "dispense": "调配发药", "label": "打印标签（PDF）", "code": "取药码",
           "hand_over": "交付", "directions": "每日一次", "done": "已交付，订单完成。"},
}


@pytest.fixture
def approved(live_app, consultation, request):
    """The consultation's prescription of amlodipine, signed and approved, and a Shanghai store with
    its own pharmacist and a lot of amlodipine whose packs carry traceability codes."""
    lang = request.node.callspec.params["lang"]
    consultation_id, patient_email, _doctor, _pharmacist = consultation
    with live_app.app_context():
        visit = db.session.get(Consultation, consultation_id)
        drug = db.session.scalar(select(Drug).where(Drug.code == AMLODIPINE))
        drug.traceability_prefix = drug.traceability_prefix or "8690001"
        store = factories.make_store(name_en=f"Order Store {lang}", name_zh=f"下单门店{lang}",
                                     city="Shanghai")
        counter = factories.make_user("pharmacist", locale=lang, display_name=f"Counter {lang}")
        counter.pharmacist_profile.home_store_id = store.id
        lot_number = f"E2E-ORDER-{lang.upper()}-{store.id}"
        inventory.receive(store, drug, lot_number, (utcnow() + timedelta(days=400)).date(), 10, 2000, counter)
        prescription = approved_prescription(visit, drug, dose="5", dose_unit="mg", frequency="QD",
                                             duration_days=7)
        db.session.commit()
        found = dict(prescription=prescription.id, store=store.id, lot=lot_number, patient=patient_email,
                     counter=counter.email, code=f"{drug.traceability_prefix}{store.id:013d}")
        db.session.remove()  # an open SQLite transaction would lock the live server out
    return found


def _order(live_app, prescription_id: int) -> tuple[int, str, str]:
    with live_app.app_context():
        order = db.session.scalar(select(Order).where(Order.prescription_id == prescription_id))
        payment = db.session.scalar(select(Payment).where(Payment.payable_type == "order",
                                                          Payment.payable_id == order.id))
        found = order.id, order.handover_code, payment.status
        db.session.remove()
    return found


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_order_pay_dispense_label_and_hand_over(page: Page, live_app, live_server, approved, lang):
    text = TEXT[lang]
    # The patient orders from the store with the stock, for pickup, and pays with the test card.
    sign_in(page, live_server, approved["patient"])
    page.goto(f"{live_server}/prescriptions/{approved['prescription']}")
    page.locator("#order-medicines").click()
    pay_at_store(page, approved["store"], text)
    assert fits_the_screen(page)
    order_id, _code, status = _order(live_app, approved["prescription"])
    assert status == PaymentStatus.AUTHORIZED  # held, not yet charged
    sign_out(page)

    # The store's pharmacist dispenses it: lot typed, the pack's code scanned, every check ticked.
    sign_in(page, live_server, approved["counter"])
    dispense_at_counter(page, text, order_id, approved["lot"], [approved["code"]])
    expect(page.locator("#order-status")).to_have_attribute("data-status", "ready_for_pickup")
    printed = printed_label(page, live_server, text)
    assert text["directions"] in printed and approved["lot"] in printed

    # At the counter the patient's code hands the medicines over; the card is charged then.
    _id, code, _status = _order(live_app, approved["prescription"])
    page.get_by_label(text["code"]).fill(code)
    page.get_by_role("button", name=text["hand_over"], exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text(text["done"])
    assert _order(live_app, approved["prescription"])[2] == PaymentStatus.CAPTURED
    sign_out(page)

    sign_in(page, live_server, approved["patient"])
    page.goto(f"{live_server}/orders/{order_id}")
    expect(page.locator("#order-status")).to_have_attribute("data-status", "completed")
    assert fits_the_screen(page)
