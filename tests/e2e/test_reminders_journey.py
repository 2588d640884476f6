"""Reminders on a phone-sized screen, in English and Chinese: a patient who received amlodipine opens
their reminders from the menu, moves the dose time, switches the medicine off and on, then answers
STOP and START from the development phone page, which plays each reply through the signed endpoint."""

from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from app.consultations.models import Consultation
from app.database import utcnow
from app.drugs.models import Drug
from app.extensions import db
from app.inventory import services as inventory
from app.inventory.models import StockLot
from app.notifications.models import OutboundSms, SmsKind, SmsStatus
from app.orders import dispensing
from app.orders.models import Order
from app.patients.models import ConsentKind
from app.patients.services import grant_consent
from tests import factories
from tests.e2e.conftest import live_flow
from tests.e2e.pages import fits_the_screen, open_menu, sign_in
from tests.e2e.prescriptions import approved_prescription
from tests.orders.conftest import OrderFlow

pytestmark = pytest.mark.e2e

TEXT = {
    "en": {"menu": "Reminders", "title": "Medicine reminders", "save": "Save dose times",
           "saved": "Your dose times are saved", "off": "Reminders on · turn off",
           "on": "Reminders off · turn on",
           "is_off": "Reminders for this medicine are off.", "reply": "Reply", "send": "Send the reply",
           "stopped": "Reply START", "started": "texts are back on", "stop_banner": "You answered STOP"},
    "zh": {"menu": "用药提醒", "title": "用药提醒", "save": "保存服药时间", "saved": "服药时间已保存",
           "off": "提醒已开启 · 关闭", "on": "提醒已关闭 · 开启", "is_off": "已关闭该药品的提醒。",
           "reply": "回复", "send": "发送回复", "stopped": "回复 START", "started": "短信已恢复",
           "stop_banner": "您已回复退订"},
}


@pytest.fixture
def received(live_app, localstripe, consultation, request):
    """The consultation's patient agreed to SMS and received amlodipine, once a day, at a store."""
    lang = request.node.callspec.params["lang"]
    consultation_id, patient_email, _doctor, _pharmacist = consultation
    with live_app.app_context():
        visit = db.session.get(Consultation, consultation_id)
        drug = db.session.scalar(select(Drug).where(Drug.code == "AMLODIPINE-5MG-TAB"))
        drug.traceability_prefix = drug.traceability_prefix or "8690001"
        store = factories.make_store(name_en=f"Reminder Store {lang}", name_zh=f"提醒门店{lang}",
                                     city="Shanghai")
        counter = factories.make_user("pharmacist")
        counter.pharmacist_profile.home_store_id = store.id
        lot_number = f"E2E-REMIND-{lang.upper()}-{store.id}"
        inventory.receive(store, drug, lot_number, (utcnow() + timedelta(days=400)).date(), 5, 2000, counter)
        grant_consent(visit.patient, ConsentKind.SMS_REMINDERS)
        prescription = approved_prescription(visit, drug, dose="5", dose_unit="mg", frequency="QD",
                                             duration_days=7)
        db.session.commit()
        order, _payment = OrderFlow(live_flow(live_app, localstripe)).paid(prescription, store)
        order = db.session.get(Order, order.id)
        [line] = order.lines
        lot = db.session.scalar(select(StockLot).where(StockLot.store_id == store.id,
                                                       StockLot.drug_id == drug.id))
        code = f"{drug.traceability_prefix}{store.id:013d}"
        dispensing.dispense(order, counter, {line.id: (lot.lot_number, code)},
                            [check for check, _label in dispensing.CHECKLIST])
        dispensing.hand_over(order, counter, order.handover_code)
        db.session.commit()
        found = dict(patient=patient_email, patient_id=visit.patient_id)
        db.session.remove()  # an open SQLite transaction would lock the live server out
    return found


def _queued_doses(live_app, patient_id) -> int:
    with live_app.app_context():
        count = len(db.session.scalars(select(OutboundSms.id).where(
            OutboundSms.user_id == patient_id, OutboundSms.kind == SmsKind.DOSE,
            OutboundSms.status == SmsStatus.QUEUED)).all())
        db.session.remove()
    return count


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_reminders_times_switch_and_stop_start_on_a_phone(page: Page, live_app, live_server, received,
                                                           lang):
    text = TEXT[lang]
    sign_in(page, live_server, received["patient"])
    open_menu(page)
    page.locator("#menu-medicines").click()
    page.locator("#main-nav").get_by_role("link", name=text["menu"], exact=True).click()
    expect(page.get_by_role("heading", name=text["title"], level=1)).to_be_visible()
    expect(page.locator("#reminder-lines li")).to_have_count(1)
    assert fits_the_screen(page)

    # A new dose time: the next reminders move to it.
    page.locator("#times-QD-1").fill("07:30")
    page.get_by_role("button", name=text["save"]).click()
    expect(page.get_by_role("alert")).to_contain_text(text["saved"])
    expect(page.locator("#upcoming li").first).to_contain_text("07:30")

    # Off, then on again.
    page.get_by_role("button", name=text["off"]).click()
    expect(page.get_by_role("alert")).to_contain_text(text["is_off"])
    assert _queued_doses(live_app, received["patient_id"]) == 0
    page.get_by_role("button", name=text["on"]).click()
    expect(page.get_by_role("button", name=text["off"])).to_be_visible()
    assert _queued_doses(live_app, received["patient_id"]) > 0

    # STOP from the phone: everything stops, and the reminders page says so; START brings them back.
    page.goto(f"{live_server}/sms/phone")
    page.get_by_label(text["reply"], exact=True).fill("退订" if lang == "zh" else "STOP")
    page.get_by_role("button", name=text["send"]).click()
    expect(page.get_by_role("alert")).to_contain_text(text["stopped"])
    assert fits_the_screen(page)
    assert _queued_doses(live_app, received["patient_id"]) == 0
    page.goto(f"{live_server}/reminders/")
    expect(page.locator("#reminders-stopped")).to_contain_text(text["stop_banner"])
    page.goto(f"{live_server}/sms/phone")
    page.get_by_label(text["reply"], exact=True).fill("START")
    page.get_by_role("button", name=text["send"]).click()
    expect(page.get_by_role("alert")).to_contain_text(text["started"])
    assert _queued_doses(live_app, received["patient_id"]) > 0
