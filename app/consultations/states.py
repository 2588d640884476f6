"""Consultation statuses and the only transitions allowed between them."""

from enum import StrEnum


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


def can_move(current: ConsultationStatus, target: ConsultationStatus) -> bool:
    return target in TRANSITIONS[current]
