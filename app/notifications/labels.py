"""What staff and patients read for an SMS's status."""

from flask_babel import lazy_gettext as _l

from app.notifications.models import SmsStatus

STATUSES = {
    SmsStatus.QUEUED: _l("Queued"),
    SmsStatus.SENDING: _l("Sending"),
    SmsStatus.SENT: _l("Sent"),
    SmsStatus.DELIVERED: _l("Delivered"),
    SmsStatus.UNDELIVERED: _l("Not delivered"),
    SmsStatus.FAILED: _l("Failed"),
    SmsStatus.CANCELLED: _l("Withdrawn"),
}


def status(value) -> str:
    return str(STATUSES[SmsStatus(value)])
