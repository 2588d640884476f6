"""Dispensing an order at its store, and handing it over at the counter.

The pharmacist scans (or types) the lot of each line and the traceability code of each pack, and ticks
the "four checks, ten matches". One transaction then moves the reservation to a substituted lot if
one was scanned, writes the ledger's dispense rows, the dispense record with every pack's code, and
the `medication.dispensed` event for the data platform. A pickup order is then ready with a 6-digit
code the patient shows; the card is captured when the medicines are handed over.
"""

import re
import secrets
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.accounts.models import Role
from app.audit.services import record
from app.database import utcnow
from app.errors import DomainError
from app.extensions import db
from app.inventory import ledger, reservations
from app.inventory.inputs import drug_label
from app.inventory.models import LotStatus, MovementKind, StockLot
from app.orders import notices
from app.orders.models import PAYABLE, Dispense, DispensedPack, Fulfilment, Order
from app.orders.services import locked
from app.orders.states import MACHINE
from app.orders.states import OrderStatus as S
from app.payments import services as payments
from app.platform import events as platform_events
from app.reminders import plans as reminder_plans

# The pharmacist's "four checks, ten matches" (四查十对): every one is ticked before dispensing.
CHECKLIST = (
    ("patient", _l("Patient: name and prescription match")),
    ("drug", _l("Drug name matches")),
    ("strength", _l("Strength and form match")),
    ("quantity", _l("Quantity matches")),
    ("directions", _l("Directions checked")),
    ("allergies", _l("Allergies seen")),
    ("interactions", _l("Interactions seen")),
    ("lot", _l("Lot number checked")),
    ("expiry", _l("Expiry date checked")),
    ("counselling", _l("Counselling given")),
)
TRACEABILITY_CODE = re.compile(r"[0-9]{20}")
# Wrong pickup or delivery codes before the code stops working; the patient's order page issues a new one.
HANDOVER_ATTEMPTS = 5
NOT_YOURS = _l("This order belongs to another store.")


def works_here(order: Order, user) -> bool:
    """A pharmacist dispenses and hands over only their own store's orders."""
    profile = user.pharmacist_profile if user.role == Role.PHARMACIST else None
    return profile is not None and profile.home_store_id == order.store_id


def held(order: Order) -> dict[int, list[tuple[StockLot, int]]]:
    """What the order holds, by drug id: [(lot, packs)], earliest expiry first."""
    holding = ledger.holdings((PAYABLE, order.id), order.store_id)
    lots = db.session.scalars(select(StockLot).where(StockLot.id.in_(holding))).all() if holding else []
    by_drug: dict[int, list] = {}
    for lot in sorted(lots, key=lambda lot: (lot.expiry_date, lot.id)):
        by_drug.setdefault(lot.drug_id, []).append((lot, holding[lot.id]))
    return by_drug


def _codes(text: str) -> list[str]:
    """The codes in what a scanner typed: one per line (a scanner ends each with Enter) or spaced."""
    return [code for code in re.split(r"[\s,;]+", text or "") if code]


def _scanned_lot(order: Order, line, lot_number: str, today) -> tuple[StockLot | None, str | None]:
    number = (lot_number or "").strip().upper()
    if not number:
        return None, _l("Scan or type the lot number of %(drug)s.", drug=drug_label(line.drug))
    lots = db.session.scalars(select(StockLot).where(StockLot.store_id == order.store_id,
                                                     StockLot.lot_number == number)).all()
    lot = next((lot for lot in lots if lot.drug_id == line.drug_id), None)
    if lot is None:
        if lots:
            return None, _l("Lot %(lot)s is %(other)s, not %(drug)s.", lot=number,
                            other=drug_label(lots[0].drug), drug=drug_label(line.drug))
        return None, _l("This store has no lot %(lot)s.", lot=number)
    if lot.status != LotStatus.AVAILABLE or lot.is_expired_on(today):
        return None, _l("Lot %(lot)s may not be dispensed: it is expired, quarantined or recalled.",
                        lot=number)
    return lot, None


