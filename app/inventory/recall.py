"""Recall of a manufacturer's lot across the chain, and the patients who received it.

A recall marks every store's lot of that drug and number recalled (one status_change row each,
referencing ("recall", id)); packs reserved for orders stay reserved but can no longer be dispensed
(reservations.dispense refuses a recalled lot) and a transfer of the lot still in transit lands recalled.
Who received it comes from the dispense rows of the ledger, each of which names its patient.
"""

from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from app.accounts.models import User
from app.database import utcnow
from app.errors import DomainError
from app.extensions import db
from app.inventory import inputs, ledger, states
from app.inventory.models import LotRecall, LotStatus, MovementKind, StockLot, StockMovement


def recall_lot(drug, lot_number, user, reason, *, now: datetime | None = None) -> LotRecall:
    """Recall lot `lot_number` of `drug` in every store: its stock may never be sold again."""
    drug = inputs.get_drug(drug)
    lot_number = inputs.lot_number(lot_number)
    reason = str(reason or "").strip()
    if not reason:
        raise DomainError({"reason": _l("Give the reason for the recall: the notice and who issued it.")})
    if len(reason) > 500:
        raise DomainError({"reason": _l("A note has at most 500 characters.")})
    # Locked before looking for an earlier recall: a second admin recalling the same lot waits here and
    # then finds the first one's recall.
    lots = ledger.lock_lots(StockLot.drug_id == drug.id, StockLot.lot_number == lot_number)
    if not lots:
        raise DomainError({"lot_number": _l(
            "No store of the chain has received lot %(lot)s of %(drug)s; check the lot number.",
            lot=lot_number, drug=inputs.drug_label(drug))})
    earlier = db.session.scalar(select(LotRecall).where(LotRecall.drug_id == drug.id,
                                                        LotRecall.lot_number == lot_number))
    if earlier is not None:
        raise DomainError({"lot_number": _l(
            "Lot %(lot)s of %(drug)s was already recalled on %(date)s.", lot=lot_number,
            drug=inputs.drug_label(drug), date=inputs.iso_date(earlier.recalled_at))})
    recall = LotRecall(drug_id=drug.id, lot_number=lot_number, reason=reason,
                       recalled_by_id=getattr(user, "id", user), recalled_at=now or utcnow())
    db.session.add(recall)
    db.session.flush()
    for lot in lots:
        # An expired lot is already never sold; its status stays (its patients are listed all the same).
        if states.LOT.can_move(lot.status, LotStatus.RECALLED):
            ledger.post(lot, MovementKind.STATUS_CHANGE, new_status=LotStatus.RECALLED, reason="recalled",
                        note=reason, user=user, reference=("recall", recall.id))
    db.session.flush()
    _warn_recipients(drug, lot_number)
    return recall


def _warn_recipients(drug, lot_number: str) -> None:
    """Every patient who received the lot is texted at once (a safety notice ignores opt-outs)."""
    from app.notifications import notices  # the outbox renders templates with the app
    from app.templating import drug_title

    for recipient in patients_who_received(drug, lot_number):
        patient = recipient.patient
        notices.lot_recalled(patient, drug_title(drug, patient.locale), lot_number)


@dataclass(frozen=True)
class Recipient:
    """A patient who was handed packs of the lot, how many, and when (first and last time)."""

    patient: User
    packs: int
    first_dispensed_at: datetime
    last_dispensed_at: datetime


def patients_who_received(drug, lot_number) -> list[Recipient]:
    """Every patient with a dispense of lot `lot_number` of `drug`, in any store, once each (by id).
    This reads patient data: the caller records the read in the audit log."""
    drug = inputs.get_drug(drug)
    lot_number = inputs.lot_number(lot_number)
    rows = db.session.execute(
        select(StockMovement.patient_id, func.sum(-StockMovement.quantity),
               func.min(StockMovement.created_at), func.max(StockMovement.created_at))
        .join(StockLot, StockLot.id == StockMovement.lot_id)
        .where(StockLot.drug_id == drug.id, StockLot.lot_number == lot_number,
               StockMovement.kind == MovementKind.DISPENSE)
        .group_by(StockMovement.patient_id)
        .order_by(StockMovement.patient_id)).all()
    patients = {user.id: user for user in db.session.scalars(
        select(User).where(User.id.in_([row[0] for row in rows])))} if rows else {}
    return [Recipient(patients[patient_id], int(packs), first, last)
            for patient_id, packs, first, last in rows]

