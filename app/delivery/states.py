"""Delivery statuses, the only transitions allowed between them, and their machine."""

from enum import StrEnum

from app.state_machine import StateMachine


class DeliveryStatus(StrEnum):
    ASSIGNED = "assigned"  # packed at the store, waiting for its courier
    PICKED_UP = "picked_up"  # left the store with the courier
    IN_TRANSIT = "in_transit"
    FAILED_ATTEMPT = "failed_attempt"  # nobody could take it; the courier tries again or brings it back
    DELIVERED = "delivered"
    RETURNED = "returned"  # brought back to the store


D = DeliveryStatus

TRANSITIONS = {
    D.ASSIGNED: frozenset({D.PICKED_UP, D.RETURNED}),  # returned: unpacked, the order cancelled
    D.PICKED_UP: frozenset({D.IN_TRANSIT, D.DELIVERED, D.FAILED_ATTEMPT, D.RETURNED}),
    D.IN_TRANSIT: frozenset({D.DELIVERED, D.FAILED_ATTEMPT, D.RETURNED}),
    D.FAILED_ATTEMPT: frozenset({D.IN_TRANSIT, D.RETURNED}),
    D.DELIVERED: frozenset(),
    D.RETURNED: frozenset({D.ASSIGNED}),  # packed again with fresh medicine after an excursion
}
ON_THE_ROAD = frozenset({D.PICKED_UP, D.IN_TRANSIT, D.FAILED_ATTEMPT})

MACHINE = StateMachine("delivery", TRANSITIONS)
