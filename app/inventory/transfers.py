"""Transfers between stores: request → pick (FEFO, reserved) → ship (in transit) → receive or lost.

Each verb locks the transfer row first and then, in one lock_lots call, every lot it touches, so two
pharmacists cannot pick or ship the same transfer twice; it flushes and the caller commits. Ledger rows
carry the reference ("transfer", id): the pick reserves the sender's lots, shipping takes the packs off
them (transfer_out; in transit they are available nowhere), receiving puts them on the receiver's lot of
the same number and expiry (transfer_in).
"""

from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.database import utcnow
from app.errors import DomainError, InvalidTransition
from app.extensions import db
from app.inventory import inputs, ledger, queries, states
from app.inventory.models import (
    LotRecall,
    LotStatus,
    MovementKind,
    StockLot,
    StockTransfer,
    StockTransferLine,
    TransferStatus,
)
from app.inventory.rules import TRANSFER_MIN_SHELF_DAYS, normal_lot_number, within_cold_chain

STATUS_LABELS = {
    TransferStatus.REQUESTED: _l("requested"),
    TransferStatus.PICKED: _l("picked"),
    TransferStatus.SHIPPED: _l("shipped"),
    TransferStatus.RECEIVED: _l("received"),
    TransferStatus.LOST: _l("lost"),
    TransferStatus.CANCELLED: _l("cancelled"),
}
# What a verb would make of the transfer, for "it cannot be …".
VERB_LABELS = {
    TransferStatus.PICKED: _l("picked"),
    TransferStatus.SHIPPED: _l("shipped"),
    TransferStatus.RECEIVED: _l("received"),
    TransferStatus.LOST: _l("marked lost"),
    TransferStatus.CANCELLED: _l("cancelled"),
}


def _store(value, field: str):
    try:
        return inputs.get_store(value)
    except DomainError:
        raise DomainError({field: _l("Unknown store.")}) from None


def _user_id(user) -> int | None:
    return getattr(user, "id", user)


def _note(value, field: str = "note") -> str:
    note = str(value or "").strip()
    if len(note) > 500:
        raise DomainError({field: _l("A note has at most 500 characters.")})
    return note


def request_transfer(from_store, to_store, drug, packs, user, *, note: str = "",
                     within_free_stock: bool = False, min_shelf_days: int | None = None,
                     order_id: int | None = None, now: datetime | None = None) -> StockTransfer:
    """Ask `from_store` to send `packs` packs of `drug` to `to_store`. Nothing moves yet.

    The binding check is the pick's, under lock: stock may arrive at or leave the sender before then, so a
    request alone holds nothing. With `within_free_stock` (a person asking on the page) a request for
    more than the sender could send right now is refused at once instead of at the pick."""
    sender, receiver = _store(from_store, "from_store"), _store(to_store, "to_store")
    drug = inputs.get_drug(drug)
    packs = inputs.whole_packs(packs, "packs")
    note = _note(note)
    if sender.id == receiver.id:
        raise DomainError({"to_store": _l("A transfer goes to another store; choose a different store.")})
    if not sender.is_active:
        raise DomainError({"from_store": _l("%(store)s is inactive; it cannot send stock.",
                                            store=sender.code)})
    if not receiver.is_active:
        raise DomainError({"to_store": _l("%(store)s is inactive; it cannot receive stock.",
                                          store=receiver.code)})
    if not drug.is_active:
        raise DomainError({"drug": _l(
            "%(drug)s is no longer active in the catalogue; it cannot be transferred.",
            drug=inputs.drug_label(drug))})
    if drug.is_cold_chain and not receiver.is_cold_chain_capable:
        raise DomainError({"to_store": _l(
            "%(drug)s needs the cold chain (2–8 °C); %(store)s cannot store it.",
            drug=inputs.drug_label(drug), store=receiver.code)})
    if within_free_stock:
        free = queries.free_to_send(drug.id, [sender], now=now).get(sender.id, 0)
        if packs > free:
            raise DomainError({"packs": _free_stock_message(sender, drug, free, TRANSFER_MIN_SHELF_DAYS,
                                                            packs)})
    transfer = StockTransfer(from_store=sender, to_store=receiver, drug=drug, packs_requested=packs,
                             status=TransferStatus.REQUESTED, note=note, requested_by_id=_user_id(user),
                             requested_at=now or utcnow(),
                             min_shelf_days=inputs.days(min_shelf_days, "min_shelf_days") if min_shelf_days
                             else None, order_id=order_id)
    db.session.add(transfer)
    db.session.flush()
    return transfer


