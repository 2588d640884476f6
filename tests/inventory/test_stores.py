"""A store's place, hours and delivery service area (a list of cities and/or a radius in km)."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy.exc import IntegrityError

from app.inventory.models import StoreServiceCity
from tests import factories

XUHUI = dict(latitude=Decimal("31.188400"), longitude=Decimal("121.436600"))  # Shanghai, Xuhui
PUDONG = (Decimal("31.221500"), Decimal("121.544300"))  # about 11 km east of Xuhui
HANGZHOU = (Decimal("30.274100"), Decimal("120.155100"))  # about 160 km away
BEIJING = (Decimal("39.904200"), Decimal("116.407400"))


def test_a_store_keeps_its_coordinates_hours_and_service_cities(db):
    cities = [StoreServiceCity(city="Shanghai"), StoreServiceCity(city="Suzhou")]
    store = factories.make_store(**XUHUI, opening_hours="Mon–Fri 09:00–18:00; Sat 09:00–12:00",
                                 delivery_radius_km=Decimal("15"), service_cities=cities)
    db.session.commit()
    db.session.expire_all()
    assert (store.latitude, store.longitude, store.delivery_radius_km) == (
        Decimal("31.188400"), Decimal("121.436600"), Decimal("15.0"))
    assert store.opening_hours == "Mon–Fri 09:00–18:00; Sat 09:00–12:00"
    assert [area.city for area in store.service_cities] == ["Shanghai", "Suzhou"]


def test_a_store_without_the_new_fields_is_still_valid(db):
    store = factories.make_store()
    db.session.commit()
    db.session.expire_all()
    assert (store.latitude, store.opening_hours, store.delivery_radius_km, store.service_cities) == (
        None, "", None, [])
    assert not store.delivers_to("Shanghai")


def test_delivery_reaches_the_listed_cities_and_the_radius(db):
    store = factories.make_store(**XUHUI, delivery_radius_km=Decimal("20"),
                                 service_cities=[StoreServiceCity(city="Suzhou")])
    assert store.delivers_to(" suzhou ")
    assert store.delivers_to("Shanghai", *PUDONG)  # within 20 km, though Shanghai is not listed
    assert not store.delivers_to("Shanghai")  # no coordinates given and not a listed city
    assert not store.delivers_to("Hangzhou", *HANGZHOU)
    assert store.distance_km(*BEIJING) == pytest.approx(1070, abs=15)
    assert store.distance_km(None, None) is None


def test_the_calendar_day_is_the_store_s_own(db):
    shanghai = factories.make_store()
    los_angeles = factories.make_store(time_zone="America/Los_Angeles")
    moment = datetime(2027, 3, 1, 17, 0, tzinfo=UTC)  # already 2 March, 01:00, in Shanghai
    assert shanghai.today(moment).isoformat() == "2027-03-02"
    assert los_angeles.today(moment).isoformat() == "2027-03-01"


@pytest.mark.parametrize("fields", [
    dict(latitude=Decimal("91"), longitude=Decimal("0")),
    dict(latitude=Decimal("31"), longitude=Decimal("181")),
    dict(latitude=Decimal("31")),  # a latitude without a longitude
    dict(delivery_radius_km=Decimal("10")),  # a radius around no known place
    dict(**XUHUI, delivery_radius_km=Decimal("0")),
])
def test_the_database_refuses_impossible_places(db, fields):
    with pytest.raises(IntegrityError), db.session.begin_nested():
        factories.make_store(**fields)


def test_a_city_is_listed_once_per_store(db):
    with pytest.raises(IntegrityError), db.session.begin_nested():
        factories.make_store(service_cities=[StoreServiceCity(city="Suzhou"),
                                             StoreServiceCity(city="Suzhou")])
