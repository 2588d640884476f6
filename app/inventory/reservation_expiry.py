"""Worker job: give back stock that an order reserved and did not dispense within RESERVATION_HOLD_HOURS."""

from collections.abc import Callable
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import case, func, select

from app.database import utcnow
from app.extensions import db
from app.inventory import ledger
from app.inventory.models import MovementKind, StockLot, StockMovement

ORDER = "order"  # transfers hold stock too, under ("transfer", id); only orders' holds expire

# Called with an order's id, in the same transaction, after the hold it had is given back: the
# orders feature registers here (inventory knows orders only by their reference).
hold_expired_handlers: list[Callable[[int], None]] = []


def _last_reserved_at(reference, store_id: int):
    return db.session.scalar(
        select(func.max(StockMovement.created_at))
        .join(StockLot, StockLot.id == StockMovement.lot_id)
        .where(StockMovement.reference_type == reference[0], StockMovement.reference_id == reference[1],
               StockMovement.kind == MovementKind.RESERVATION, StockLot.store_id == store_id))


def release_expired_reservations(limit: int, now: datetime | None = None) -> int:
    """Release everything an order still holds at a store when its latest reservation there is older
    than the hold time; returns how many orders' holds were released.

    Candidates come from one grouped query over the lots that have anything reserved at all. Their lots
    are then locked in one call (lot-id order, like every stock service, so the job cannot deadlock with
    a pharmacist) and each order is checked again under the lock: a pharmacist dispensing, releasing or
    reserving again at that moment, or another worker, is never undone; whoever comes second sees what
    the first one left.
    """
    now = now or utcnow()
    hours = current_app.config["RESERVATION_HOLD_HOURS"]
    cutoff = now - timedelta(hours=hours)
    held = func.sum(StockMovement.reserved_change)
    reserved_at = func.max(case((StockMovement.kind == MovementKind.RESERVATION, StockMovement.created_at)))
    candidates = db.session.execute(
        select(StockLot.store_id, StockMovement.reference_id)
        .join(StockLot, StockLot.id == StockMovement.lot_id)
        .where(StockLot.quantity_reserved > 0, StockMovement.reference_type == ORDER)
        .group_by(StockLot.store_id, StockMovement.reference_id)
        .having(held > 0, reserved_at < cutoff)
        .order_by(reserved_at, StockLot.store_id, StockMovement.reference_id)
        .limit(limit)).all()
    lot_ids = {lot_id for store_id, order_id in candidates
               for lot_id in ledger.holdings((ORDER, order_id), store_id)}
    lots = {lot.id: lot for lot in ledger.lock_lots(StockLot.id.in_(lot_ids))} if lot_ids else {}
    released = 0
    for store_id, order_id in candidates:
        reference = (ORDER, order_id)
        holding = ledger.holdings(reference, store_id)  # read again under the lock
        last = _last_reserved_at(reference, store_id)
        if not holding or last is None or last >= cutoff or not set(holding) <= set(lots):
            continue  # dispensed, released or reserved again meanwhile (a new lot is left for next time)
        for lot_id, packs in sorted(holding.items()):
            ledger.post(lots[lot_id], MovementKind.RELEASE, reserved_change=-packs,
                        reason="reservation_expired", reference=reference,
                        note=f"not dispensed within {hours} hours")
        released += 1
        db.session.flush()
        for handler in hold_expired_handlers:
            handler(order_id)
    db.session.flush()
    return released
