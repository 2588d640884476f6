"""What the stock pages list: a store's lots with filters, near-expiry lots, the chain summary."""

from datetime import date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from sqlalchemy import Date, and_, bindparam, case, false, func, literal, or_, select, text
from sqlalchemy.orm import joinedload

from app.database import utcnow
from app.drugs.models import Drug
from app.extensions import db
from app.inventory.models import LIVE_LOT_SQL, LotStatus, StockLot, StockMovement, Store
from app.inventory.rules import normal_lot_number
from app.pagination import Page, Sort, paginate

NEAR_EXPIRY_CHOICES = (30, 60, 90)
# Lots per page of a store's stock and of the near-expiry report. Pharmacists read both on a phone at
# the shelf: fifty lots already fill several screens, the filters (drug or lot number, state, expiry,
# cold chain) find a lot faster than scrolling, and the totals count every page. A hundred rows doubled
# the rows' share of the request for lots seldom scrolled to.
PAGE_SIZE = 50
NEAR_EXPIRY_PAGE_SIZE = 50


def _state_is(status: str, today: date):
    """Lots whose real state (StockLot.state_on) is `status`: past its date an available lot is expired."""
    if status == LotStatus.AVAILABLE:
        return and_(StockLot.status == LotStatus.AVAILABLE, StockLot.expiry_date >= today)
    if status == LotStatus.EXPIRED:
        return or_(StockLot.status == LotStatus.EXPIRED,
                   and_(StockLot.status == LotStatus.AVAILABLE, StockLot.expiry_date < today))
    return StockLot.status == status


def _lot_filters(*, query: bool, status: str, near_expiry: bool, cold_chain: bool) -> list:
    """The store page's filters as WHERE clauses of bound parameters (`_filter_params` fills them) for
    statements built once per combination of filters; the query joins Drug for the name and cold chain."""
    today = bindparam("today", type_=Date())
    where = [StockLot.store_id == bindparam("store_id"), StockLot.quantity_on_hand > 0]
    if query:
        where.append(or_(func.lower(Drug.generic_name_en).like(bindparam("pattern")),
                         Drug.generic_name_zh.like(bindparam("typed_pattern")),
                         func.lower(Drug.code).like(bindparam("pattern")),
                         StockLot.lot_number.like(bindparam("lot_pattern"))))
    if status:
        where.append(_state_is(status, today))
    if near_expiry:
        where.extend((StockLot.expiry_date <= bindparam("expires_by", type_=Date()),
                      StockLot.status.in_((LotStatus.AVAILABLE, LotStatus.QUARANTINED))))
    if cold_chain:
        where.append(Drug.is_cold_chain.is_(True))
    return where


def _filter_params(store: Store, today: date, *, query: str = "", status: str = "",
                   near_expiry_days: int | None = None, cold_chain: bool = False) -> tuple[tuple, dict]:
    """The shape of the store page's filters (which of them apply) and the values of their parameters."""
    status = status if status in set(LotStatus) else ""
    params = {"store_id": store.id, "today": today}
    if query:
        # Lot numbers are stored normalised (upper-case, single spaces): search in the same form.
        params.update(pattern=f"%{query.casefold()}%", typed_pattern=f"%{query}%",
                      lot_pattern=f"%{normal_lot_number(query)}%")
    if near_expiry_days:
        params["expires_by"] = today + timedelta(days=near_expiry_days)
    return (bool(query), status, bool(near_expiry_days), cold_chain), params


# A store's lots by drug name, then earliest expiry first (the order they should leave the shelf): the
# name index walks the drugs in order and ix_stock_lots_fefo finds each one's lots in the store.
BY_DRUG = Sort([Drug.generic_name_en, StockLot.expiry_date, StockLot.id], [str, date, int])

# What the store page prints of a lot and its drug, as plain rows: loading each lot and its drug as ORM
# objects (every column, identity map, state tracking) cost more CPU than printing them. The drug's
# columns keep the names drug_strength() reads.
LOT_ROW = (StockLot.id, StockLot.lot_number, StockLot.expiry_date, StockLot.quantity_on_hand,
           StockLot.quantity_reserved, Drug.code, Drug.generic_name_en, Drug.generic_name_zh, Drug.strength,
           Drug.strength_unit, Drug.is_cold_chain)