def _free_stock_message(sender, drug, available: int, days: int, requested: int):
    return _l("%(store)s has %(available)d packs of %(drug)s free to send (in date for at least "
              "%(days)d more days and not reserved); %(requested)d requested.", store=sender.code,
              available=available, drug=inputs.drug_label(drug), days=days, requested=requested)


def _locked_transfer(transfer, verb: TransferStatus) -> StockTransfer:
    """The transfer row, locked for this transaction and re-read, in a state the table lets become `verb`."""
    ident = transfer.id if isinstance(transfer, StockTransfer) else inputs.integer(transfer)
    statement = (select(StockTransfer).where(StockTransfer.id == ident)
                 .execution_options(populate_existing=True))
    if db.session.get_bind().dialect.name == "postgresql":
        statement = statement.with_for_update(of=StockTransfer)
    found = db.session.scalar(statement) if ident is not None else None
    if found is None:
        raise DomainError({"transfer": _l("Unknown transfer.")})
    if not states.TRANSFER.can_move(found.status, verb):
        raise InvalidTransition({"transfer": _l(
            "Transfer %(number)d is %(status)s; it cannot be %(verb)s.", number=found.id,
            status=STATUS_LABELS[found.status], verb=VERB_LABELS[verb])})
    return found



def pick(transfer, user, *, min_shelf_days: int | None = None, now: datetime | None = None) -> StockTransfer:
    """Choose the sender's lots first-expiry-first-out (among those in date for at least
    TRANSFER_MIN_SHELF_DAYS more days, or `min_shelf_days` when more: a transfer for a patient's
    prescription needs lots lasting the supply; by default what the request asked for) and reserve them
    for the transfer, so they cannot be sold twice."""
    transfer = _locked_transfer(transfer, TransferStatus.PICKED)
    sender, drug = transfer.from_store, transfer.drug
    if not sender.is_active:
        raise DomainError({"from_store": _l("%(store)s is inactive; it cannot send stock.",
                                            store=sender.code)})
    asked = min_shelf_days if min_shelf_days is not None else transfer.min_shelf_days
    shelf_days = max(TRANSFER_MIN_SHELF_DAYS, inputs.days(asked or 0, "min_shelf_days"))
    in_date_until = sender.today(now) + timedelta(days=shelf_days)
    lots = ledger.lock_lots(StockLot.store_id == sender.id, StockLot.drug_id == drug.id,
                            StockLot.status == LotStatus.AVAILABLE, StockLot.expiry_date >= in_date_until,
                            StockLot.quantity_on_hand > 0)
    available = sum(lot.quantity_available for lot in lots)
    if available < transfer.packs_requested:
        raise DomainError({"packs": _free_stock_message(sender, drug, available, shelf_days,
                                                        transfer.packs_requested)})
    packs = transfer.packs_requested
    for lot in sorted(lots, key=lambda lot: (lot.expiry_date, lot.id)):
        take = min(packs, lot.quantity_available)
        if take > 0:
            ledger.post(lot, MovementKind.RESERVATION, reserved_change=take, user=user,
                        reference=transfer.reference)
            transfer.lines.append(StockTransferLine(lot=lot, lot_number=lot.lot_number,
                                                    expiry_date=lot.expiry_date, packs=take))
            packs -= take
        if packs == 0:
            break
    states.TRANSFER.move(transfer, TransferStatus.PICKED)
    transfer.picked_by_id, transfer.picked_at = _user_id(user), now or utcnow()
    db.session.flush()
    return transfer


def _lines_lots(transfer: StockTransfer) -> dict[int, StockLot]:
    lots = ledger.lock_lots(StockLot.id.in_([line.lot_id for line in transfer.lines]))
    return {lot.id: lot for lot in lots}


