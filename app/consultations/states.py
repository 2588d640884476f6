"""Consultation statuses, the only transitions allowed between them, and their machine."""

from enum import StrEnum

from flask_babel import lazy_gettext as _l

from app.state_machine import StateMachine


class ConsultationStatus(StrEnum):
    AWAITING_PAYMENT = "awaiting_payment"
    WAITING = "waiting"  # paid (authorized), in the doctors' queue
    IN_PROGRESS = "in_progress"  # a doctor accepted; the payment is captured
    COMPLETED = "completed"
    CANCELLED = "cancelled"  # by the patient, before a doctor accepted
    DECLINED = "declined"  # by the doctor, before accepting
    EXPIRED = "expired"  # no doctor accepted in time (the worker expires it)
    REFERRED = "referred"  # ended by the doctor: needs an in-person visit; refunded


TRANSITIONS: dict[ConsultationStatus, frozenset[ConsultationStatus]] = {
    ConsultationStatus.AWAITING_PAYMENT: frozenset(
        {ConsultationStatus.WAITING, ConsultationStatus.CANCELLED, ConsultationStatus.EXPIRED}
    ),
    ConsultationStatus.WAITING: frozenset(
        {
            ConsultationStatus.IN_PROGRESS,
            ConsultationStatus.CANCELLED,
            ConsultationStatus.DECLINED,
            ConsultationStatus.EXPIRED,
        }
    ),
    ConsultationStatus.IN_PROGRESS: frozenset(
        {ConsultationStatus.COMPLETED, ConsultationStatus.REFERRED}
    ),
    ConsultationStatus.COMPLETED: frozenset(),
    ConsultationStatus.CANCELLED: frozenset(),
    ConsultationStatus.DECLINED: frozenset(),
    ConsultationStatus.EXPIRED: frozenset(),
    ConsultationStatus.REFERRED: frozenset(),
}

OPEN_STATUSES = frozenset(
    {ConsultationStatus.AWAITING_PAYMENT, ConsultationStatus.WAITING, ConsultationStatus.IN_PROGRESS}
)


S = ConsultationStatus

# What the user reads when a move is refused, by the status that was asked for.
STATUS_CHANGE_REFUSED = {
    S.WAITING: _l("This consultation is no longer waiting for a doctor."),
    S.IN_PROGRESS: _l("This consultation can no longer be accepted."),
    S.CANCELLED: _l("A consultation can only be cancelled before a doctor accepts it."),
    S.DECLINED: _l("Only a consultation waiting in your queue can be declined."),
    S.COMPLETED: _l("Only a consultation in progress can be completed."),
    S.REFERRED: _l("Only a consultation in progress can be ended for an in-person visit."),
    S.EXPIRED: _l("This consultation can no longer expire."),
}

MACHINE = StateMachine("consultation", TRANSITIONS, refused=STATUS_CHANGE_REFUSED)


def can_move(current: ConsultationStatus, target: ConsultationStatus) -> bool:
    return MACHINE.can_move(current, target)