def _state(today):
    """A lot's real state (StockLot.state_on) in SQL, by the same rule as the state filter."""
    return case((_state_is(LotStatus.EXPIRED, today), literal(LotStatus.EXPIRED.value)),
                else_=StockLot.status)


@cache
def _store_lots_statement(query: bool, status: str, near_expiry: bool, cold_chain: bool):
    """The store page's rows for one combination of filters, built once (construction was a third of
    the query's cost); `_filter_params` gives its parameters."""
    today = bindparam("today", type_=Date())
    sellable = case((_state_is(LotStatus.AVAILABLE, today),
                     StockLot.quantity_on_hand - StockLot.quantity_reserved), else_=0)
    return (select(*LOT_ROW, _state(today).label("state"), sellable.label("sellable"))
            .join(Drug, Drug.id == StockLot.drug_id)
            .where(*_lot_filters(query=query, status=status, near_expiry=near_expiry, cold_chain=cold_chain)))


def store_lots(store: Store, *, after: str | None = None, size: int | None = None, **filters) -> Page:
    """A page of a store's lots with stock, filtered as the store page asks: rows of LOT_ROW, with the
    lot's real `state` and its `sellable` packs (StockLot.sellable_on) on the store's date."""
    shape, params = _filter_params(store, store.today(), **filters)
    return paginate(_store_lots_statement(*shape), BY_DRUG, after=after, size=size or PAGE_SIZE,
                    entities=False, params=params,
                    key=lambda lot: (lot.generic_name_en, lot.expiry_date, lot.id))


@cache
def _totals_statement(query: bool, status: str, near_expiry: bool, cold_chain: bool):
    """Packs on hand and unreserved by stored status and whether past the date, for one combination of
    filters (built once, like _store_lots_statement)."""
    past = (StockLot.expiry_date < bindparam("today", type_=Date())).label("past")
    return (select(StockLot.status, past, func.sum(StockLot.quantity_on_hand),
                   func.sum(StockLot.quantity_on_hand - StockLot.quantity_reserved))
            .select_from(StockLot).join(Drug, Drug.id == StockLot.drug_id)
            .where(*_lot_filters(query=query, status=status, near_expiry=near_expiry, cold_chain=cold_chain))
            .group_by(StockLot.status, past))


def state_totals(store: Store, today: date, **filters) -> dict[str, int]:
    """Packs on hand by real state over every lot the filters match (not only the page shown), and the
    packs that can be sold ("sellable": available, in date, unreserved): one query of at most a few
    groups (stored status, past its date or not), each group's real state worked out here by the rule
    of StockLot.state_on. Five CASE sums over the lots cost the request a millisecond to build and run."""
    shape, params = _filter_params(store, today, **filters)
    totals = dict.fromkeys([*map(str, LotStatus), "sellable"], 0)
    for status, is_past, on_hand, free in db.session.execute(_totals_statement(*shape), params):
        state = LotStatus.EXPIRED if status == LotStatus.AVAILABLE and is_past else LotStatus(status)
        totals[str(state)] += int(on_hand)
        if state == LotStatus.AVAILABLE:
            totals["sellable"] += int(free)
    return totals


# Soonest expiry first, then by store. Sorting on the lots' own columns lets PostgreSQL walk
# ix_stock_lots_expiry_store (the chain) or ix_stock_lots_store_expiry (one store) and stop after a
# page; sorting on the store's code made it join and sort every lot in the window (44,000 at scale 20).
BY_EXPIRY = Sort([StockLot.expiry_date, StockLot.store_id, StockLot.id], [date, int, int])

# What the near-expiry report prints of a lot, its store and its drug, as plain rows (see LOT_ROW).
NEAR_EXPIRY_ROW = (StockLot.id, StockLot.lot_number, StockLot.expiry_date, StockLot.quantity_on_hand,
                   StockLot.store_id, Store.code.label("store_code"), Drug.generic_name_en,
                   Drug.generic_name_zh, Drug.strength, Drug.strength_unit)