def _code_problem(line, codes: list[str], taken: set[str]) -> str | None:
    if len(codes) != line.packs:
        return _l("Scan one traceability code per pack: %(packs)d packs of %(drug)s, %(codes)d codes.",
                  packs=line.packs, drug=drug_label(line.drug), codes=len(codes))
    prefix = line.drug.traceability_prefix
    for code in codes:
        if not TRACEABILITY_CODE.fullmatch(code):
            return _l("%(code)s is not a traceability code: it has 20 digits.", code=code[:40])
        if not prefix:
            return _l("The catalogue has no product code for %(drug)s, so its packs cannot be checked. "
                      "Ask an admin to add it.", drug=drug_label(line.drug))
        if not code.startswith(prefix):
            return _l("Traceability code %(code)s belongs to another product, not %(drug)s.", code=code,
                      drug=drug_label(line.drug))
        if code in taken or codes.count(code) > 1:
            return _l("Traceability code %(code)s has already been dispensed.", code=code)
    return None


def _dispensed_codes(codes: list[str]) -> set[str]:
    if not codes:
        return set()
    return set(db.session.scalars(select(DispensedPack.traceability_code).where(
        DispensedPack.traceability_code.in_(codes), DispensedPack.freed_at.is_(None))))


def _hold_on(order: Order, line, lot: StockLot, user) -> None:
    """Make the scanned lot the one the line's packs are held on (another in-date lot of the same drug
    may be substituted: the reservation moves to it)."""
    reference = (PAYABLE, order.id)
    holding = ledger.holdings(reference, order.store_id)
    if holding.get(lot.id, 0) >= line.packs:
        return
    held_here = holding.get(lot.id, 0)
    elsewhere = sum(packs for lot_id, packs in holding.items() if lot_id != lot.id and
                    db.session.get(StockLot, lot_id).drug_id == line.drug_id)
    if elsewhere:
        reservations.release(order.store, reference, user, {line.drug: elsewhere}, reason="other",
                             note=f"lot {lot.lot_number} scanned at dispensing instead")
    [lot] = ledger.lock_lots(StockLot.id == lot.id)
    wanted = line.packs - held_here
    if lot.quantity_available < wanted:
        raise DomainError({f"lot_{line.id}": _l(
            "Lot %(lot)s has %(available)d packs free; %(packs)d are needed. Scan another lot.",
            lot=lot.lot_number, available=lot.quantity_available, packs=wanted)})
    ledger.post(lot, MovementKind.RESERVATION, reserved_change=wanted, user=user, reference=reference)


def checked_scans(order: Order, scans: dict, checklist, today) -> dict:
    """{line id: (lot, codes)} when every line's lot and codes and the whole checklist are right;
    otherwise a DomainError naming each line's problem."""
    problems = {}
    unticked = [code for code, _label in CHECKLIST if code not in set(checklist or ())]
    if unticked:
        problems["checklist"] = _l("Tick every check before dispensing.")
    scanned = {}
    all_codes = [code for _lot, text in scans.values() for code in _codes(text)]
    taken = _dispensed_codes(all_codes)
    for line in order.lines:
        lot_number, text = scans.get(line.id, ("", ""))
        lot, problem = _scanned_lot(order, line, lot_number, today)
        codes = _codes(text)
        problem = problem or _code_problem(line, codes, taken)
        if problem:
            problems[f"line_{line.id}"] = problem
        scanned[line.id] = (lot, codes)
    if problems:
        raise DomainError(problems)
    return scanned


def hand_out(order: Order, pharmacist, scanned: dict, now: datetime | None = None) -> list[DispensedPack]:
    """Take the scanned lots' packs off the shelf for the order (the ledger's dispense rows): the packs
    to add to its dispense record."""
    for line in order.lines:
        _hold_on(order, line, scanned[line.id][0], pharmacist)
    reservations.dispense(order.store, {line.drug: line.packs for line in order.lines},
                          (PAYABLE, order.id), pharmacist, patient=order.patient_id, now=now)
    return [DispensedPack(order_line_id=line.id, drug_id=line.drug_id, lot_id=scanned[line.id][0].id,
                          traceability_code=code)
            for line in order.lines for code in scanned[line.id][1]]


