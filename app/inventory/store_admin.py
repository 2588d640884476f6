"""Creating and editing a store of the chain: its identity, location, hours and delivery service area."""

import re
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from app import numbers
from app.audit.services import record
from app.errors import DomainError
from app.extensions import db
from app.inventory.models import Store, StoreServiceCity
from app.limits import Bound
from app.patients.identity import time_zones

CODE = re.compile(r"^[A-Z0-9][A-Z0-9-]{1,19}$")


def _decimal(value, field: str, low: Decimal, high: Decimal, reasons: dict) -> Decimal | None:
    text = str(value if value is not None else "").strip()
    if not text:
        return None
    try:  # the one bounded parser; extra decimals are rounded below, as they always were
        return numbers.parse_decimal(text, Bound(low, high, places=20))
    except numbers.NumberError as error:
        reasons[field] = (_l("Enter a number.") if error.kind == numbers.SHAPE else
                          _l("Enter a number between %(low)s and %(high)s.", low=low, high=high))
        return None


def _cities(text: str) -> list[str]:
    """One city per line or separated by commas (、 and ， too), without repeats."""
    parts = re.split(r"[\n,，、;；]+", text or "")
    seen: dict[str, str] = {}
    for part in (p.strip() for p in parts):
        if part and part.casefold() not in seen:
            seen[part.casefold()] = part[:80]
    return list(seen.values())


def save_store(store: Store | None, values: dict, user) -> Store:
    """Create (store=None) or update a store from form values; DomainError names each bad field."""
    reasons: dict[str, str] = {}
    code = (values.get("code") or "").strip().upper()
    if not CODE.match(code):
        reasons["code"] = _l("2–20 capital letters, digits or hyphens, e.g. SH-XH-01.")
    elif db.session.scalar(select(Store.id).where(func.upper(Store.code) == code,
                                                  Store.id != (store.id if store else -1))):
        reasons["code"] = _l("Another store already has this code.")
    texts = {name: (values.get(name) or "").strip() for name in ("name_en", "name_zh", "city", "address")}
    for name, text in texts.items():
        if not text:
            reasons[name] = _l("This field is required.")
    zone = values.get("time_zone") or "Asia/Shanghai"
    if zone not in time_zones():
        reasons["time_zone"] = _l("Choose a time zone from the list.")
    latitude = _decimal(values.get("latitude"), "latitude", Decimal(-90), Decimal(90), reasons)
    longitude = _decimal(values.get("longitude"), "longitude", Decimal(-180), Decimal(180), reasons)
    if (latitude is None) != (longitude is None) and not {"latitude", "longitude"} & reasons.keys():
        reasons["longitude" if latitude is not None else "latitude"] = _l(
            "Give both latitude and longitude, or neither.")
    radius = _decimal(values.get("delivery_radius_km"), "delivery_radius_km", Decimal("0.1"), Decimal(500),
                      reasons)
    if radius is not None and latitude is None and "delivery_radius_km" not in reasons:
        reasons["delivery_radius_km"] = _l("A delivery radius needs the store's coordinates.")
    if reasons:
        raise DomainError(reasons)
    created = store is None
    store = store or Store()
    store.code = code
    store.name_en, store.name_zh = texts["name_en"], texts["name_zh"]
    store.city, store.address = texts["city"], texts["address"]
    store.time_zone = zone
    store.latitude = latitude.quantize(Decimal("0.000001")) if latitude is not None else None
    store.longitude = longitude.quantize(Decimal("0.000001")) if longitude is not None else None
    store.delivery_radius_km = radius.quantize(Decimal("0.1")) if radius is not None else None
    store.opening_hours = (values.get("opening_hours") or "").strip()[:500]
    store.is_cold_chain_capable = bool(values.get("is_cold_chain_capable"))
    store.is_active = bool(values.get("is_active", True))
    wanted = _cities(values.get("service_cities") or "")
    store.service_cities = [next((c for c in store.service_cities if c.city == city), None)
                            or StoreServiceCity(city=city) for city in wanted]
    if created:
        db.session.add(store)
    db.session.flush()
    record("store.created" if created else "store.updated", obj=store, actor=user,
           detail=f"code={store.code}; active={store.is_active}; cold_chain={store.is_cold_chain_capable}")
    return store
