"""What a prescription's states are called on screen, built once rather than on every listed row."""

from datetime import date

from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from app.i18n import current_language
from app.labels import badge, in_language
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


EXPIRED = {"expired": (_l("Expired"), "warning")}
_BADGE = Markup('<span class="badge text-bg-{}" data-status="{}">{}</span>')
_EXPIRED_BADGE = Markup(' <span class="badge text-bg-{}" data-expired="1">{}</span>')
_NOT_EXPIRING = frozenset({S.SUPERSEDED, S.CANCELLED})


def status_badge(prescription, today: date | None = None, language: str | None = None) -> Markup:
    """The state's badge, and an "Expired" one beside it when `today` is past the prescription's
    validity (a function rather than a macro: lists print one per row)."""
    language = language or current_language()
    name, colour = status(prescription.status, language)
    html = _BADGE.format(colour, prescription.status, name)
    if today is None or prescription.status in _NOT_EXPIRING:  # an older version is never "expired"
        return html
    valid_until = prescription.valid_until
    if valid_until is not None and valid_until < today:
        expired, warning = in_language(EXPIRED, language)["expired"]
        html += _EXPIRED_BADGE.format(warning, expired)
    return html
