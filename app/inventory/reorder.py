"""Reorder points per store and drug, the low-stock list, and what to do about each low line.

A store is low on a drug when its available, in-date packs (on hand − reserved, lots with status
available, not past expiry in the store's calendar) fall below the reorder point's minimum. The
suggestion refills it up to the target, counting packs already on their way by transfer: first by a
transfer from the store with the largest surplus (what it can send beyond its own target, or beyond 0
without a reorder point), then a purchase for whatever that does not cover.
"""

from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.drugs.models import Drug
from app.errors import DomainError
from app.extensions import db
from app.inventory import inputs
from app.inventory.availability import StoreDates, stock_by_store
from app.inventory.models import ReorderPoint, StockTransfer, Store, TransferStatus
from app.inventory.rules import TRANSFER_MIN_SHELF_DAYS

OPEN_TRANSFERS = (TransferStatus.REQUESTED, TransferStatus.PICKED, TransferStatus.SHIPPED)


def _packs(value, field: str, least: int, message) -> int:
    number = inputs.integer(value)
    if number is None or not least <= number <= inputs.MAX_PACKS:
        raise DomainError({field: message})
    return number


def set_reorder_point(store, drug, min_packs, target_packs, user) -> ReorderPoint:
    """Create or change the store's reorder point for the drug."""
    store, drug = inputs.get_store(store), inputs.get_drug(drug)
    minimum = _packs(min_packs, "min_packs", 0,
                     _l("Enter the minimum as a whole number of packs, 0 or more."))
    target = _packs(target_packs, "target_packs", 1,
                    _l("Enter the target as a whole number of packs, at least 1."))
    if target < minimum:
        raise DomainError({"target_packs": _l("The target must be at least the minimum (%(min)d packs).",
                                              min=minimum)})
    if not store.is_active:
        raise DomainError({"store": _l("This store is inactive; it keeps no reorder points.")})
    if drug.is_cold_chain and not store.is_cold_chain_capable:
        raise DomainError({"drug": _l("%(drug)s needs the cold chain (2–8 °C); this store cannot store it.",
                                      drug=inputs.drug_label(drug))})
    user_id = getattr(user, "id", user)

    def existing():
        return db.session.scalar(select(ReorderPoint).where(ReorderPoint.store_id == store.id,
                                                            ReorderPoint.drug_id == drug.id))

    point = existing()
    if point is None:
        try:
            with db.session.begin_nested():  # another admin may be creating the same one right now
                point = ReorderPoint(store_id=store.id, drug_id=drug.id, min_packs=minimum,
                                     target_packs=target, updated_by_id=user_id)
                db.session.add(point)
        except IntegrityError:
            point = existing()
    point.min_packs, point.target_packs, point.updated_by_id = minimum, target, user_id
    db.session.flush()
    return point


def remove_reorder_point(store, drug) -> bool:
    """Stop watching the drug at the store; False when there was no reorder point."""
    store, drug = inputs.get_store(store), inputs.get_drug(drug)
    point = db.session.scalar(select(ReorderPoint).where(ReorderPoint.store_id == store.id,
                                                         ReorderPoint.drug_id == drug.id))
    if point is None:
        return False
    db.session.delete(point)
    db.session.flush()
    return True


@dataclass(frozen=True)
class LowStockLine:
    store: Store
    drug: Drug
    available: int  # available, in-date packs now
    min_packs: int
    target_packs: int
    incoming: int  # packs on open transfers to the store (requested, picked or shipped)
    transfer_from: Store | None  # the suggested sender, if any store has a surplus
    transfer_packs: int
    purchase_packs: int

    @property
    def needed(self) -> int:
        return max(0, self.target_packs - self.available - self.incoming)


def low_stock(store=None, *, now: datetime | None = None) -> list[LowStockLine]:
    """Every reorder point (of one store, or chain-wide) whose available, in-date packs are below its
    minimum, with a suggested transfer and/or purchase up to its target; by store code, then drug code."""
    store = inputs.get_store(store) if store is not None else None
    statement = (select(ReorderPoint, Store, Drug).join(Store, Store.id == ReorderPoint.store_id)
                 .join(Drug, Drug.id == ReorderPoint.drug_id).where(Store.is_active, Drug.is_active))
    if store is not None:
        statement = statement.where(ReorderPoint.store_id == store.id)
    points = db.session.execute(statement).all()
    if not points:
        return []
    drug_ids = sorted({point.drug_id for point, _, _ in points})
    stores = db.session.scalars(select(Store).where(Store.is_active)).all()
    targets = {(store_id, drug_id): target for store_id, drug_id, target in db.session.execute(
        select(ReorderPoint.store_id, ReorderPoint.drug_id, ReorderPoint.target_packs)
        .where(ReorderPoint.drug_id.in_(drug_ids)))}
    incoming = {(store_id, drug_id): int(packs) for store_id, drug_id, packs in db.session.execute(
        select(StockTransfer.to_store_id, StockTransfer.drug_id, func.sum(StockTransfer.packs_requested))
        .where(StockTransfer.drug_id.in_(drug_ids), StockTransfer.status.in_(OPEN_TRANSFERS))
        .group_by(StockTransfer.to_store_id, StockTransfer.drug_id))}
    stock = stock_by_store(drug_ids, StoreDates(stores, now), 0, TRANSFER_MIN_SHELF_DAYS)

    def surplus(other: Store, drug_id: int) -> int:
        in_date, movable = stock.get((other.id, drug_id), (0, 0))
        return min(movable, in_date - targets.get((other.id, drug_id), 0))

    lines = []
    for point, where, drug in points:
        available = stock.get((where.id, drug.id), (0, 0))[0]
        if available >= point.min_packs:
            continue
        coming = incoming.get((where.id, drug.id), 0)
        needed = max(0, point.target_packs - available - coming)
        sender, spare = None, 0
        if needed:
            offers = [(surplus(other, drug.id), other) for other in stores if other.id != where.id
                      and (other.is_cold_chain_capable or not drug.is_cold_chain)]
            offers = [(packs, other) for packs, other in offers if packs > 0]
            if offers:
                spare, sender = min(offers, key=lambda offer: (-offer[0], offer[1].code))
        moved = min(needed, spare)
        lines.append(LowStockLine(where, drug, available, point.min_packs, point.target_packs, coming,
                                  sender, moved, needed - moved))
    return sorted(lines, key=lambda line: (line.store.code, line.drug.code))
