"""What the stock pages list: a store's lots with filters, near-expiry lots, the chain summary."""

from datetime import date, timedelta

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import joinedload

from app.drugs.models import Drug
from app.extensions import db
from app.inventory.models import LotStatus, StockLot, StockMovement, Store

NEAR_EXPIRY_CHOICES = (30, 60, 90)


def store_lots(store: Store, *, query: str = "", status: str = "", near_expiry_days: int | None = None,
               cold_chain: bool = False, include_empty: bool = False) -> list[StockLot]:
    """A store's lots, earliest expiry first (the order they should leave the shelf)."""
    statement = (select(StockLot).join(Drug).where(StockLot.store_id == store.id)
                 .options(joinedload(StockLot.drug))
                 .order_by(Drug.generic_name_en, StockLot.expiry_date, StockLot.id))
    if not include_empty:
        statement = statement.where(StockLot.quantity_on_hand > 0)
    if query:
        pattern = f"%{query.casefold()}%"
        statement = statement.where(or_(func.lower(Drug.generic_name_en).like(pattern),
                                        Drug.generic_name_zh.like(f"%{query}%"),
                                        func.lower(Drug.code).like(pattern),
                                        func.lower(StockLot.lot_number).like(pattern)))
    if status in set(LotStatus):
        statement = statement.where(StockLot.status == status)
    if near_expiry_days:
        statement = statement.where(StockLot.expiry_date <= store.today() + timedelta(days=near_expiry_days),
                                    StockLot.status.in_((LotStatus.AVAILABLE, LotStatus.QUARANTINED)))
    if cold_chain:
        statement = statement.where(Drug.is_cold_chain.is_(True))
    return list(db.session.scalars(statement))


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


def chain_summary(today: date) -> list[dict]:
    """Per store: lots and packs on hand, reserved, quarantined lots and lots expiring within 90 days."""
    soon = today + timedelta(days=90)
    rows = db.session.execute(
        select(StockLot.store_id,
               func.count(StockLot.id),
               func.coalesce(func.sum(StockLot.quantity_on_hand), 0),
               func.coalesce(func.sum(StockLot.quantity_reserved), 0),
               func.sum(case((StockLot.status == LotStatus.QUARANTINED, 1), else_=0)),
               func.sum(case(((StockLot.expiry_date <= soon) & (StockLot.status == LotStatus.AVAILABLE), 1),
                             else_=0)))
        .where(StockLot.quantity_on_hand > 0).group_by(StockLot.store_id)).all()
    by_store = {row[0]: row[1:] for row in rows}
    summary = []
    for store in db.session.scalars(select(Store).order_by(Store.code)):
        lots, on_hand, reserved, quarantined, expiring = by_store.get(store.id, (0, 0, 0, 0, 0))
        summary.append({"store": store, "lots": lots, "on_hand": on_hand, "reserved": reserved,
                        "quarantined": quarantined or 0, "expiring": expiring or 0})
    return summary
