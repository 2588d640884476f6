"""Admins create and edit the chain's stores: location, hours, delivery area, cold chain, activation."""

import re

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.inventory.models import Store
from tests import factories


def text(response) -> str:
    return response.get_data(as_text=True)


def store_form(**overrides) -> dict:
    data = {"code": "SH-XH-09", "name_en": "Xuhui Store", "name_zh": "徐汇店", "city": "Shanghai",
            "address": "88 Caoxi Road", "time_zone": "Asia/Shanghai", "latitude": "31.1880",
            "longitude": "121.4370", "opening_hours": "Mon–Sun 08:30–21:00",
            "service_cities": "Shanghai\nSuzhou, 昆山", "delivery_radius_km": "25",
            "is_cold_chain_capable": "y", "is_active": "y"}
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def stores(db) -> int:
    return db.session.scalar(select(func.count()).select_from(Store))


def test_an_admin_creates_a_store_with_its_delivery_area(db, login_as, client):
    login_as("admin")
    response = client.post("/admin/stores/new", data=store_form())
    assert response.status_code == 303
    store = db.session.scalar(select(Store).where(Store.code == "SH-XH-09"))
    assert [area.city for area in store.service_cities] == ["Shanghai", "Suzhou", "昆山"]
    assert store.is_cold_chain_capable and store.is_active and str(store.delivery_radius_km) == "25.0"
    assert store.delivers_to("昆山") and store.delivers_to(None, 31.20, 121.45)
    assert not store.delivers_to("Beijing", 39.9, 116.4)
    page = text(client.get("/admin/stores"))
    assert 'data-store="SH-XH-09"' in page and "Suzhou" in page
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "store.created"))


@pytest.mark.parametrize(("change", "field", "message"), [
    ({"code": "sh xh"}, "code", "2–20 capital letters, digits or hyphens"),
    ({"latitude": "95"}, "latitude", "Enter a number between -90 and 90."),
    ({"longitude": ""}, "longitude", "Give both latitude and longitude, or neither."),
    ({"latitude": "", "longitude": ""}, "delivery_radius_km",
     "A delivery radius needs the store's coordinates."),
    ({"time_zone": "Mars/Olympus"}, "time_zone", "Choose a time zone from the list."),
    ({"name_zh": ""}, "name_zh", "This field is required."),
])
def test_bad_store_input_is_refused_with_a_message_and_nothing_is_saved(db, login_as, client, change, field,
                                                                        message):
    login_as("admin")
    before = stores(db)
    response = client.post("/admin/stores/new", data=store_form(**change))
    assert response.status_code == 400
    page = text(response).replace("&#39;", "'")
    assert message in page
    [tag] = re.findall(rf'<(?:input|select|textarea)\b[^>]*\bid="{field}"[^>]*>', page)
    assert "is-invalid" in tag and 'aria-invalid="true"' in tag
    assert stores(db) == before


def test_a_code_already_used_is_refused(db, login_as, client):
    factories.make_store(code="SH-XH-09")
    db.session.commit()
    login_as("admin")
    response = client.post("/admin/stores/new", data=store_form())
    assert "Another store already has this code." in text(response)


def test_editing_changes_the_area_and_deactivates(db, login_as, client):
    store = factories.make_store(code="BJ-CY-01", city="Beijing")
    db.session.commit()
    login_as("admin")
    page = text(client.get(f"/admin/stores/{store.id}"))
    assert 'value="BJ-CY-01"' in page
    response = client.post(f"/admin/stores/{store.id}", data=store_form(
        code="BJ-CY-01", city="Beijing", service_cities="Beijing", is_active=None, delivery_radius_km=""))
    assert response.status_code == 303
    db.session.expire_all()
    store = db.session.get(Store, store.id)
    assert [a.city for a in store.service_cities] == ["Beijing"] and not store.is_active
    assert store.delivery_radius_km is None


def test_the_store_pages_speak_chinese(db, login_as, client):
    login_as("admin", locale="zh")
    page = text(client.get("/admin/stores/new"))
    assert "门店编码" in page and "配送城市" in page
