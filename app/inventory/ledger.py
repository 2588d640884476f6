"""The one place lot quantities change (each change a ledger row), lot locking, holdings and verify()."""

from dataclasses import dataclass

from sqlalchemy import and_, func, or_, select

from app.drugs.models import Drug
from app.extensions import db
from app.inventory import states
from app.inventory.inputs import Reference
from app.inventory.models import LotStatus, MovementKind, StockLot, StockMovement, Store


def lock_lots(*criteria) -> list[StockLot]:
    """The lots matching `criteria`, locked for this transaction in lot-id order and re-read.

    PostgreSQL: SELECT … ORDER BY id FOR UPDATE, so two transactions always take their locks in the
    same order and cannot deadlock; a row another transaction changed is re-checked against the
    criteria once its lock is granted. SQLite has no row locks: every transaction begins with
    BEGIN IMMEDIATE (app/database.py), so writers run one at a time. Either way the values returned
    are the committed ones (populate_existing), and the callers check quantities on them.
    Lock everything one action needs in one call: two calls in one transaction lock in two batches.
    """
    statement = (select(StockLot).where(*criteria).order_by(StockLot.id)
                 .execution_options(populate_existing=True))
    if db.session.get_bind().dialect.name == "postgresql":
        statement = statement.with_for_update(of=StockLot)
    return list(db.session.scalars(statement))


def post(lot: StockLot, kind: MovementKind, *, quantity: int = 0, reserved_change: int = 0, user=None,
         reason: str | None = None, note: str = "", reference: Reference | None = None,
         new_status: LotStatus | None = None, temperature_c=None) -> StockMovement:
    """Apply one change to a (locked) lot and write its ledger row, together or not at all."""
    on_hand = lot.quantity_on_hand + quantity
    reserved = lot.quantity_reserved + reserved_change
    if on_hand < 0 or reserved < 0 or reserved > on_hand:
        # The services check first with a clear message; reaching this is a programming error.
        raise RuntimeError(f"lot {lot.id}: {kind} {quantity:+}/{reserved_change:+} would leave "
                           f"{on_hand} on hand and {reserved} reserved")
    if new_status is not None and not states.LOT.can_move(lot.status, new_status):
        # The services check first with a clear message; reaching this is a programming error.
        raise RuntimeError(f"lot {lot.id}: {lot.status} cannot become {new_status}")
    lot.quantity_on_hand, lot.quantity_reserved = on_hand, reserved
    if new_status is not None:
        states.LOT.move(lot, new_status)
    movement = StockMovement(
        lot=lot, kind=kind, quantity=quantity, reserved_change=reserved_change, new_status=new_status,
        reason=reason, note=(note or "")[:500], temperature_c=temperature_c,
        reference_type=reference[0] if reference else None, reference_id=reference[1] if reference else None,
        user_id=getattr(user, "id", user))
    db.session.add(movement)
    return movement


def change_status(lot: StockLot, status: LotStatus, reason: str, *, user=None,
                  note: str = "") -> StockMovement:
    return post(lot, MovementKind.STATUS_CHANGE, new_status=status, reason=reason, note=note, user=user)


def holdings(reference: Reference, store_id: int) -> dict[int, int]:
    """{lot id: packs} that this order (or transfer) still holds reserved on the store's lots."""
    held = func.sum(StockMovement.reserved_change)
    rows = db.session.execute(
        select(StockMovement.lot_id, held)
        .join(StockLot, StockLot.id == StockMovement.lot_id)
        .where(StockMovement.reference_type == reference[0], StockMovement.reference_id == reference[1],
               StockLot.store_id == store_id)
        .group_by(StockMovement.lot_id)
        .having(held != 0))
    return {lot_id: int(quantity) for lot_id, quantity in rows}


@dataclass(frozen=True)
class Mismatch:
    lot_id: int
    store_code: str
    drug_code: str
    lot_number: str
    what: str  # "on hand", "reserved" or "reservation ORDER#ID"
    recorded: int
    ledger: int

    def __str__(self) -> str:
        where = f"lot {self.lot_id} ({self.store_code}, {self.drug_code}, lot {self.lot_number})"
        if self.what.startswith("reservation"):
            return f"{where}: {self.what} holds {self.ledger} (more released or dispensed than reserved)"
        return f"{where}: {self.what} is {self.recorded} but its ledger rows sum to {self.ledger}"


def verify() -> list[Mismatch]:
    """Every disagreement between the lots and the ledger, chain-wide:
    on hand ≠ SUM(quantity), reserved ≠ SUM(reserved_change), and any order holding a negative
    reservation on a lot (released or dispensed more than it reserved)."""
    sums = (select(StockMovement.lot_id,
                   func.sum(StockMovement.quantity).label("on_hand"),
                   func.sum(StockMovement.reserved_change).label("reserved"))
            .group_by(StockMovement.lot_id).subquery())
    ledger_on_hand = func.coalesce(sums.c.on_hand, 0)
    ledger_reserved = func.coalesce(sums.c.reserved, 0)
    rows = db.session.execute(
        select(StockLot.id, Store.code, Drug.code, StockLot.lot_number, StockLot.quantity_on_hand,
               StockLot.quantity_reserved, ledger_on_hand, ledger_reserved)
        .join(Store, Store.id == StockLot.store_id).join(Drug, Drug.id == StockLot.drug_id)
        .outerjoin(sums, sums.c.lot_id == StockLot.id)
        .where(or_(StockLot.quantity_on_hand != ledger_on_hand,
                   StockLot.quantity_reserved != ledger_reserved))
        .order_by(StockLot.id))
    found = []
    for lot_id, store, drug, lot_number, on_hand, reserved, sum_on_hand, sum_reserved in rows:
        if on_hand != sum_on_hand:
            found.append(Mismatch(lot_id, store, drug, lot_number, "on hand", on_hand, int(sum_on_hand)))
        if reserved != sum_reserved:
            found.append(Mismatch(lot_id, store, drug, lot_number, "reserved", reserved, int(sum_reserved)))

    held = func.sum(StockMovement.reserved_change)
    negative = db.session.execute(
        select(StockLot.id, Store.code, Drug.code, StockLot.lot_number,
               StockMovement.reference_type, StockMovement.reference_id, held)
        .join(StockLot, StockLot.id == StockMovement.lot_id)
        .join(Store, Store.id == StockLot.store_id).join(Drug, Drug.id == StockLot.drug_id)
        .where(and_(StockMovement.reference_type.is_not(None), StockMovement.reserved_change != 0))
        .group_by(StockLot.id, Store.code, Drug.code, StockLot.lot_number,
                  StockMovement.reference_type, StockMovement.reference_id)
        .having(held < 0)
        .order_by(StockLot.id))
    for lot_id, store, drug, lot_number, ref_type, ref_id, quantity in negative:
        found.append(Mismatch(lot_id, store, drug, lot_number, f"reservation {ref_type}#{ref_id}", 0,
                              int(quantity)))
    return found
