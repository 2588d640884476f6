"""What a consultation's states are called on screen, built once rather than on every listed row."""

from flask_babel import lazy_gettext as _l

from app.consultations.states import ConsultationStatus as S
from app.labels import badge

STATUSES = {
    S.AWAITING_PAYMENT: (_l("Awaiting payment"), "warning"),
    S.WAITING: (_l("Waiting for the doctor"), "info"),
    S.IN_PROGRESS: (_l("In progress"), "primary"),
    S.COMPLETED: (_l("Completed"), "success"),
    S.CANCELLED: (_l("Cancelled"), "secondary"),
    S.DECLINED: (_l("Declined by the doctor"), "secondary"),
    S.EXPIRED: (_l("Expired"), "secondary"),
    S.REFERRED: (_l("In-person visit needed"), "dark"),
}


def status(value, language: str | None = None) -> tuple[str, str]:
    """(name in the reader's language, badge colour); an unknown state is shown as its code."""
    return badge(STATUSES, value, language)
