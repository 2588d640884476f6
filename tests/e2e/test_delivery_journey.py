"""A cold-chain delivery on a phone-sized screen, in English and in Chinese: the patient orders insulin
for delivery to their home and pays with the test card; the store's pharmacist scans the pen, ticks the
checklist, prints the label and packs it in a cold box at 5 °C for a courier; the courier picks it up
(the card is charged then, once), reads 5 °C on the way and hands it over against the code the patient
reads from their page; the patient confirms receipt. The order, the payment, the stock ledger and the
outbox row for the data platform agree at the end."""

import json
import re
from datetime import timedelta

import pytest
from babel.support import Translations
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from app.consultations.models import Consultation
from app.database import utcnow
from app.delivery.models import Delivery
from app.drugs.models import Drug
from app.extensions import db
from app.inventory import services as inventory
from app.inventory.models import StoreServiceCity
from app.orders.models import Order, OrderLine
from app.outbox.models import OutboxEvent
from app.patients.models import Address, Condition, ConsentKind
from app.patients.services import grant_consent
from app.payments.models import OperationKind, Payment, PaymentOperation, PaymentStatus
from tests import factories
from tests.e2e.pages import fits_the_screen, open_menu, sign_in, sign_out
from tests.e2e.prescriptions import approved_prescription, dispense_at_counter, pay_at_store, printed_label

pytestmark = pytest.mark.e2e

INSULIN = "INSULIN-GLARGINE-300IU-PEN"
# What the users read, by the English message; Chinese as written here or else from the catalogue.
ENGLISH = {"delivery": "Delivery", "here": "Order from this store", "card": "Visa 4242", "pay": "Pay",
           "store": "Orders at my store", "lot": "Lot number (scan or type)", "dispense": "Dispense",
           "label": "Print the label (PDF)", "pack": "Pack and hand to the courier",
           "deliveries": "My deliveries", "picked_up": "Picked up at the store",
           "reading": "Record a reading on the way", "delivered": "Delivered",
           "received": "I received my medicines", "thanks": "You confirmed receipt.",
           "directions": "once a day"}
CHINESE = {"delivery": "配送到家", "here": "在此门店下单", "card": "Visa 4242", "pay": "支付",
           "store": "本门店订单", "lot": "批号（扫描或输入）", "dispense": "调配发药",
           "label": "打印标签（PDF）", "delivered": "已送达",
           "received": "我已收到药品", "directions": "每日一次"}


def texts(lang: str) -> dict[str, str]:
    if lang == "en":
        return ENGLISH
    catalogue = Translations.load("translations", ["zh"])
    found = {key: CHINESE.get(key) or catalogue.gettext(english) for key, english in ENGLISH.items()}
    untranslated = [english for key, english in ENGLISH.items() if found[key] == english and key != "card"]
    assert not untranslated, untranslated  # an English button on a Chinese page would pass unnoticed
    return found


