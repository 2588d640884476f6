"""Data-platform event statuses and the only transitions allowed between them."""

from app.outbox.models import OutboxStatus
from app.state_machine import StateMachine

TRANSITIONS: dict[OutboxStatus, frozenset[OutboxStatus]] = {
    # Acknowledged by the platform; refused for good or invalid; withdrawn with the patient's consent.
    OutboxStatus.PENDING: frozenset({OutboxStatus.DELIVERED, OutboxStatus.DEAD, OutboxStatus.WITHDRAWN}),
    OutboxStatus.DEAD: frozenset({OutboxStatus.PENDING}),  # replayed by operations staff
    OutboxStatus.DELIVERED: frozenset(),
    # Consent withdrawn while a worker already had the batch on the wire: the platform's
    # acknowledgement is recorded, since the event did arrive.
    OutboxStatus.WITHDRAWN: frozenset({OutboxStatus.DELIVERED}),
}

MACHINE = StateMachine("outbox_events", TRANSITIONS)
