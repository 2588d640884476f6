"""What operations staff read for a data-platform event: its status, its kind, and how long it has waited."""

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.labels import badge, in_language
from app.outbox.models import OutboxStatus as S
from app.platform.events import ADHERENCE, DISPENSED, EXCURSION, RETURNED

# Badge colours from Bootstrap's text-bg-* pairs, which set a text colour that passes contrast.
STATUSES = {
    S.PENDING: (_l("Waiting to be sent"), "warning"),
    S.DELIVERED: (_l("Delivered"), "success"),
    S.DEAD: (_l("Dead: not sent"), "danger"),
    S.WITHDRAWN: (_l("Withdrawn"), "secondary"),
}

EVENT_TYPES = {
    DISPENSED: _l("Medicine dispensed"),
    RETURNED: _l("Medicine returned"),
    EXCURSION: _l("Cold-chain temperature excursion"),
    ADHERENCE: _l("Monthly adherence summary"),
}


def status(value, language: str | None = None) -> tuple[str, str]:
    """(name in the reader's language, badge colour); an unknown status is shown as its code."""
    return badge(STATUSES, value, language)


def event_type(value: str, language: str) -> str:
    """The kind of event in `language`; a kind this list does not know is shown as its code."""
    return in_language(EVENT_TYPES, language).get(value, value)


def waited(seconds: float | None) -> str:
    """An age as a reader says it: seconds under a minute, minutes under an hour, then hours, then days."""
    if seconds is None:
        return "—"
    whole = max(int(seconds), 0)
    minutes, hours, days = whole // 60, whole // 3600, whole // 86400
    if whole < 60:
        return _("%(seconds)d s", seconds=whole)
    if whole < 3600:
        return _("%(minutes)d min", minutes=minutes)
    if whole < 86400:
        return _("%(hours)d h %(minutes)d min", hours=hours, minutes=minutes % 60)
    return _("%(days)d d %(hours)d h", days=days, hours=hours % 24)