@pytest.fixture
def approved(live_app, consultation, request):
    """The consultation's patient has type 2 diabetes and a home address in Shanghai; their insulin
    prescription is signed and approved. A cold-chain store delivering in Shanghai holds a lot of the
    pens (with product codes), and has its own pharmacist and courier."""
    lang = request.node.callspec.params["lang"]
    consultation_id, patient_email, _doctor, _pharmacist = consultation
    with live_app.app_context():
        visit = db.session.get(Consultation, consultation_id)
        condition = db.session.get(Condition, visit.condition_id)
        condition.icd10_code, condition.name = "E11.9", "Type 2 diabetes mellitus"
        patient = visit.patient
        db.session.add(Address(patient_id=patient.id, recipient=patient.display_name, phone=patient.phone,
                               province="Shanghai", city="Shanghai", street="8 Garden Lane", is_default=True))
        grant_consent(patient, ConsentKind.DATA_SHARING)  # so the platform hears of the delivery
        drug = db.session.scalar(select(Drug).where(Drug.code == INSULIN))
        drug.traceability_prefix = drug.traceability_prefix or "8690003"
        store = factories.make_store(name_en=f"Cold Store {lang}", name_zh=f"冷链门店{lang}", city="Shanghai",
                                     is_cold_chain_capable=True)
        db.session.add(StoreServiceCity(store_id=store.id, city="上海"))
        counter = factories.make_user("pharmacist", locale=lang, display_name=f"Counter {lang}")
        counter.pharmacist_profile.home_store_id = store.id
        rider = factories.make_user("courier", locale=lang, display_name=f"Rider {lang}")
        rider.courier_profile.home_store_id = store.id
        lot_number = f"E2E-COLD-{lang.upper()}-{store.id}"
        inventory.receive(store, drug, lot_number, (utcnow() + timedelta(days=400)).date(), 10, 9000, counter,
                          arrival_temperature=5)
        prescription = approved_prescription(visit, drug, dose="10", dose_unit="IU", frequency="QD",
                                             duration_days=7)
        db.session.commit()
        found = dict(prescription=prescription.id, store=store.id, lot=lot_number, patient=patient_email,
                     counter=counter.email, courier=rider.email, courier_id=rider.id,
                     prefix=drug.traceability_prefix)
        db.session.remove()  # an open SQLite transaction would lock the live server out
    return found