def ship(transfer, user, *, now: datetime | None = None) -> StockTransfer:
    """The picked packs leave the sender (transfer_out rows taking them off hand and off the
    reservation): until received they are in transit and available nowhere."""
    transfer = _locked_transfer(transfer, TransferStatus.SHIPPED)
    lots = _lines_lots(transfer)
    held = ledger.holdings(transfer.reference, transfer.from_store_id)
    today = transfer.from_store.today(now)
    for line in transfer.lines:
        lot = lots[line.lot_id]
        if lot.status != LotStatus.AVAILABLE or lot.is_expired_on(today):
            raise DomainError({"transfer": _l(
                "Lot %(lot)s of %(drug)s can no longer be sold (%(status)s since it was picked); cancel the "
                "transfer and request it again.", lot=lot.lot_number, drug=inputs.drug_label(transfer.drug),
                status=_lot_status_label(lot, today))})
        if held.get(lot.id, 0) < line.packs:
            raise DomainError({"transfer": _l(
                "The packs picked from lot %(lot)s are no longer reserved for this transfer; cancel the "
                "transfer and request it again.", lot=lot.lot_number)})
    for line in transfer.lines:
        ledger.post(lots[line.lot_id], MovementKind.TRANSFER_OUT, quantity=-line.packs,
                    reserved_change=-line.packs, user=user, reference=transfer.reference)
    states.TRANSFER.move(transfer, TransferStatus.SHIPPED)
    transfer.shipped_by_id, transfer.shipped_at = _user_id(user), now or utcnow()
    db.session.flush()
    return transfer


def _lot_status_label(lot: StockLot, today) -> str:
    if lot.status == LotStatus.AVAILABLE and lot.is_expired_on(today):
        return str(_l("expired on %(date)s", date=inputs.iso_date(lot.expiry_date)))
    return str({LotStatus.QUARANTINED: _l("quarantined"), LotStatus.RECALLED: _l("recalled"),
                LotStatus.EXPIRED: _l("expired")}.get(lot.status, lot.status))


def _received_packs(transfer: StockTransfer, received) -> dict[int, int]:
    """{line id: packs received} from {lot number: packs}; None means every line arrived in full."""
    if received is None:
        return {line.id: line.packs for line in transfer.lines}
    by_number = {line.lot_number: line for line in transfer.lines}
    received = {normal_lot_number(number): packs for number, packs in received.items()}
    unknown = [number for number in received if number not in by_number]
    if unknown:
        raise DomainError({"received": _l("Lot %(lot)s was not shipped on this transfer.", lot=unknown[0])})
    counted = {}
    for number, line in by_number.items():
        field = f"received_{line.id}"
        if number not in received:
            raise DomainError({field: _l("Enter the packs of lot %(lot)s that arrived (0 if none).",
                                         lot=number)})
        packs = inputs.integer(received[number])
        if packs is None or packs < 0:
            raise DomainError({field: _l("Enter a whole number of packs, 0 or more.")})
        if packs > line.packs:
            raise DomainError({field: _l(
                "%(received)d packs of lot %(lot)s were entered but only %(shipped)d were shipped; receive "
                "packs that were not shipped as goods received.", received=packs, lot=number,
                shipped=line.packs)})
        counted[line.id] = packs
    return counted


def _receiver_lot(transfer: StockTransfer, line: StockTransferLine, now) -> StockLot:
    """The receiver's lot with the line's number (created with the same expiry when it has none)."""
    criteria = (StockLot.store_id == transfer.to_store_id, StockLot.drug_id == transfer.drug_id,
                StockLot.lot_number == line.lot_number)
    lot = db.session.scalar(select(StockLot).where(*criteria))
    if lot is None:
        try:
            with db.session.begin_nested():  # a receipt of the same lot may be creating it right now
                lot = StockLot(store_id=transfer.to_store_id, drug_id=transfer.drug_id,
                               lot_number=line.lot_number, expiry_date=line.expiry_date, quantity_on_hand=0,
                               quantity_reserved=0, unit_cost_fen=line.lot.unit_cost_fen,
                               status=LotStatus.AVAILABLE, received_at=now or utcnow())
                db.session.add(lot)
        except IntegrityError:
            lot = db.session.scalar(select(StockLot).where(*criteria))
    return lot