def save_codes(change) -> None:
    """Add packs inside a savepoint: the live-code index refuses a code another store dispensed a
    moment ago, with a message instead of a 500."""
    try:
        with db.session.begin_nested():
            change()
    except IntegrityError:
        raise DomainError(_l("One of these traceability codes has just been dispensed elsewhere. "
                             "Scan the packs again.")) from None


def dispense(order: Order, pharmacist, scans: dict, checklist, now: datetime | None = None) -> Dispense:
    """`scans` maps each order line id to (lot number, the packs' traceability codes as typed)."""
    if not works_here(order, pharmacist):
        raise DomainError(NOT_YOURS)
    order = locked(order)
    if order.status != S.PAID:
        raise DomainError(_l("This order is not waiting to be dispensed."))
    if order.ready_after is not None and not ledger.holdings((PAYABLE, order.id), order.store_id):
        raise DomainError(_l("The stock coming from another store has not been received yet."))
    scanned = checked_scans(order, scans, checklist, order.store.today(now))
    packs = hand_out(order, pharmacist, scanned, now)
    record_ = Dispense(order_id=order.id, store_id=order.store_id, patient_id=order.patient_id,
                       pharmacist_id=pharmacist.id, dispensed_at=now or utcnow(),
                       checklist=",".join(code for code, _label in CHECKLIST), packs=packs)
    save_codes(lambda: db.session.add(record_))
    MACHINE.move(order, S.DISPENSING)
    order.dispensed_at = record_.dispensed_at
    if order.fulfilment == Fulfilment.PICKUP:
        MACHINE.move(order, S.READY_FOR_PICKUP)
        issue_handover_code(order)
    db.session.flush()
    record("order.dispensed", obj=order, patient=order.patient_id, actor=pharmacist,
           detail="; ".join(f"{p.drug_id}:{p.lot_id}:{p.traceability_code}" for p in record_.packs)[:500])
    if order.fulfilment == Fulfilment.PICKUP:
        notices.ready_for_pickup(order)
    return record_


def issue_handover_code(order: Order) -> None:
    """A new 6-digit code for the counter or the courier's door; the wrong attempts start again."""
    order.handover_code, order.code_attempts = f"{secrets.randbelow(1_000_000):06d}", 0


def new_handover_code(order: Order, patient) -> None:
    """The patient asks for a new pickup code (the old one stops working), e.g. after wrong attempts."""
    order = locked(order)
    if order.patient_id != patient.id or order.status != S.READY_FOR_PICKUP:
        raise DomainError(_l("This order is not waiting for pickup."))
    issue_handover_code(order)
    record("order.code_renewed", obj=order, patient=order.patient_id)


def hand_over(order: Order, pharmacist, code: str) -> bool:
    """Hand the medicines over when the patient's code matches; a wrong code counts an attempt (the
    caller commits it either way). The card is captured after the commit."""
    if not works_here(order, pharmacist):
        raise DomainError(NOT_YOURS)
    order = locked(order)
    if order.status != S.READY_FOR_PICKUP:
        raise DomainError(_l("This order is not waiting for pickup."))
    if order.code_attempts >= HANDOVER_ATTEMPTS:
        raise DomainError(_l("Too many wrong codes: this code no longer works. The patient can get a new "
                             "one on their order page."))
    typed = re.sub(r"\s", "", code or "")
    if not secrets.compare_digest(typed.encode(), (order.handover_code or "").encode()):
        order.code_attempts += 1
        record("order.wrong_code", obj=order, patient=order.patient_id, actor=pharmacist,
               detail=f"attempt {order.code_attempts}")
        return False
    now = utcnow()
    MACHINE.move(order, S.COMPLETED)
    order.handed_over_at = order.completed_at = now
    payment = payments.live_payment(PAYABLE, order.id)
    if payment is not None:  # a wallet was charged when paying; a card is captured now
        payments.capture(payment)
    db.session.flush()
    record("order.handed_over", obj=order, patient=order.patient_id, actor=pharmacist)
    reminder_plans.record_received(order)
    platform_events.medicines_received(order)
    return True
