"""Outbound SMS statuses and the only transitions allowed between them."""

from app.notifications.models import SmsStatus
from app.state_machine import StateMachine

TRANSITIONS: dict[SmsStatus, frozenset[SmsStatus]] = {
    # A queued message is claimed, given up when its one-time code expired before sending, or
    # withdrawn (an opt-out, a rebuilt reminder plan).
    SmsStatus.QUEUED: frozenset({SmsStatus.SENDING, SmsStatus.FAILED, SmsStatus.CANCELLED}),
    # Sent; back to the queue after a transient provider error; failed after the last attempt or a
    # permanent refusal; withdrawn when the number opted out after the message was queued.
    SmsStatus.SENDING: frozenset({SmsStatus.SENT, SmsStatus.QUEUED, SmsStatus.FAILED, SmsStatus.CANCELLED}),
    # The carrier's report, from a signed status callback.
    SmsStatus.SENT: frozenset({SmsStatus.DELIVERED, SmsStatus.UNDELIVERED, SmsStatus.FAILED}),
    SmsStatus.DELIVERED: frozenset(),
    SmsStatus.UNDELIVERED: frozenset(),
    SmsStatus.FAILED: frozenset(),
    SmsStatus.CANCELLED: frozenset(),
}

MACHINE = StateMachine("outbound_sms", TRANSITIONS)
