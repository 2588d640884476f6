"""Order statuses, the only transitions allowed between them, and their machine."""

from enum import StrEnum

from flask_babel import lazy_gettext as _l

from app.state_machine import StateMachine


class OrderStatus(StrEnum):
    AWAITING_PAYMENT = "awaiting_payment"
    PAID = "paid"  # the card authorized (a wallet charged) and the stock reserved at the store
    DISPENSING = "dispensing"  # a pharmacist of the store is picking and checking the packs
    READY_FOR_PICKUP = "ready_for_pickup"
    OUT_FOR_DELIVERY = "out_for_delivery"  # left the store with a courier; the card is captured
    COMPLETED = "completed"  # handed over or delivered
    CANCELLED = "cancelled"  # before dispensing: the authorization cancelled or the wallet refunded
    REFUNDED = "refunded"  # cancelled by a pharmacist after dispensing; the packs went to quarantine


S = OrderStatus

TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    S.AWAITING_PAYMENT: frozenset({S.PAID, S.CANCELLED}),
    S.PAID: frozenset({S.DISPENSING, S.CANCELLED}),
    # Dispensing → refunded: dispensed for delivery, then cancelled before the courier took it.
    S.DISPENSING: frozenset({S.READY_FOR_PICKUP, S.OUT_FOR_DELIVERY, S.CANCELLED, S.REFUNDED}),
    S.READY_FOR_PICKUP: frozenset({S.COMPLETED, S.REFUNDED}),
    # Back to dispensing: the parcel came back after a cold-chain excursion and fresh packs replace it.
    S.OUT_FOR_DELIVERY: frozenset({S.COMPLETED, S.REFUNDED, S.DISPENSING}),
    S.COMPLETED: frozenset(),
    S.CANCELLED: frozenset(),
    S.REFUNDED: frozenset(),
}

# An order in one of these holds its prescription version: no second order may be placed for it.
# A completed order holds it too (the medicine was handed over); a cancelled or refunded one does not.
HOLDING_STATUSES = frozenset(set(S) - {S.CANCELLED, S.REFUNDED})
# The patient may still cancel: nothing has been picked from the shelves yet.
PATIENT_CANCELLABLE = frozenset({S.AWAITING_PAYMENT, S.PAID})

REFUSED = {
    S.PAID: _l("This order is no longer waiting for payment."),
    S.CANCELLED: _l("This order can no longer be cancelled: the store has started dispensing it."),
    S.DISPENSING: _l("This order cannot be dispensed now."),
}

MACHINE = StateMachine("order", TRANSITIONS, refused=REFUSED)
