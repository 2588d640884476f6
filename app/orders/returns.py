"""After dispensing: a pharmacist takes an order's packs back and refunds it, or replaces packs a
cold-chain excursion spoiled; a returned pack's traceability code comes free only through quarantine.

Packs taken back from a patient go to quarantine, never straight back to sale: their lot is quarantined
until a pharmacist assesses it, and only a release frees their codes. Packs that travelled outside
2–8 °C are written off, their codes never freed, and the excursion is closed against each lot.
"""

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.audit.services import record
from app.database import utcnow
from app.delivery import services as deliveries
from app.delivery.models import ColdChainExcursion, Delivery
from app.delivery.states import DeliveryStatus as D
from app.errors import DomainError
from app.extensions import db
from app.inventory import ledger, quarantine
from app.inventory.models import LotStatus, MovementKind, StockLot
from app.orders import dispensing, notices
from app.orders.models import PAYABLE, Dispense, DispensedPack, Fulfilment, Order
from app.orders.services import locked
from app.orders.states import MACHINE
from app.orders.states import OrderStatus as S
from app.payments import services as payments
from app.platform import events as platform_events
from app.reminders import plans as reminder_plans

# Why a pharmacist takes a dispensed order back.
REASONS = {
    "not_collected": _l("Not collected from the store"),
    "patient_declined": _l("The patient declined the medicines"),
    "undeliverable": _l("Could not be delivered"),
    "cold_chain_excursion": _l("Cold chain broken on the way"),
    "prescription_problem": _l("A problem found with the prescription"),
    "other": _l("Other (explain in the note)"),
}
# The reason code on the ledger rows that bring packs back (labels in app.inventory.reasons).
RETURNED = "returned"
NOT_BACK = _l("The medicines are not back at the store: the courier must bring the parcel back first.")


def _dispense(order: Order) -> Dispense:
    return db.session.scalar(select(Dispense).where(Dispense.order_id == order.id))


def at_the_store(order: Order) -> bool:
    """The dispensed packs are in the store: on the counter shelf, packed but not yet taken by the
    courier, or brought back by them."""
    delivery = order.delivery
    if order.status == S.READY_FOR_PICKUP:
        return True
    if order.status == S.DISPENSING:
        return delivery is None or delivery.status == D.ASSIGNED
    return order.status == S.OUT_FOR_DELIVERY and delivery is not None and delivery.status == D.RETURNED


def _take_back(order: Order, pharmacist, packs: list[DispensedPack], *, spoiled: bool) -> None:
    """Bring the packs back onto their lots' books: to quarantine, or (spoiled) written off at once."""
    now, by_lot = utcnow(), {}
    for pack in packs:
        pack.returned_at, pack.returned_to = now, "destroyed" if spoiled else "quarantine"
        by_lot[pack.lot_id] = by_lot.get(pack.lot_id, 0) + 1
    reference = (PAYABLE, order.id)
    for lot in ledger.lock_lots(StockLot.id.in_(sorted(by_lot))):
        packs_back = by_lot[lot.id]
        ledger.post(lot, MovementKind.ADJUSTMENT, quantity=packs_back, reason=RETURNED, user=pharmacist,
                    reference=reference, note=f"order {order.id}")
        if spoiled:
            ledger.post(lot, MovementKind.WRITE_OFF, quantity=-packs_back, reason="temperature_excursion",
                        user=pharmacist, reference=reference, note=f"order {order.id}")
        elif lot.status == LotStatus.AVAILABLE:
            # Packs of one lot cannot be told apart on the shelf: the whole lot waits for assessment.
            ledger.change_status(lot, LotStatus.QUARANTINED, RETURNED, user=pharmacist,
                                 note=f"order {order.id}")


def _close_excursions(delivery: Delivery | None, pharmacist, resolution: str) -> None:
    if delivery is None or not delivery.has_open_excursion:
        return
    now = utcnow()
    for excursion in db.session.scalars(select(ColdChainExcursion).where(
            ColdChainExcursion.delivery_id == delivery.id, ColdChainExcursion.resolved_at.is_(None))):
        excursion.resolution, excursion.resolved_at, excursion.resolved_by_id = resolution, now, pharmacist.id
    delivery.excursion_resolved_at = now


