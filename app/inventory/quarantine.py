"""The assessment of a quarantined lot by a pharmacist of its store: release it for sale or reject it.

Release moves the lot back to available (one status_change row); reject takes every pack off the books
(one write_off row) and the empty lot stays quarantined, so nothing of it is ever sold. Both carry the
pharmacist's reason in the ledger row's note.
"""

from enum import StrEnum

from flask_babel import lazy_gettext as _l

from app.accounts.models import Role
from app.errors import DomainError
from app.extensions import db
from app.inventory import inputs, ledger
from app.inventory.models import LotStatus, MovementKind, StockLot

REASON_MAX = 500


class Decision(StrEnum):
    RELEASE = "release"  # fit for sale: back to available
    REJECT = "reject"  # not fit: every pack written off (destroyed or returned to the supplier)


# Called with the lot (in the same transaction) when a lot is released for sale: the orders feature
# frees the traceability codes of packs patients returned onto it.
release_handlers: list = []

# The reason codes these decisions write (labels in app.inventory.reasons.ASSESSMENT_REASONS).
RELEASED = "quarantine_released"
REJECTED = "quarantine_rejected"


def may_assess(user, lot: StockLot) -> bool:
    """Only a pharmacist whose home store holds the lot decides; an admin sees the lot but does not."""
    if getattr(user, "role", None) != Role.PHARMACIST:
        return False
    profile = getattr(user, "pharmacist_profile", None)
    return profile is not None and profile.home_store_id == lot.store_id


def _checked(decision, reason) -> tuple[Decision, str]:
    try:
        decision = Decision(str(decision or ""))
    except ValueError:
        raise DomainError({"decision": _l("Choose release or reject.")}) from None
    reason = str(reason or "").strip()
    if not reason:
        raise DomainError({"reason": _l("Give the reason for the decision: what was checked and found.")})
    if len(reason) > REASON_MAX:
        raise DomainError({"reason": _l("A note has at most 500 characters.")})
    return decision, reason


def assess(lot, decision, reason, user) -> StockLot:
    """Release or reject a quarantined lot, with the pharmacist's reason; the caller commits."""
    decision, reason = _checked(decision, reason)
    lot = inputs.get_lot(lot)
    if not may_assess(user, lot):
        raise DomainError({"decision": _l("Only a pharmacist of this store can assess a quarantined lot.")})
    (lot,) = ledger.lock_lots(StockLot.id == lot.id)  # re-read: another pharmacist may have decided
    if lot.status != LotStatus.QUARANTINED or lot.quantity_on_hand == 0:
        raise DomainError({"decision": _l(
            "Lot %(lot)s is not waiting for assessment: it has no quarantined packs.", lot=lot.lot_number)})
    if decision == Decision.RELEASE:
        if lot.is_expired_on(lot.store.today()):
            raise DomainError({"decision": _l(
                "Lot %(lot)s expired on %(date)s; it cannot be released for sale. Reject it instead.",
                lot=lot.lot_number, date=inputs.iso_date(lot.expiry_date))})
        ledger.change_status(lot, LotStatus.AVAILABLE, RELEASED, user=user, note=reason)
        for handler in release_handlers:
            handler(lot)
    else:
        if lot.quantity_reserved:
            raise DomainError({"decision": _l(
                "%(reserved)d packs of lot %(lot)s are still reserved for orders; release them before "
                "rejecting the lot.", reserved=lot.quantity_reserved, lot=lot.lot_number)})
        ledger.post(lot, MovementKind.WRITE_OFF, quantity=-lot.quantity_on_hand, reason=REJECTED,
                    note=reason, user=user)
    db.session.flush()
    return lot
