"""Which stores of the chain can fill a prescription now, and which could after a transfer.

Set-based: one query for the active stores (with "is the patient's city in its delivery area") and one
query over the lots, grouped by store and drug, summing the available packs (on hand − reserved) of lots
that are available and in date long enough — never a loop over lots (plus one look-up of the drugs when
they are given by id). The stores' own calendars decide
"in date": the date is computed in Python for each time zone the stores use (normally one) and the query
compares each store's lots with its zone's date, so it is exact on both databases without any SQL time-zone
function (SQLite has none).
"""

import math
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, false, func, or_, select

from app.database import utcnow
from app.drugs.models import Drug
from app.errors import DomainError
from app.extensions import db
from app.inventory import inputs
from app.inventory.models import EARTH_RADIUS_KM, LotStatus, StockLot, Store, StoreServiceCity
from app.inventory.rules import TRANSFER_MIN_SHELF_DAYS, TRANSFER_TRANSIT_DAYS
from app.labels import same_city


class StoreDates:
    """Each store's calendar date now, by time zone, for "in date until day N" conditions on lots."""

    def __init__(self, stores, now: datetime | None = None):
        now = now or utcnow()
        self.by_zone: dict[str, list[int]] = defaultdict(list)
        for store in stores:
            self.by_zone[store.time_zone].append(store.id)
        self.today = {zone: now.astimezone(ZoneInfo(zone)).date() for zone in self.by_zone}

    def earliest(self, days: int) -> date:
        """A plain lower bound on expiry (for the index); `in_date` is the exact condition."""
        return min(self.today.values()) + timedelta(days=days)

    def in_date(self, days: int):
        """Lots still in date `days` days from their store's today (expiry on that day counts)."""
        if len(self.by_zone) == 1:  # the usual chain: one zone, one date, no store list needed
            return StockLot.expiry_date >= self.earliest(days)
        if not self.by_zone:
            return false()
        return or_(*[and_(StockLot.store_id.in_(ids),
                          StockLot.expiry_date >= self.today[zone] + timedelta(days=days))
                     for zone, ids in self.by_zone.items()])


def stock_by_store(drug_ids, dates: StoreDates, days: int, movable_days: int) -> dict:
    """{(store id, drug id): (packs available in date for `days`, of which in date for `movable_days`)}
    over the lots with status available, in one grouped query."""
    if not dates.by_zone:
        return {}
    available = StockLot.quantity_on_hand - StockLot.quantity_reserved
    rows = db.session.execute(
        select(StockLot.store_id, StockLot.drug_id,
               func.sum(case((dates.in_date(days), available), else_=0)),
               func.sum(case((dates.in_date(movable_days), available), else_=0)))
        .where(StockLot.drug_id.in_(list(drug_ids)), StockLot.status == LotStatus.AVAILABLE,
               StockLot.expiry_date >= dates.earliest(days),
               StockLot.quantity_on_hand > StockLot.quantity_reserved)
        .group_by(StockLot.store_id, StockLot.drug_id))
    return {(store_id, drug_id): (int(now), int(movable)) for store_id, drug_id, now, movable in rows}


@dataclass(frozen=True)
class TransferNeeded:
    drug: Drug
    packs: int
    from_store: Store


@dataclass(frozen=True)
class FillOption:
    store: Store
    distance_km: float | None  # to the patient; None when either side has no coordinates
    transfers: tuple[TransferNeeded, ...] = field(default=())  # empty: it can fill now


@dataclass(frozen=True)
class Availability:
    now: list[FillOption]  # can fill every item now, nearest first
    after_transfer: list[FillOption]  # could, once the listed transfers arrive, nearest first


def _items(items) -> dict[Drug, int]:
    """{drug: packs} with the drugs loaded in one query (ids or models; repeats add up)."""
    pairs = items.items() if isinstance(items, Mapping) else (items or ())
    wanted: dict[int, int] = {}
    known: dict[int, Drug] = {}
    for drug, packs in pairs:
        ident = drug.id if isinstance(drug, Drug) else inputs.integer(drug)
        if ident is None:
            raise DomainError({"drug": _l("Unknown drug.")})
        if isinstance(drug, Drug):
            known[ident] = drug
        wanted[ident] = wanted.get(ident, 0) + inputs.whole_packs(packs)
    if not wanted:
        raise DomainError({"items": _l("Add at least one drug.")})
    missing = [ident for ident in wanted if ident not in known]
    if missing:
        known.update({drug.id: drug for drug in db.session.scalars(select(Drug).where(Drug.id.in_(missing)))})
    if any(ident not in known for ident in wanted):
        raise DomainError({"drug": _l("Unknown drug.")})
    return {known[ident]: wanted[ident] for ident in sorted(wanted)}


def _nearest_first(option: FillOption):
    return option.distance_km is None, option.distance_km or 0.0, option.store.code