def cancel_after_dispensing(order: Order, pharmacist, reason: str, note: str = "") -> None:
    """The pharmacist cancels a dispensed order whose packs are back in the store: the packs go to
    quarantine (written off after an excursion), the authorization is cancelled or the payment
    refunded (once), and the data platform hears the medicine was returned."""
    if not dispensing.works_here(order, pharmacist):
        raise DomainError(dispensing.NOT_YOURS)
    order = locked(order)
    note = (note or "").strip()
    if reason not in REASONS:
        raise DomainError({"reason": _l("Choose why the order is cancelled.")})
    if reason == "other" and not note:
        raise DomainError({"note": _l("Explain in the note why the order is cancelled.")})
    if len(note) > 300:
        raise DomainError({"note": _l("A note has at most 300 characters.")})
    if order.status not in (S.READY_FOR_PICKUP, S.DISPENSING, S.OUT_FOR_DELIVERY):
        raise DomainError(_l("This order cannot be cancelled by the store now."))
    if not at_the_store(order):
        raise DomainError(NOT_BACK)
    dispensed = _dispense(order)
    delivery = order.delivery
    spoiled = delivery is not None and delivery.has_open_excursion
    back = [pack for pack in dispensed.packs if pack.returned_at is None]
    _take_back(order, pharmacist, back, spoiled=spoiled)
    _close_excursions(delivery, pharmacist, "refunded")
    if delivery is not None and delivery.status == D.ASSIGNED:
        deliveries.unpack(delivery, pharmacist)
    MACHINE.move(order, S.REFUNDED)
    order.closed_at, order.closed_by_id, order.close_reason = utcnow(), pharmacist.id, reason
    order.handover_code = None
    payments.release(payments.live_payment(PAYABLE, order.id), "returned")
    db.session.flush()
    platform_events.dispense_returned(order)
    record("order.refunded", obj=order, patient=order.patient_id, actor=pharmacist,
           detail=f"{reason}; packs={len(back)}; spoiled={spoiled}; {note}"[:500])
    notices.refunded(order)
    reminder_plans.stop_order(order)


def replace_after_excursion(order: Order, pharmacist, scans: dict, checklist, packing: dict) -> Dispense:
    """A parcel brought back after a cold-chain excursion: fresh packs are scanned and dispensed in its
    place, the spoiled ones written off against their lots, and the parcel packed again for a courier."""
    if not dispensing.works_here(order, pharmacist):
        raise DomainError(dispensing.NOT_YOURS)
    order = locked(order)
    delivery = order.delivery
    if order.fulfilment != Fulfilment.DELIVERY or delivery is None or not delivery.has_open_excursion:
        raise DomainError(_l("This order has no cold-chain excursion to resolve."))
    if not at_the_store(order):
        raise DomainError(NOT_BACK)
    record_ = deliveries.packing(order, **packing)
    scanned = dispensing.checked_scans(order, scans, checklist, order.store.today())
    dispensed = _dispense(order)
    spoiled = [pack for pack in dispensed.packs if pack.returned_at is None]
    _take_back(order, pharmacist, spoiled, spoiled=True)
    fresh = dispensing.hand_out(order, pharmacist, scanned)
    dispensing.save_codes(lambda: dispensed.packs.extend(fresh) or db.session.flush())
    _close_excursions(delivery, pharmacist, "replaced")
    MACHINE.move(order, S.DISPENSING)
    deliveries.repack(delivery, pharmacist, record_)
    # The platform hears of the fresh lots in the dispense sent at handover; the spoiled ones were
    # reported with the excursion.
    db.session.flush()
    record("order.replaced", obj=order, patient=order.patient_id, actor=pharmacist,
           detail="; ".join(f"{p.drug_id}:{p.lot_id}:{p.traceability_code}" for p in fresh)[:500])
    return dispensed


def free_released_codes(lot: StockLot, now=None) -> int:
    """A quarantined lot released for sale: the packs taken back onto it are stock again, and their
    traceability codes may be dispensed once more."""
    packs = db.session.scalars(select(DispensedPack).where(
        DispensedPack.lot_id == lot.id, DispensedPack.returned_to == "quarantine",
        DispensedPack.freed_at.is_(None))).all()
    for pack in packs:
        pack.freed_at = now or utcnow()
    return len(packs)


quarantine.release_handlers.append(free_released_codes)
