"""Outbound SMS statuses and the only transitions allowed between them."""

from app.notifications.models import SmsStatus
from app.state_machine import StateMachine

TRANSITIONS: dict[SmsStatus, frozenset[SmsStatus]] = {
    # A queued message is claimed, or given up when its one-time code expired before sending.
    SmsStatus.QUEUED: frozenset({SmsStatus.SENDING, SmsStatus.FAILED}),
    # Sent; back to the queue after a provider error; failed after the last attempt.
    SmsStatus.SENDING: frozenset({SmsStatus.SENT, SmsStatus.QUEUED, SmsStatus.FAILED}),
    SmsStatus.SENT: frozenset(),
    SmsStatus.FAILED: frozenset(),
}

MACHINE = StateMachine("outbound_sms", TRANSITIONS)
