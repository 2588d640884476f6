"""What the stock pages list: a store's lots with filters, near-expiry lots, the chain summary."""

from datetime import date, datetime, timedelta

from sqlalchemy import and_, case, false, func, or_, select
from sqlalchemy.orm import joinedload

from app.drugs.models import Drug
from app.extensions import db
from app.inventory.models import LotStatus, StockLot, StockMovement, Store
from app.inventory.rules import normal_lot_number
from app.pagination import Page, Sort, paginate

NEAR_EXPIRY_CHOICES = (30, 60, 90)
PAGE_SIZE = 100
NEAR_EXPIRY_PAGE_SIZE = 100


def _state_is(status: str, today: date):
    """Lots whose real state (StockLot.state_on) is `status`: past its date an available lot is expired."""
    if status == LotStatus.AVAILABLE:
        return and_(StockLot.status == LotStatus.AVAILABLE, StockLot.expiry_date >= today)
    if status == LotStatus.EXPIRED:
        return or_(StockLot.status == LotStatus.EXPIRED,
                   and_(StockLot.status == LotStatus.AVAILABLE, StockLot.expiry_date < today))
    return StockLot.status == status


def _lot_filters(store: Store, today: date, *, query: str = "", status: str = "",
                 near_expiry_days: int | None = None, cold_chain: bool = False) -> list:
    """The store page's filters as WHERE clauses (the query joins Drug for the name and cold chain)."""
    where = [StockLot.store_id == store.id, StockLot.quantity_on_hand > 0]
    if query:
        pattern = f"%{query.casefold()}%"
        # Lot numbers are stored normalised (upper-case, single spaces): search in the same form.
        where.append(or_(func.lower(Drug.generic_name_en).like(pattern),
                         Drug.generic_name_zh.like(f"%{query}%"),
                         func.lower(Drug.code).like(pattern),
                         StockLot.lot_number.like(f"%{normal_lot_number(query)}%")))
    if status in set(LotStatus):
        where.append(_state_is(status, today))
    if near_expiry_days:
        where.extend((StockLot.expiry_date <= today + timedelta(days=near_expiry_days),
                      StockLot.status.in_((LotStatus.AVAILABLE, LotStatus.QUARANTINED))))
    if cold_chain:
        where.append(Drug.is_cold_chain.is_(True))
    return where


# A store's lots by drug name, then earliest expiry first (the order they should leave the shelf): the
# name index walks the drugs in order and ix_stock_lots_fefo finds each one's lots in the store.
BY_DRUG = Sort([Drug.generic_name_en, StockLot.expiry_date, StockLot.id], [str, date, int])


def store_lots(store: Store, *, after: str | None = None, size: int | None = None, **filters) -> Page:
    """A page of a store's lots with stock, filtered as the store page asks."""
    statement = (select(StockLot).join(Drug, Drug.id == StockLot.drug_id)
                 .where(*_lot_filters(store, store.today(), **filters)).options(joinedload(StockLot.drug)))
    return paginate(statement, BY_DRUG, after=after, size=size or PAGE_SIZE,
                    key=lambda lot: (lot.drug.generic_name_en, lot.expiry_date, lot.id))


def state_totals(store: Store, today: date, **filters) -> dict[str, int]:
    """Packs on hand by real state over every lot the filters match (not only the page shown), and the
    packs that can be sold ("sellable": available, in date, unreserved): one aggregate query."""
    in_date = _state_is(LotStatus.AVAILABLE, today)
    sums = {str(state): func.sum(case((_state_is(state, today), StockLot.quantity_on_hand), else_=0))
            for state in LotStatus}
    sums["sellable"] = func.sum(case((in_date, StockLot.quantity_on_hand - StockLot.quantity_reserved),
                                     else_=0))
    row = db.session.execute(select(*[func.coalesce(total, 0) for total in sums.values()])
                             .select_from(StockLot).join(Drug, Drug.id == StockLot.drug_id)
                             .where(*_lot_filters(store, today, **filters))).one()
    return {name: int(value) for name, value in zip(sums, row, strict=True)}


# Soonest expiry first, then by store (ix_stock_lots_status_expiry finds the lots).
BY_EXPIRY = Sort([StockLot.expiry_date, Store.code, StockLot.id], [date, str, int])


def near_expiry(stores: list[Store], days: int, *, after: str | None = None,
                size: int | None = None) -> Page:
    """Lots with stock in `stores` that expire within `days`, each judged in its store's own calendar:
    one query for every store (a condition per time zone the stores use), a page at a time."""
    by_zone = {store.time_zone: store.today() for store in stores}
    if not by_zone:
        return Page([], None)
    within = or_(*[and_(Store.time_zone == zone, StockLot.expiry_date <= today + timedelta(days=days))
                   for zone, today in by_zone.items()])
    statement = (select(StockLot).join(Store, Store.id == StockLot.store_id)
                 .where(StockLot.store_id.in_([store.id for store in stores]), StockLot.quantity_on_hand > 0,
                        StockLot.status.in_((LotStatus.AVAILABLE, LotStatus.QUARANTINED)), within)
                 .options(joinedload(StockLot.drug), joinedload(StockLot.store)))
    return paginate(statement, BY_EXPIRY, after=after, size=size or NEAR_EXPIRY_PAGE_SIZE,
                    key=lambda lot: (lot.expiry_date, lot.store.code, lot.id))


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
