"""The data platform on a phone-sized screen, in English and Chinese: a patient agrees to data sharing
and to linking on their profile, receives medicines, and an operations admin follows the event from
waiting to delivered to the reference receiver and reads exactly what was sent."""

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
from app.orders import dispensing
from app.orders.models import Order
from app.outbox.models import OutboxEvent
from app.platform import push
from app.platform.receiver import make_receiver, start_in_thread
from tests import factories
from tests.e2e.conftest import live_flow
from tests.e2e.pages import fits_the_screen, open_menu, sign_in, sign_out
from tests.e2e.prescriptions import approved_prescription
from tests.orders.conftest import OrderFlow

pytestmark = pytest.mark.e2e

SECRET = "e2e-platform-secret"
TEXT = {
    "en": {"sharing": "Sharing with the data platform", "linking": "Linking with my hospital records",
           "agree": "I agree", "thanks": "Thank you. Your consent has been recorded.", "menu": "Pharmacies",
           "push": "Data platform push", "waiting": "Waiting to be sent", "delivered": "Delivered",
           "sent": "Exactly what is sent"},
    "zh": {"sharing": "与数据平台共享", "linking": "与我的医院病历关联", "agree": "我同意",
           "thanks": "谢谢，您的知情同意已记录。", "menu": "药房", "push": "数据平台推送",
           "waiting": "待发送", "delivered": "已送达", "sent": "实际发送的内容"},
}


@pytest.fixture
def receiver(live_app, tmp_path):
    """The reference receiver on 127.0.0.1, and the live app pushing to it."""
    platform = make_receiver(f"sqlite:///{tmp_path / 'received.sqlite3'}", SECRET)
    server = start_in_thread(platform)
    before = {key: live_app.config[key] for key in ("PLATFORM_PUSH_URL", "PLATFORM_PUSH_SECRET")}
    live_app.config.update(PLATFORM_PUSH_URL=server.url, PLATFORM_PUSH_SECRET=SECRET)
    yield platform
    live_app.config.update(before)
    server.stop()
    platform.close()


def _hand_over(live_app, localstripe, consultation_id: int, lang: str) -> None:
    """Amlodipine ordered, paid, dispensed and handed over to the consultation's patient at a store."""
    with live_app.app_context():
        visit = db.session.get(Consultation, consultation_id)
        drug = db.session.scalar(select(Drug).where(Drug.code == "AMLODIPINE-5MG-TAB"))
        drug.traceability_prefix = drug.traceability_prefix or "8690001"
        store = factories.make_store(name_en=f"Platform Store {lang}", name_zh=f"平台门店{lang}",
                                     city="Shanghai")
        counter = factories.make_user("pharmacist")
        counter.pharmacist_profile.home_store_id = store.id
        inventory.receive(store, drug, f"E2E-PLATFORM-{lang.upper()}-{store.id}",
                          (utcnow() + timedelta(days=400)).date(), 5, 2000, counter)
        prescription = approved_prescription(visit, drug, dose="5", dose_unit="mg", frequency="QD",
                                             duration_days=7)
        db.session.commit()
        order, _payment = OrderFlow(live_flow(live_app, localstripe)).paid(prescription, store)
        order = db.session.get(Order, order.id)
        [line] = order.lines
        lot = db.session.scalar(select(StockLot).where(StockLot.store_id == store.id,
                                                       StockLot.drug_id == drug.id))
        scanned = {line.id: (lot.lot_number, f"{drug.traceability_prefix}{store.id:013d}")}
        dispensing.dispense(order, counter, scanned, [check for check, _label in dispensing.CHECKLIST])
        dispensing.hand_over(order, counter, order.handover_code)
        db.session.commit()
        db.session.remove()  # an open SQLite transaction would lock the live server out


def _agree(page: Page, title: str, text: dict) -> None:
    card = page.locator("#consents .card").filter(has=page.get_by_role("heading", name=title, exact=True))
    card.get_by_role("button", name=text["agree"]).click()
    expect(page.get_by_role("alert")).to_contain_text(text["thanks"])


def _event_of(live_app, patient_id: int) -> tuple[int, str]:
    with live_app.app_context():
        event = db.session.scalars(select(OutboxEvent).where(OutboxEvent.patient_id == patient_id)).one()
        found = event.id, event.idempotency_key
        db.session.remove()
    return found


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_patient_shares_data_and_an_admin_sees_the_event_delivered(page: Page, live_app, live_server,
                                                                       localstripe, consultation, receiver,
                                                                       lang):
    text = TEXT[lang]
    consultation_id, patient_email, _doctor, _pharmacist = consultation
    sign_in(page, live_server, patient_email)
    page.goto(f"{live_server}/patients/profile")
    _agree(page, text["sharing"], text)
    _agree(page, text["linking"], text)
    assert fits_the_screen(page)
    sign_out(page)

    _hand_over(live_app, localstripe, consultation_id, lang)
    with live_app.app_context():
        patient_id = db.session.get(Consultation, consultation_id).patient_id
        db.session.remove()
    event_id, key = _event_of(live_app, patient_id)

    with live_app.app_context():
        admin = factories.make_user("admin", locale=lang)
        db.session.commit()
        login = admin.email
        db.session.remove()
    sign_in(page, live_server, login)
    open_menu(page)
    page.locator("#main-nav").get_by_role("button", name=text["menu"], exact=True).click()
    page.locator("#main-nav").get_by_role("link", name=text["push"], exact=True).click()
    expect(page.get_by_role("heading", name=text["push"], level=1)).to_be_visible()
    row = page.locator(f"#event-{event_id}")
    expect(row).to_contain_text(text["waiting"])
    assert fits_the_screen(page)

    with live_app.app_context():  # the worker's sweep (other browser tests' patients may have events too)
        assert push.push_due(0) >= 1
        db.session.remove()
    page.reload()
    expect(page.locator(f"#event-{event_id}")).to_contain_text(text["delivered"])
    page.locator(f"#event-{event_id} a").first.click()
    expect(page.get_by_role("heading", name=text["sent"])).to_be_visible()
    expect(page.locator("#bundle")).to_contain_text(f"urn:uuid:{key}")
    expect(page.locator("#bundle")).not_to_contain_text(patient_email)
    assert fits_the_screen(page)
    assert [row["event_key"] for row in receiver.store.rows()].count(key) == 1
