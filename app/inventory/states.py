"""Lot and transfer statuses: the only transitions allowed between them, and their machines."""

from app.inventory.models import LotStatus, TransferStatus
from app.state_machine import StateMachine

# A recalled or expired lot never comes back; quarantine is lifted (or not) by an assessment.
LOT_TRANSITIONS = {
    LotStatus.AVAILABLE: frozenset({LotStatus.QUARANTINED, LotStatus.RECALLED, LotStatus.EXPIRED}),
    LotStatus.QUARANTINED: frozenset({LotStatus.AVAILABLE, LotStatus.RECALLED, LotStatus.EXPIRED}),
    LotStatus.RECALLED: frozenset(),
    LotStatus.EXPIRED: frozenset(),
}

TRANSFER_TRANSITIONS = {
    TransferStatus.REQUESTED: frozenset({TransferStatus.PICKED, TransferStatus.CANCELLED}),
    TransferStatus.PICKED: frozenset({TransferStatus.SHIPPED, TransferStatus.CANCELLED}),
    TransferStatus.SHIPPED: frozenset({TransferStatus.RECEIVED, TransferStatus.LOST}),
    TransferStatus.RECEIVED: frozenset(),
    TransferStatus.LOST: frozenset(),
    TransferStatus.CANCELLED: frozenset(),
}

LOT = StateMachine("stock_lot", LOT_TRANSITIONS)
TRANSFER = StateMachine("stock_transfer", TRANSFER_TRANSITIONS)


def transfer_sources(target: TransferStatus) -> frozenset[TransferStatus]:
    """The statuses a transfer may be in for `target` to be allowed: read off the one table."""
    return frozenset(status for status, targets in TRANSFER_TRANSITIONS.items() if target in targets)
