"""What a prescription's states are called on screen, built once rather than on every listed row."""

from datetime import date

from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape

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
_NOT_EXPIRING = frozenset({S.SUPERSEDED, S.CANCELLED})


def status_badge(prescription, today: date | None = None, language: str | None = None) -> Markup:
    """The state's badge, and an "Expired" one beside it when `today` is past the prescription's
    validity (a function rather than a macro: lists print one per row)."""
    language = language or current_language()
    name, colour = status(prescription.status, language)
    # Plain formatting of escaped parts: Markup.format costs several times as much, once per row.
    state = escape(prescription.status)
    html = f'<span class="badge text-bg-{colour}" data-status="{state}">{escape(name)}</span>'
    if today is None or prescription.status in _NOT_EXPIRING:  # an older version is never "expired"
        return Markup(html)  # noqa: S704  (every part escaped above)
    valid_until = prescription.valid_until
    if valid_until is not None and valid_until < today:
        expired, warning = in_language(EXPIRED, language)["expired"]
        html += f' <span class="badge text-bg-{warning}" data-expired="1">{escape(expired)}</span>'
    return Markup(html)  # noqa: S704  (every part escaped above)