def near_expiry(days: int, stores: list[Store] | None = None, *, after: str | None = None,
                size: int | None = None) -> Page:
    """Lots with stock in `stores` (None: every store of the chain) that expire within `days`, each
    judged in its store's own calendar: one query for every store (a condition per time zone the stores
    use), a page at a time. Rows of NEAR_EXPIRY_ROW with the lot's real `state` (StockLot.state_on) on
    its store's date. For the whole chain only its time zones are read, not every store."""
    if stores is None:
        now = utcnow()
        by_zone = {zone: now.astimezone(ZoneInfo(zone)).date()
                   for zone in db.session.scalars(select(Store.time_zone).distinct())}
    else:
        by_zone = {store.time_zone: store.today() for store in stores}
    if not by_zone:
        return Page([], None)
    within = or_(*[and_(Store.time_zone == zone, StockLot.expiry_date <= today + timedelta(days=days))
                   for zone, today in by_zone.items()])
    past = or_(*[and_(Store.time_zone == zone, StockLot.expiry_date < today)
                 for zone, today in by_zone.items()])
    state = case((and_(StockLot.status == LotStatus.AVAILABLE, past), literal(LotStatus.EXPIRED.value)),
                 else_=StockLot.status)
    # Live lots, written as the partial indexes' predicate so that a prepared plan can use them.
    where = [text(LIVE_LOT_SQL), within]
    if stores is not None:
        where.append(StockLot.store_id.in_([store.id for store in stores]))
    statement = (select(*NEAR_EXPIRY_ROW, state.label("state")).join(Store, Store.id == StockLot.store_id)
                 .join(Drug, Drug.id == StockLot.drug_id).where(*where))
    return paginate(statement, BY_EXPIRY, after=after, size=size or NEAR_EXPIRY_PAGE_SIZE, entities=False,
                    key=lambda lot: (lot.expiry_date, lot.store_id, lot.id))


def ledger(lot: StockLot, limit: int = 200) -> list[StockMovement]:
    return list(db.session.scalars(select(StockMovement).where(StockMovement.lot_id == lot.id)
                                   .options(joinedload(StockMovement.user))
                                   .order_by(StockMovement.id.desc()).limit(limit)))


def chain_summary(now: datetime) -> list[dict]:
    """Per store: lots and packs on hand, reserved, sellable and unsellable packs (quarantined, recalled or
    expired, judged in the store's own calendar), quarantined lots, lots expiring within 90 days; one
    grouped query (the date of each time zone the stores use is computed here)."""
    stores = list(db.session.scalars(select(Store).order_by(Store.code)))
    zones = {store.time_zone: store.today(now) for store in stores}
    in_date = or_(*[and_(Store.time_zone == zone, StockLot.expiry_date >= today)
                    for zone, today in zones.items()]) if zones else false()
    soon = or_(*[and_(Store.time_zone == zone, StockLot.expiry_date <= today + timedelta(days=90))
                 for zone, today in zones.items()]) if zones else false()
    available = and_(StockLot.status == LotStatus.AVAILABLE, in_date)
    rows = db.session.execute(
        select(StockLot.store_id,
               func.count(StockLot.id),
               func.coalesce(func.sum(StockLot.quantity_on_hand), 0),
               func.coalesce(func.sum(StockLot.quantity_reserved), 0),
               func.sum(case((available, StockLot.quantity_on_hand - StockLot.quantity_reserved), else_=0)),
               func.sum(case((available, 0), else_=StockLot.quantity_on_hand)),
               func.sum(case((StockLot.status == LotStatus.QUARANTINED, 1), else_=0)),
               func.sum(case((available & soon, 1), else_=0)))
        .join(Store, Store.id == StockLot.store_id)
        .where(StockLot.quantity_on_hand > 0).group_by(StockLot.store_id)).all()
    by_store = {row[0]: row[1:] for row in rows}
    summary = []
    for store in stores:
        lots, on_hand, reserved, sellable, unsellable, quarantined, expiring = by_store.get(
            store.id, (0, 0, 0, 0, 0, 0, 0))
        summary.append({"store": store, "lots": lots, "on_hand": on_hand, "reserved": reserved,
                        "sellable": sellable or 0, "unsellable": unsellable or 0,
                        "quarantined": quarantined or 0, "expiring": expiring or 0})
    return summary
