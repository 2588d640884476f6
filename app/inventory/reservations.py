"""Reserve stock for an order first-expiry-first-out, release it, and dispense what was reserved.

A reservation is not a table of its own: it is the order's reservation, release and dispense rows in
the ledger, so what an order holds on a lot is SUM(reserved_change) over its rows (ledger.holdings).
"""

from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.audit.services import record
from app.drugs.models import Drug
from app.errors import DomainError
from app.extensions import db
from app.inventory import inputs, ledger
from app.inventory.models import LotStatus, MovementKind, StockLot, StockMovement
from app.inventory.reasons import RELEASE_REASONS


def _not_dispensable(lot: StockLot, drug: Drug, today):
    """Why this held lot may not be handed out now, or None."""
    label = inputs.drug_label(drug)
    if lot.status == LotStatus.EXPIRED or lot.is_expired_on(today):
        return _l("Lot %(lot)s of %(drug)s expired on %(date)s and may not be dispensed. Release the "
                  "reservation and reserve in-date stock.", lot=lot.lot_number, drug=label,
                  date=inputs.iso_date(lot.expiry_date))
    if lot.status == LotStatus.QUARANTINED:
        return _l("Lot %(lot)s of %(drug)s is quarantined and may not be dispensed. Release the "
                  "reservation and reserve stock again.", lot=lot.lot_number, drug=label)
    if lot.status == LotStatus.RECALLED:
        return _l("Lot %(lot)s of %(drug)s has been recalled and may not be dispensed. Release the "
                  "reservation and reserve stock again.", lot=lot.lot_number, drug=label)
    return None


def _fefo(lot: StockLot):
    return lot.expiry_date, lot.id


def _audit(action: str, reference, store, movements, user, patient) -> None:
    lots = ", ".join(f"{m.lot.lot_number}×{abs(m.reserved_change or m.quantity)}" for m in movements)
    record(action, object_type=reference[0], object_id=reference[1], patient=patient, actor=user,
           detail=f"store={store.code}; lots={lots}")


def reserve(store, items, days_supply, reference, user, *, patient=None,
            now: datetime | None = None) -> list[StockMovement]:
    """Hold `items` ({drug: packs}) at the store for an order, from the lots that expire first among
    those still in date on the last day of the supply (a lot that would expire before the patient
    has used the medicine up is skipped). All items or none; one reservation per drug and order."""
    store = inputs.get_store(store)
    if not store.is_active:
        raise DomainError({"store": _l("This store is inactive; it cannot take orders.")})
    wanted = inputs.items(items)
    supply_days = inputs.days(days_supply)
    reference = inputs.reference(reference)
    # The supply runs out `supply_days` days from today: every lot must still be in date then.
    in_date_until = store.today(now) + timedelta(days=supply_days)
    drug_ids = [drug.id for drug in wanted]
    lots = ledger.lock_lots(StockLot.store_id == store.id, StockLot.drug_id.in_(drug_ids),
                            StockLot.status == LotStatus.AVAILABLE, StockLot.expiry_date >= in_date_until,
                            StockLot.quantity_on_hand > 0)
    held_lot_ids = list(ledger.holdings(reference, store.id))
    held_drugs = set(db.session.scalars(select(StockLot.drug_id).where(StockLot.id.in_(held_lot_ids)))
                     ) if held_lot_ids else set()
    problems = {}
    for drug, packs in wanted.items():
        if drug.id in held_drugs:
            problems[f"drug_{drug.id}"] = _l("%(drug)s is already reserved for this order; release it first.",
                                             drug=inputs.drug_label(drug))
            continue
        available = sum(lot.quantity_available for lot in lots if lot.drug_id == drug.id)
        if available < packs:
            problems[f"drug_{drug.id}"] = _l(
                "Not enough stock of %(drug)s: %(available)d packs stay in date for a %(days)d-day supply, "
                "%(requested)d requested.", drug=inputs.drug_label(drug), available=available,
                days=supply_days, requested=packs)
    if problems:
        raise DomainError(problems)

    movements = []
    for drug, packs in wanted.items():
        for lot in sorted((lot for lot in lots if lot.drug_id == drug.id), key=_fefo):
            take = min(packs, lot.quantity_available)
            if take > 0:
                movements.append(ledger.post(lot, MovementKind.RESERVATION, reserved_change=take, user=user,
                                             reference=reference))
                packs -= take
            if packs == 0:
                break
    db.session.flush()
    if patient is not None:
        _audit("stock.reserved", reference, store, movements, user, patient)
    return movements


def _held_lots(store, reference) -> tuple[list[StockLot], dict[int, int]]:
    """The lots this order holds stock on, locked, and what it holds on each (read under the lock)."""
    lot_ids = list(ledger.holdings(reference, store.id))
    lots = ledger.lock_lots(StockLot.id.in_(lot_ids)) if lot_ids else []
    return lots, ledger.holdings(reference, store.id)


