"""Payment and payment-operation statuses: the only transitions allowed between them, and their machines."""

from flask_babel import lazy_gettext as _l

from app.payments.models import OperationStatus, PaymentStatus
from app.state_machine import StateMachine

P = PaymentStatus

# Money only moves forward: a captured payment can be refunded but never "cancelled" (Stripe
# cannot release money it already took, so an event saying so changes nothing), and a cancelled
# or refunded payment never reopens, whatever arrives late or twice. A declined one is not over
# at Stripe: the payer may try another card in the same payment form, and that can succeed.
TRANSITIONS = {
    P.PENDING: frozenset({P.AUTHORIZED, P.CAPTURED, P.FAILED, P.CANCELED}),
    P.AUTHORIZED: frozenset({P.CAPTURED, P.CANCELED}),
    P.CAPTURED: frozenset({P.REFUNDED}),
    P.FAILED: frozenset({P.AUTHORIZED, P.CAPTURED}),
    P.CANCELED: frozenset(),
    P.REFUNDED: frozenset(),
}

REFUSED = {
    P.AUTHORIZED: _l("This payment can no longer be authorized."),
    P.CAPTURED: _l("This payment can no longer be taken."),
    P.FAILED: _l("This payment can no longer fail."),
    P.CANCELED: _l("This payment can no longer be released."),
    P.REFUNDED: _l("Only a payment that was taken can be refunded."),
}

MACHINE = StateMachine("payment", TRANSITIONS, refused=REFUSED)

# An operation that failed for good may be put back in the queue by operations staff.
OPERATION_TRANSITIONS = {
    OperationStatus.PENDING: frozenset({OperationStatus.DONE, OperationStatus.FAILED}),
    OperationStatus.DONE: frozenset(),
    OperationStatus.FAILED: frozenset({OperationStatus.PENDING}),
}

OPERATION = StateMachine("payment_operation", OPERATION_TRANSITIONS)
