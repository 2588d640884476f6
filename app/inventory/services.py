"""Stock verbs: receive, adjust, count, write off, expire lots; reserve, release and dispense (FEFO).

Every verb checks its input first (a DomainError with a clear message, nothing written), locks the
lots it touches (app.inventory.ledger.lock_lots), rechecks quantities under the lock, writes one
ledger row per lot change and flushes; the caller commits.
"""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, false, or_, select
from sqlalchemy.exc import IntegrityError

from app.database import utcnow
from app.errors import DomainError
from app.extensions import db
from app.inventory import inputs, ledger
from app.inventory.availability import stores_that_can_fill  # noqa: F401
from app.inventory.models import LotRecall, LotStatus, MovementKind, StockLot, Store
from app.inventory.reasons import ADJUSTMENT_REASONS, WRITE_OFF_REASONS
from app.inventory.recall import patients_who_received, recall_lot  # noqa: F401
from app.inventory.reorder import low_stock, remove_reorder_point, set_reorder_point  # noqa: F401
from app.inventory.reservation_expiry import release_expired_reservations  # noqa: F401
from app.inventory.reservations import dispense, release, reserve  # noqa: F401  (one place to import verbs)
from app.inventory.rules import within_cold_chain
from app.inventory.transfers import (  # noqa: F401
    cancel_transfer,
    mark_lost,
    pick,
    receive_transfer,
    request_transfer,
    ship,
)


def _check_expiry(expiry, today: date) -> date:
    if not isinstance(expiry, date) or isinstance(expiry, datetime):
        raise DomainError({"expiry_date": _l("Enter the expiry date.")})
    if expiry < today:
        raise DomainError({"expiry_date": _l(
            "This lot expired on %(date)s; expired stock cannot be received.", date=inputs.iso_date(expiry))})
    min_days = current_app.config["INVENTORY_MIN_SHELF_DAYS"]
    if expiry < today + timedelta(days=min_days):
        raise DomainError({"expiry_date": _l(
            "This lot expires on %(date)s, in less than %(days)d days; stock is received only with at "
            "least %(days)d days of shelf life left.", date=inputs.iso_date(expiry), days=min_days)})
    return expiry


def _lot_in_store(store: Store, drug_id: int, lot_number: str) -> StockLot | None:
    return db.session.scalar(select(StockLot).where(
        StockLot.store_id == store.id, StockLot.drug_id == drug_id, StockLot.lot_number == lot_number))


