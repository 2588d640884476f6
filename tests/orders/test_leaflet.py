"""The patient leaflet: a page per medicine with how to take it, storage and key warnings in Chinese and
in English; printed by the order's store pharmacist, opened by the patient, and nobody else."""

from io import BytesIO

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.extensions import db as _db
from app.orders import dispensing
from app.orders.models import Order
from tests import factories
from tests.orders.test_dispensing import EVERY_CHECK, _scan, coded  # noqa: F401  (fixture)
from tests.review.conftest import AMLODIPINE

INSULIN = ("INSULIN-GLARGINE-300IU-PEN", {"dose": "10", "dose_unit": "IU"})


def pages(response) -> list[str]:
    """Each page's text without white space: Chinese wraps between any two characters."""
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    return ["".join(page.extract_text().split()) for page in PdfReader(BytesIO(response.data)).pages]


def flat(text: str) -> str:
    return "".join(text.split())


@pytest.fixture
def order(shop, approve, ordering):
    """A paid pickup order of amlodipine (kept at room temperature) and insulin glargine (cold chain)."""
    placed, _payment = ordering.paid(approve(AMLODIPINE, INSULIN), shop.store)
    return _db.session.get(Order, placed.id)


def test_each_medicine_has_a_page_with_directions_storage_and_warnings_in_both_languages(
        db, client, login_as, shop, order):
    amlodipine, insulin = (line.drug for line in order.lines)
    insulin.storage_en = insulin.storage_zh = ""  # the leaflet then states the cold chain's usual text
    _db.session.commit()
    assert not amlodipine.is_cold_chain and insulin.is_cold_chain
    login_as(shop.pharmacist)
    first, second = pages(client.get(f"/orders/{order.id}/leaflet.pdf"))

    for page in (first, second):
        assert "用药指导单" in page and "Patientmedicationleaflet" in page
        assert flat(shop.store.name_zh) in page and flat(shop.store.name_en) in page
        assert flat(order.patient.display_name) in page
    # How this patient takes it, from the signed sig, in both languages.
    assert "氨氯地平" in first and "Amlodipine5mg" in first
    assert "口服" in first and "每日一次" in first and "Take5mg" in first and "onceaday" in first
    assert "甘精胰岛素" in second and "Insulinglargine" in second
    assert "皮下注射，每次10单位" in second and "Inject10unitsundertheskin" in second
    # Storage: room temperature for amlodipine, the refrigerator for insulin.
    assert "25°C以下" in first and "Storebelow25°C" in first and "2–8°C" not in first
    assert "2–8°C冷藏" in second and "切勿冷冻" in second and "Donotfreeze" in second
    # The catalogue's key warnings, each language in full.
    for page, drug in ((first, amlodipine), (second, insulin)):
        assert drug.warnings_en and drug.warnings_zh
        assert flat(drug.warnings_en) in page and flat(drug.warnings_zh) in page


def test_a_storage_text_in_the_catalogue_replaces_the_usual_one(db, client, login_as, order):
    amlodipine = order.lines[0].drug
    amlodipine.storage_en = "Keep below 30 °C in the blister."
    amlodipine.storage_zh = "30 °C以下保存于铝塑板内。"
    _db.session.commit()
    login_as(order.patient)
    first, _second = pages(client.get(f"/orders/{order.id}/leaflet.pdf"))
    assert "Keepbelow30°Cintheblister." in first and "30°C以下保存于铝塑板内。" in first
    assert "Storebelow25°C" not in first


def test_the_patients_language_comes_first_and_catalogue_text_prints_as_typed(db, client, login_as, order):
    order.patient.locale = "zh"
    amlodipine = order.lines[0].drug
    amlodipine.warnings_en = "Never take more than 2 tablets <b>a day</b> & tell your doctor."
    amlodipine.warnings_zh = "每日不超过2片<b>；</b>请告诉医生&药师。"
    _db.session.commit()
    login_as(order.patient)
    first, _second = pages(client.get(f"/orders/{order.id}/leaflet.pdf"))
    assert first.index("用药指导单") < first.index("Patientmedicationleaflet")
    assert "<b>aday</b>&tellyourdoctor." in first and "每日不超过2片<b>；</b>请告诉医生&药师。" in first


def test_the_pharmacist_prints_it_from_the_dispensing_page_and_the_read_is_audited(
        db, client, login_as, shop, approve, ordering, coded):  # noqa: F811
    placed, _payment = ordering.paid(approve(), shop.store)
    order = _db.session.get(Order, placed.id)
    dispensing.dispense(order, shop.pharmacist, _scan(order), EVERY_CHECK)
    _db.session.commit()
    login_as(shop.pharmacist)
    page = client.get(f"/orders/{order.id}/dispense").get_data(as_text=True)
    assert f'id="print-leaflet" href="/orders/{order.id}/leaflet.pdf"' in page
    assert len(pages(client.get(f"/orders/{order.id}/leaflet.pdf"))) == 1
    [event] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "order.leaflet_printed"))
    assert (event.actor_id, event.object_id, event.patient_id) == (
        shop.pharmacist.id, str(order.id), order.patient_id)


def test_the_patient_opens_it_from_their_order_and_the_read_is_audited(db, client, login_as, order):
    login_as(order.patient)
    page = client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert f'id="leaflet" href="/orders/{order.id}/leaflet.pdf"' in page
    assert len(pages(client.get(f"/orders/{order.id}/leaflet.pdf"))) == 2
    [event] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "order.leaflet_viewed"))
    assert (event.actor_id, event.object_id, event.patient_id) == (
        order.patient_id, str(order.id), order.patient_id)


def test_another_stores_pharmacist_and_another_patient_get_404(db, client, login_as, order):
    elsewhere = factories.make_user("pharmacist")
    elsewhere.pharmacist_profile.home_store_id = factories.make_store(code="BJ1").id
    stranger = factories.make_user("patient")
    _db.session.commit()
    for outsider in (elsewhere, stranger):
        login_as(outsider)
        assert client.get(f"/orders/{order.id}/leaflet.pdf").status_code == 404
    assert not db.session.scalars(select(AuditEvent).where(
        AuditEvent.action.in_(("order.leaflet_printed", "order.leaflet_viewed")))).all()


@pytest.mark.parametrize("role", ["courier", "doctor", "admin"])
def test_couriers_doctors_and_admins_are_refused(db, client, login_as, order, role):
    login_as(role)
    assert client.get(f"/orders/{order.id}/leaflet.pdf").status_code == 403
