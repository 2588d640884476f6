"""What a prescription's states are called on screen, built once rather than on every listed row."""

from flask_babel import lazy_gettext as _l

from app.labels import badge
from app.prescribing.states import PrescriptionStatus as S

STATUSES = {
    S.DRAFT: (_l("Draft"), "secondary"),
    S.SIGNED: (_l("Signed"), "info"),
    S.AWAITING_REVIEW: (_l("Awaiting pharmacist review"), "info"),
    S.APPROVED: (_l("Approved by the pharmacist"), "success"),
    S.RETURNED: (_l("Returned to the doctor"), "warning"),
    S.SUPERSEDED: (_l("Replaced by a newer version"), "secondary"),
    S.CANCELLED: (_l("Cancelled"), "secondary"),
}


def status(value, language: str | None = None) -> tuple[str, str]:
    """(name in the reader's language, badge colour); an unknown state is shown as its code."""
    return badge(STATUSES, value, language)
