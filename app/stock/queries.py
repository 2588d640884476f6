"""What the stock pages list: a store's lots with filters, near-expiry lots, the chain summary."""

from datetime import date, datetime, timedelta

from sqlalchemy import and_, case, false, func, or_, select
from sqlalchemy.orm import joinedload

from app.drugs.models import Drug
from app.extensions import db
from app.inventory.models import LotStatus, StockLot, StockMovement, Store
from app.inventory.rules import normal_lot_number

NEAR_EXPIRY_CHOICES = (30, 60, 90)


def _state_is(status: str, today: date):
    """Lots whose real state (StockLot.state_on) is `status`: past its date an available lot is expired."""
    if status == LotStatus.AVAILABLE:
        return and_(StockLot.status == LotStatus.AVAILABLE, StockLot.expiry_date >= today)
    if status == LotStatus.EXPIRED:
        return or_(StockLot.status == LotStatus.EXPIRED,
                   and_(StockLot.status == LotStatus.AVAILABLE, StockLot.expiry_date < today))
    return StockLot.status == status


def store_lots(store: Store, *, query: str = "", status: str = "", near_expiry_days: int | None = None,
               cold_chain: bool = False, include_empty: bool = False) -> list[StockLot]:
    """A store's lots, earliest expiry first (the order they should leave the shelf)."""
    today = store.today()
    statement = (select(StockLot).join(Drug).where(StockLot.store_id == store.id)
                 .options(joinedload(StockLot.drug))
                 .order_by(Drug.generic_name_en, StockLot.expiry_date, StockLot.id))
    if not include_empty:
        statement = statement.where(StockLot.quantity_on_hand > 0)
    if query:
        pattern = f"%{query.casefold()}%"
        # Lot numbers are stored normalised (upper-case, single spaces): search in the same form.
        statement = statement.where(or_(func.lower(Drug.generic_name_en).like(pattern),
                                        Drug.generic_name_zh.like(f"%{query}%"),
                                        func.lower(Drug.code).like(pattern),
                                        StockLot.lot_number.like(f"%{normal_lot_number(query)}%")))
    if status in set(LotStatus):
        statement = statement.where(_state_is(status, today))
    if near_expiry_days:
        statement = statement.where(StockLot.expiry_date <= today + timedelta(days=near_expiry_days),
                                    StockLot.status.in_((LotStatus.AVAILABLE, LotStatus.QUARANTINED)))
    if cold_chain:
        statement = statement.where(Drug.is_cold_chain.is_(True))
    return list(db.session.scalars(statement))


def state_totals(lots: list[StockLot], today: date) -> dict[str, int]:
    """Packs on hand by real state, and the packs that can be sold ("sellable": available, unreserved)."""
    totals = {str(state): 0 for state in LotStatus} | {"sellable": 0}
    for lot in lots:
        totals[str(lot.state_on(today))] += lot.quantity_on_hand
        totals["sellable"] += lot.sellable_on(today)
    return totals


def near_expiry(stores: list[Store], days: int) -> list[tuple[Store, StockLot]]:
    """Lots with stock that expire within `days` (judged in each store's own calendar), soonest first."""
    found = []
    for store in stores:
        found.extend((store, lot) for lot in store_lots(store, near_expiry_days=days))
    return sorted(found, key=lambda pair: (pair[1].expiry_date, pair[0].code))


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