def receive(store, drug, lot_number, expiry, quantity, unit_cost_fen, user, arrival_temperature=None, *,
            reference=None, note: str = "", now: datetime | None = None) -> StockLot:
    """Goods received: add `quantity` packs of a lot to the store (a new lot row or the existing one).

    A cold-chain drug arriving outside 2–8 °C is received (the packs are physically there) but its
    lot goes to quarantine, so none of it is sold until assessed.
    """
    store, drug = inputs.get_store(store), inputs.get_drug(drug)
    if not store.is_active:
        raise DomainError({"store": _l("This store is inactive; it cannot receive stock.")})
    if not drug.is_active:
        raise DomainError({"drug": _l("%(drug)s is no longer active in the catalogue; it cannot be received.",
                                      drug=inputs.drug_label(drug))})
    if drug.is_cold_chain and not store.is_cold_chain_capable:
        raise DomainError({"drug": _l("%(drug)s needs the cold chain (2–8 °C); this store cannot store it.",
                                      drug=inputs.drug_label(drug))})
    lot_number = inputs.lot_number(lot_number)
    quantity = inputs.whole_packs(quantity)
    unit_cost_fen = inputs.fen(unit_cost_fen)
    expiry = _check_expiry(expiry, store.today(now))
    temperature = None
    if arrival_temperature not in (None, ""):
        temperature = inputs.temperature(arrival_temperature)
    elif drug.is_cold_chain:
        raise DomainError({"arrival_temperature": _l(
            "Record the arrival temperature: %(drug)s is a cold-chain (2–8 °C) drug.",
            drug=inputs.drug_label(drug))})
    # One manufacturer's lot has one expiry date, in every store of the chain.
    other_expiry = db.session.scalar(select(StockLot.expiry_date).where(
        StockLot.drug_id == drug.id, StockLot.lot_number == lot_number,
        StockLot.expiry_date != expiry).limit(1))
    if other_expiry is not None:
        raise DomainError({"expiry_date": _l(
            "Lot %(lot)s of %(drug)s is already recorded with the expiry date %(date)s; check the lot "
            "number and the expiry date.", lot=lot_number, drug=inputs.drug_label(drug),
            date=inputs.iso_date(other_expiry))})
    # A recalled lot never comes back into the chain, even into a store that never held it.
    if db.session.scalar(select(LotRecall.id).where(LotRecall.drug_id == drug.id,
                                                    LotRecall.lot_number == lot_number)):
        raise DomainError({"lot_number": _l(
            "Lot %(lot)s of %(drug)s has been recalled; it cannot be received.",
            lot=lot_number, drug=inputs.drug_label(drug))})
    reference = inputs.reference(reference) if reference is not None else None

    lot = _lot_in_store(store, drug.id, lot_number)
    if lot is None:
        try:
            with db.session.begin_nested():  # another receipt may be creating the same lot right now
                lot = StockLot(store=store, drug=drug, lot_number=lot_number, expiry_date=expiry,
                               quantity_on_hand=0, quantity_reserved=0, unit_cost_fen=unit_cost_fen,
                               status=LotStatus.AVAILABLE, received_at=now or utcnow())
                db.session.add(lot)
        except IntegrityError:
            lot = _lot_in_store(store, drug.id, lot_number)
    (lot,) = ledger.lock_lots(StockLot.id == lot.id)
    if lot.status == LotStatus.RECALLED:
        raise DomainError({"lot_number": _l(
            "Lot %(lot)s of %(drug)s has been recalled; it cannot be received.",
            lot=lot_number, drug=inputs.drug_label(drug))})
    if lot.status == LotStatus.EXPIRED:
        raise DomainError({"lot_number": _l(
            "Lot %(lot)s of %(drug)s is marked expired; it cannot be received.",
            lot=lot_number, drug=inputs.drug_label(drug))})
    if lot.quantity_on_hand:
        total = lot.quantity_on_hand + quantity  # moving average, rounded to the nearest fen
        value = lot.unit_cost_fen * lot.quantity_on_hand + unit_cost_fen * quantity
        lot.unit_cost_fen = (value + total // 2) // total
    else:
        lot.unit_cost_fen = unit_cost_fen
    ledger.post(lot, MovementKind.RECEIPT, quantity=quantity, user=user, note=note, reference=reference,
                temperature_c=temperature)
    excursion = drug.is_cold_chain and not within_cold_chain(temperature)
    if excursion and lot.status == LotStatus.AVAILABLE:
        # Packs of one lot cannot be told apart on the shelf: the whole lot waits for assessment.
        ledger.change_status(lot, LotStatus.QUARANTINED, "temperature_excursion", user=user,
                             note=f"{temperature} °C on arrival")
    db.session.flush()
    return lot


def _reason(code, table: dict, note: str) -> str:
    if code not in table:
        raise DomainError({"reason": _l("Choose a reason from the list.")})
    if code == "other" and not (note or "").strip():
        raise DomainError({"note": _l("Explain the other reason in the note.")})
    return code


def _locked(lot) -> StockLot:
    lot = inputs.get_lot(lot)
    (lot,) = ledger.lock_lots(StockLot.id == lot.id)
    return lot


def _check_reduction(lot: StockLot, packs: int) -> None:
    """Refuse taking `packs` off the shelf when they are not there or are held for orders."""
    if packs > lot.quantity_on_hand:
        raise DomainError({"quantity": _l("Lot %(lot)s has only %(on_hand)d packs on hand.",
                                          lot=lot.lot_number, on_hand=lot.quantity_on_hand)})
    if packs > lot.quantity_available:
        raise DomainError({"quantity": _l(
            "%(reserved)d packs of lot %(lot)s are reserved for orders; release them before taking more "
            "than %(free)d packs off the shelf.", reserved=lot.quantity_reserved, lot=lot.lot_number,
            free=lot.quantity_available)})


def adjust(lot, change, reason: str, user, note: str = ""):
    """Correct a lot's quantity on hand by `change` packs (negative to reduce), with a reason code."""
    change = inputs.signed_packs(change)
    reason = _reason(reason, ADJUSTMENT_REASONS, note)
    lot = _locked(lot)
    if change < 0:
        _check_reduction(lot, -change)
    movement = ledger.post(lot, MovementKind.ADJUSTMENT, quantity=change, reason=reason, note=note, user=user)
    db.session.flush()
    return movement


def record_count(lot, counted, user, note: str = ""):
    """A stock count of one lot: adjust it to what is on the shelf; None when the count agrees."""
    number = inputs.integer(counted)
    if number is None or number < 0:
        raise DomainError({"counted": _l("Enter the number of packs counted, 0 or more.")})
    lot = _locked(lot)
    if number == lot.quantity_on_hand:
        return None
    return adjust(lot, number - lot.quantity_on_hand, "count", user, note)


def write_off(lot, quantity, reason: str, user, note: str = ""):
    """Take damaged, expired, recalled or lost packs off the books for good, with a reason code."""
    quantity = inputs.whole_packs(quantity)
    reason = _reason(reason, WRITE_OFF_REASONS, note)
    lot = _locked(lot)
    _check_reduction(lot, quantity)
    movement = ledger.post(lot, MovementKind.WRITE_OFF, quantity=-quantity, reason=reason, note=note,
                           user=user)
    db.session.flush()
    return movement


def expire_lots(limit: int, now: datetime | None = None) -> int:
    """Worker job: mark lots past their expiry date (in their store's time zone) expired, with a ledger row.

    The stock stays on hand (and any reservation on it stays, so the order is told why it cannot be
    dispensed) until it is written off. Reserving and dispensing check the date themselves, so an
    expired lot is never used even before this job has run.
    """
    now = now or utcnow()
    zones = db.session.scalars(select(Store.time_zone).distinct()).all()
    past_expiry = or_(*[and_(Store.time_zone == zone,
                             StockLot.expiry_date < now.astimezone(ZoneInfo(zone)).date())
                        for zone in zones]) if zones else false()
    statement = (select(StockLot).join(Store, Store.id == StockLot.store_id)
                 .where(StockLot.status.in_([LotStatus.AVAILABLE, LotStatus.QUARANTINED]), past_expiry)
                 .order_by(StockLot.id).limit(limit).execution_options(populate_existing=True))
    if db.session.get_bind().dialect.name == "postgresql":
        # Another worker, or a pharmacist's transaction, holds some lots: take the others now.
        statement = statement.with_for_update(of=StockLot, skip_locked=True)
    handled = 0
    for lot in db.session.scalars(statement).all():
        still_due = lot.status in (LotStatus.AVAILABLE, LotStatus.QUARANTINED)
        if still_due and lot.is_expired_on(lot.store.today(now)):
            ledger.change_status(lot, LotStatus.EXPIRED, "expired", note=f"expiry date {lot.expiry_date}")
            handled += 1
    db.session.flush()
    return handled