def _facts(live_app, prescription_id: int) -> dict:
    """What the database holds about the prescription's order, read in its own short session."""
    with live_app.app_context():
        order = db.session.scalar(select(Order).where(Order.prescription_id == prescription_id))
        payment = db.session.scalar(select(Payment).where(Payment.payable_type == "order",
                                                          Payment.payable_id == order.id))
        captures = db.session.scalar(select(func.count()).select_from(PaymentOperation).where(
            PaymentOperation.payment_id == payment.id, PaymentOperation.kind == OperationKind.CAPTURE))
        delivery = db.session.scalar(select(Delivery).where(Delivery.order_id == order.id))
        events = db.session.scalars(select(OutboxEvent).where(
            OutboxEvent.event_type == "medication.dispensed",
            OutboxEvent.aggregate_type == OrderLine.__tablename__,
            OutboxEvent.aggregate_id.in_([line.id for line in order.lines]))).all()
        found = dict(order=order.id, status=order.status, packs=sum(line.packs for line in order.lines),
                     units=sum(line.packs * line.drug.pack_size for line in order.lines),
                     payment=payment.status, captures=captures,
                     delivery=delivery.status if delivery else None,
                     confirmed=bool(delivery and delivery.received_confirmed_at),
                     events=[json.loads(event.payload) for event in events])
        db.session.remove()
    return found


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_cold_chain_delivery_from_order_to_confirmed_receipt(page: Page, live_app, live_server, approved,
                                                             lang):
    text = texts(lang)
    # The patient asks for delivery to their home address and pays with the test card.
    sign_in(page, live_server, approved["patient"])
    page.goto(f"{live_server}/prescriptions/{approved['prescription']}")
    page.locator("#order-medicines").click()
    page.locator("#choose-delivery").click()
    expect(page.locator("#address")).to_be_visible()
    pay_at_store(page, approved["store"], text)
    expect(page.locator("#order-fulfilment")).to_have_text(text["delivery"])
    facts = _facts(live_app, approved["prescription"])
    assert facts["payment"] == PaymentStatus.AUTHORIZED and facts["captures"] == 0  # held, not charged
    sign_out(page)

    # The store's pharmacist scans each pen, ticks the checklist, prints the label and packs the parcel.
    sign_in(page, live_server, approved["counter"])
    codes = [f"{approved['prefix']}{approved['store'] * 1000 + n:013d}" for n in range(facts["packs"])]
    dispense_at_counter(page, text, facts["order"], approved["lot"], codes)
    expect(page.locator("#dispensed-packs")).to_contain_text(codes[0])
    printed = printed_label(page, live_server, text)
    assert text["directions"] in printed and approved["lot"] in printed
    pack = page.locator("#pack-form")
    pack.locator("#courier_id").select_option(str(approved["courier_id"]))
    pack.locator("#cold_box").check()
    pack.locator("#ice_packs").fill("2")
    pack.locator("#packing_temperature").fill("5.0")
    assert fits_the_screen(page)
    pack.get_by_role("button", name=text["pack"]).click()
    expect(page.locator("#delivery-state [data-status]")).to_have_attribute("data-status", "assigned")
    assert _facts(live_app, approved["prescription"])["captures"] == 0  # it has not left the store yet
    sign_out(page)

    # The courier takes it at 5 °C (the card is charged as it leaves) and reads 5 °C on the way.
    sign_in(page, live_server, approved["courier"])
    open_menu(page)
    page.locator("#main-nav").get_by_role("link", name=text["deliveries"]).click()
    page.locator('#deliveries [data-delivery-id]').filter(has_text=str(facts["order"])).click()
    assert fits_the_screen(page)
    step = page.locator('form[data-step="picked_up"]')
    step.locator("input[name=temperature]").fill("5.0")
    step.get_by_role("button", name=text["picked_up"]).click()
    expect(page.locator("#delivery-status")).to_have_attribute("data-status", "picked_up")
    facts = _facts(live_app, approved["prescription"])
    assert (facts["status"], facts["payment"], facts["captures"]) == ("out_for_delivery", "captured", 1)
    step = page.locator('form[data-step="in_transit"]')
    step.locator("input[name=temperature]").fill("5.0")
    step.get_by_role("button", name=text["reading"]).click()
    expect(page.locator("#delivery-status")).to_have_attribute("data-status", "in_transit")
    expect(page.locator('#timeline [data-event="in_transit"]')).to_contain_text("5.0 °C")
    courier_page = page

    # At the door the patient reads their code from their own page (a second phone).
    patient_phone = page.context.browser.new_context(viewport=page.viewport_size,
                                                     locale="zh-CN" if lang == "zh" else "en-US").new_page()
    try:
        sign_in(patient_phone, live_server, approved["patient"])
        patient_phone.goto(f"{live_server}/orders/{facts['order']}")
        expect(patient_phone.locator("#order-status")).to_have_attribute("data-status", "out_for_delivery")
        code = patient_phone.locator("#delivery-code").inner_text().strip()
        assert re.fullmatch(r"\d{6}", code)

        step = courier_page.locator('form[data-step="delivered"]')
        step.locator("input[name=temperature]").fill("5.0")
        step.locator("#code").fill(code)
        step.get_by_role("button", name=text["delivered"], exact=True).click()
        expect(courier_page.locator("#delivery-status")).to_have_attribute("data-status", "delivered")

        patient_phone.reload()
        expect(patient_phone.locator("#order-status")).to_have_attribute("data-status", "completed")
        patient_phone.get_by_role("button", name=text["received"]).click()
        expect(patient_phone.locator("#receipt-confirmed")).to_have_text(
            text["thanks"])
        assert fits_the_screen(patient_phone)
    finally:
        patient_phone.context.close()

    # The order, the single capture, the stock ledger and the one outbox row agree.
    facts = _facts(live_app, approved["prescription"])
    assert (facts["status"], facts["delivery"], facts["confirmed"]) == ("completed", "delivered", True)
    assert (facts["payment"], facts["captures"]) == ("captured", 1)
    [event] = facts["events"]  # one line delivered: one dispense for the data platform
    medication = event["contained"][0]
    assert (event["status"], medication["batch"]["lotNumber"]) == ("completed", approved["lot"])
    assert INSULIN in [coding["code"] for coding in medication["code"]["coding"]]
    assert event["quantity"]["value"] == facts["units"] and "whenHandedOver" in event
    with live_app.app_context():
        verified = live_app.test_cli_runner().invoke(args=["inventory", "verify"])
        db.session.remove()
    assert verified.exit_code == 0 and "Ledger OK" in verified.output, verified.output
