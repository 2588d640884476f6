"""Condition statuses: a diagnosis waits for staff to verify or reject it, once."""

from app.patients.models import ConditionStatus
from app.state_machine import StateMachine

TRANSITIONS = {
    ConditionStatus.PENDING: frozenset({ConditionStatus.VERIFIED, ConditionStatus.REJECTED}),
    ConditionStatus.VERIFIED: frozenset(),
    ConditionStatus.REJECTED: frozenset(),
}

MACHINE = StateMachine("condition", TRANSITIONS)