def receive_transfer(transfer, user, *, received=None, temperature=None, note: str = "",
                     now: datetime | None = None) -> StockTransfer:
    """The parcel arrived: `received` maps each lot number to the packs that arrived (None: all of them).
    Fewer than shipped is a discrepancy recorded per line and explained in `note`; more is refused.
    A cold-chain transfer records the temperature on opening; outside 2–8 °C the receiver's lot goes to
    quarantine. A lot recalled while in transit lands recalled."""
    transfer = _locked_transfer(transfer, TransferStatus.RECEIVED)
    counted = _received_packs(transfer, received)
    note = _note(note)
    if any(counted[line.id] < line.packs for line in transfer.lines) and not note:
        raise DomainError({"note": _l("Fewer packs arrived than were shipped: explain the difference in the "
                                      "note.")})
    reading = None
    if temperature not in (None, ""):
        reading = inputs.temperature(temperature)
    elif transfer.drug.is_cold_chain:
        raise DomainError({"arrival_temperature": _l(
            "Record the arrival temperature: %(drug)s is a cold-chain (2–8 °C) drug.",
            drug=inputs.drug_label(transfer.drug))})
    excursion = transfer.drug.is_cold_chain and not within_cold_chain(reading)
    recalls = {recall.lot_number: recall for recall in db.session.scalars(select(LotRecall).where(
        LotRecall.drug_id == transfer.drug_id,
        LotRecall.lot_number.in_([line.lot_number for line in transfer.lines])))}

    targets = {line.id: _receiver_lot(transfer, line, now) for line in transfer.lines}
    locked = {lot.id: lot for lot in ledger.lock_lots(StockLot.id.in_([lot.id for lot in targets.values()]))}
    for line in transfer.lines:
        lot, packs = locked[targets[line.id].id], counted[line.id]
        line.packs_received, line.received_lot = packs, lot
        if packs == 0:
            continue
        if lot.quantity_on_hand:  # moving average with the sender's cost, as a receipt does
            total = lot.quantity_on_hand + packs
            value = lot.unit_cost_fen * lot.quantity_on_hand + line.lot.unit_cost_fen * packs
            lot.unit_cost_fen = (value + total // 2) // total
        else:
            lot.unit_cost_fen = line.lot.unit_cost_fen
        ledger.post(lot, MovementKind.TRANSFER_IN, quantity=packs, user=user, reference=transfer.reference,
                    temperature_c=reading, note=note)
        recall = recalls.get(line.lot_number)
        if recall is not None and states.LOT.can_move(lot.status, LotStatus.RECALLED):
            ledger.post(lot, MovementKind.STATUS_CHANGE, new_status=LotStatus.RECALLED, reason="recalled",
                        user=user, note=recall.reason, reference=("recall", recall.id))
        elif excursion and lot.status == LotStatus.AVAILABLE:
            # Packs of one lot cannot be told apart on the shelf: the whole lot waits for assessment.
            ledger.change_status(lot, LotStatus.QUARANTINED, "temperature_excursion", user=user,
                                 note=f"{reading} °C on receipt of transfer {transfer.id}")
    states.TRANSFER.move(transfer, TransferStatus.RECEIVED)
    transfer.received_by_id, transfer.received_at = _user_id(user), now or utcnow()
    transfer.receipt_temperature_c, transfer.discrepancy_note = reading, note
    db.session.flush()
    return transfer


def mark_lost(transfer, user, note: str, *, now: datetime | None = None) -> StockTransfer:
    """A shipped parcel that will not arrive. Its packs already left the sender's books when shipped."""
    note = _note(note)
    if not note:
        raise DomainError({"note": _l("Say what happened to the parcel in the note.")})
    transfer = _locked_transfer(transfer, TransferStatus.LOST)
    return _close(transfer, TransferStatus.LOST, user, note, now)


def cancel_transfer(transfer, user, note: str = "", *, now: datetime | None = None) -> StockTransfer:
    """Before shipping: a picked transfer gives its reservation back to the sender's lots."""
    note = _note(note)
    transfer = _locked_transfer(transfer, TransferStatus.CANCELLED)
    if transfer.lines:
        lots = _lines_lots(transfer)
        held = ledger.holdings(transfer.reference, transfer.from_store_id)
        for lot_id, packs in sorted(held.items()):
            ledger.post(lots[lot_id], MovementKind.RELEASE, reserved_change=-packs, user=user,
                        reason="cancelled", note=note, reference=transfer.reference)
    return _close(transfer, TransferStatus.CANCELLED, user, note, now)


def _close(transfer: StockTransfer, status: TransferStatus, user, note: str, now) -> StockTransfer:
    states.TRANSFER.move(transfer, status)  # _locked_transfer checked it under the lock
    transfer.closed_by_id, transfer.closed_at, transfer.close_note = _user_id(user), now or utcnow(), note
    db.session.flush()
    return transfer