def stores_that_can_fill(items, days_supply, *, delivery_city: str | None = None, patient_lat=None,
                         patient_lng=None, now: datetime | None = None) -> Availability:
    """The stores that can fill every item of `items` ({drug: packs}) now — enough packs available and in
    date for the whole days' supply, cold-chain items only in cold-chain-capable stores — and those that
    could after a transfer from one other store per missing item (lots in date for the supply plus
    TRANSFER_TRANSIT_DAYS, and at least TRANSFER_MIN_SHELF_DAYS, as a pick sends).

    With `delivery_city` the order is delivered: only stores whose service area covers the city or the
    patient's coordinates qualify, and no item may be one that is never delivered. Without it the patient
    picks up, and the coordinates only order the stores by distance (unknown distances last)."""
    wanted = _items(items)
    days = inputs.days(days_supply)
    delivery = delivery_city is not None
    if delivery:
        barred = [drug for drug in wanted if not drug.is_deliverable]
        if barred:
            raise DomainError({"delivery": _l(
                "%(drug)s may not be delivered; it can only be picked up in a store.",
                drug=inputs.drug_label(barred[0]))})
    # Cities are typed by people (a store's service area, a patient's address): "上海市" and "Shanghai"
    # are one city, so they are compared in Python through app.labels rather than as SQL text.
    # One statement: each active store with each city it serves (a store serves a handful).
    covers: dict[Store, bool] = {}
    for store, served in db.session.execute(
            select(Store, StoreServiceCity.city)
            .outerjoin(StoreServiceCity, StoreServiceCity.store_id == Store.id)
            .where(Store.is_active).order_by(Store.id)):
        covers[store] = covers.get(store, False) or same_city(served, delivery_city)
    stores = list(covers.items())
    if not stores:
        return Availability([], [])
    dates = StoreDates([store for store, _ in stores], now)
    movable_days = max(days + TRANSFER_TRANSIT_DAYS, TRANSFER_MIN_SHELF_DAYS)
    stock = stock_by_store([drug.id for drug in wanted], dates, days, movable_days)

    needs_cold_chain = any(drug.is_cold_chain for drug in wanted)
    senders = _Senders(wanted, [store for store, _ in stores], stock)
    can_now, after = [], []
    for store, covers_city in stores:
        distance = store.distance_km(patient_lat, patient_lng)
        if delivery and not (covers_city or (store.delivery_radius_km is not None and distance is not None
                                             and distance <= float(store.delivery_radius_km))):
            continue
        if needs_cold_chain and not store.is_cold_chain_capable:
            continue
        short = {drug: packs - stock.get((store.id, drug.id), (0, 0))[0] for drug, packs in wanted.items()}
        short = {drug: packs for drug, packs in short.items() if packs > 0}
        if not short:
            can_now.append(FillOption(store, distance))
            continue
        transfers = [senders.nearest(store, drug, packs) for drug, packs in short.items()]
        if all(transfers):
            after.append(FillOption(store, distance, tuple(transfers)))
    return Availability(sorted(can_now, key=_nearest_first), sorted(after, key=_nearest_first))


class _Senders:
    """Per drug, the stores that can send some of it; the nearest able to send enough, on demand.
    Plain ids and floats inside (no ORM attribute access in the inner loop); each store-to-store
    distance is computed once."""

    def __init__(self, wanted: dict[Drug, int], stores: list[Store], stock: dict):
        self.stores = {store.id: store for store in stores}
        self.codes = {store.id: store.code for store in stores}
        cold = {store.id for store in stores if store.is_cold_chain_capable}
        self.by_drug: dict[int, list[tuple[int, int]]] = {drug.id: [] for drug in wanted}
        cold_drugs = {drug.id for drug in wanted if drug.is_cold_chain}
        for (store_id, drug_id), (_now, movable) in stock.items():
            if movable > 0 and store_id in self.stores and (store_id in cold or drug_id not in cold_drugs):
                self.by_drug[drug_id].append((store_id, movable))
        self.points = {store.id: None if store.latitude is None or store.longitude is None else
                       (math.radians(float(store.latitude)), math.radians(float(store.longitude)))
                       for store in stores}
        self.distances: dict[tuple[int, int], float | None] = {}

    def km(self, one: int, other: int) -> float | None:
        key = (one, other) if one < other else (other, one)
        if key not in self.distances:
            a, b = self.points[one], self.points[other]
            self.distances[key] = None if a is None or b is None else 2 * EARTH_RADIUS_KM * math.asin(min(
                1.0, math.sqrt(math.sin((b[0] - a[0]) / 2) ** 2
                               + math.cos(a[0]) * math.cos(b[0]) * math.sin((b[1] - a[1]) / 2) ** 2)))
        return self.distances[key]

    def nearest(self, store: Store, drug: Drug, packs: int) -> TransferNeeded | None:
        """The other store nearest to `store` that can send `packs` packs of `drug` alone (the most stock
        first when distances are unknown; cold-chain stock only from a store keeping the cold chain)."""
        here = store.id
        best, best_key = None, None
        for other, movable in self.by_drug[drug.id]:
            if other == here or movable < packs:
                continue
            distance = self.km(here, other)
            key = (distance is None, distance or 0.0, -movable, self.codes[other])
            if best_key is None or key < best_key:
                best, best_key = other, key
        return None if best is None else TransferNeeded(drug, packs, self.stores[best])