def _held_by_drug(lots: list[StockLot], held: dict[int, int]) -> dict[int, list[StockLot]]:
    by_drug: dict[int, list[StockLot]] = {}
    for lot in sorted(lots, key=_fefo):
        if held.get(lot.id, 0) > 0:
            by_drug.setdefault(lot.drug_id, []).append(lot)
    return by_drug


def _check_held(drug: Drug, packs: int, lots: list[StockLot], held: dict[int, int], action: str) -> None:
    reserved = sum(held[lot.id] for lot in lots)
    if reserved == 0:
        raise DomainError({f"drug_{drug.id}": _l(
            "Nothing of %(drug)s is reserved for this order at this store.", drug=inputs.drug_label(drug))})
    if packs > reserved:
        message = (_l("Only %(reserved)d packs of %(drug)s are reserved for this order; %(requested)d cannot "
                      "be dispensed.", reserved=reserved, drug=inputs.drug_label(drug), requested=packs)
                   if action == "dispense" else
                   _l("Only %(reserved)d packs of %(drug)s are reserved for this order; %(requested)d cannot "
                      "be released.", reserved=reserved, drug=inputs.drug_label(drug), requested=packs))
        raise DomainError({f"drug_{drug.id}": message})


def release(store, reference, user, items=None, *, reason: str | None = None, note: str = "",
            patient=None, now: datetime | None = None) -> list[StockMovement]:
    """Give back what an order holds: all of it, or `items` ({drug: packs}). Stock on lots that can no
    longer be dispensed is given back first, then the latest expiry, so the order keeps the best stock."""
    store = inputs.get_store(store)
    reference = inputs.reference(reference)
    if reason is not None and reason not in RELEASE_REASONS:
        raise DomainError({"reason": _l("Choose a reason from the list.")})
    wanted = inputs.items(items) if items is not None else None
    lots, held = _held_lots(store, reference)
    by_drug = _held_by_drug(lots, held)
    if wanted is None:
        if not by_drug:
            raise DomainError(_l("Nothing is reserved for this order at this store."))
        drugs = {lot.drug_id: lot.drug for group in by_drug.values() for lot in group}
        wanted = {drugs[drug_id]: sum(held[lot.id] for lot in group)
                  for drug_id, group in sorted(by_drug.items())}
    for drug, packs in wanted.items():
        _check_held(drug, packs, by_drug.get(drug.id, []), held, "release")

    today = store.today(now)
    movements = []
    for drug, packs in wanted.items():
        order = sorted(by_drug[drug.id], key=lambda lot: (
            _not_dispensable(lot, drug, today) is None, -lot.expiry_date.toordinal(), -lot.id))
        for lot in order:
            take = min(packs, held[lot.id])
            movements.append(ledger.post(lot, MovementKind.RELEASE, reserved_change=-take, user=user,
                                         reason=reason, note=note, reference=reference))
            packs -= take
            if packs == 0:
                break
    db.session.flush()
    if patient is not None:
        _audit("stock.released", reference, store, movements, user, patient)
    return movements


def dispense(store, items, reference, user, *, patient, now: datetime | None = None) -> list[StockMovement]:
    """Hand out `items` ({drug: packs}) from what the order reserved, earliest expiry first. Refused
    whole if any lot the order holds for a drug has expired (even since it was reserved) or is
    quarantined or recalled: the pharmacist releases the reservation and reserves in-date stock."""
    store = inputs.get_store(store)
    wanted = inputs.items(items)
    reference = inputs.reference(reference)
    # Every dispense row names its patient, so a recall finds everyone who received a lot.
    patient_id = inputs.integer(getattr(patient, "id", patient))
    if patient_id is None:
        raise ValueError(f"dispensing needs the patient the packs are handed to, not {patient!r}")
    lots, held = _held_lots(store, reference)
    by_drug = _held_by_drug(lots, held)
    today = store.today(now)
    for drug, packs in wanted.items():
        group = by_drug.get(drug.id, [])
        _check_held(drug, packs, group, held, "dispense")
        for lot in group:
            problem = _not_dispensable(lot, drug, today)
            if problem is not None:
                raise DomainError({f"drug_{drug.id}": problem})

    movements = []
    for drug, packs in wanted.items():
        for lot in by_drug[drug.id]:
            take = min(packs, held[lot.id])
            movement = ledger.post(lot, MovementKind.DISPENSE, quantity=-take, reserved_change=-take,
                                   user=user, reference=reference)
            movement.patient_id = patient_id
            movements.append(movement)
            packs -= take
            if packs == 0:
                break
    db.session.flush()
    _audit("stock.dispensed", reference, store, movements, user, patient)
    return movements
