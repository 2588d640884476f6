"""queue_sms() renders an SMS template in the recipient's language; send_due_sms() sends them."""

import logging
from datetime import timedelta

from flask import current_app, render_template
from flask_babel import force_locale
from sqlalchemy import select

from app.database import claim, utcnow
from app.extensions import db
from app.integrations import sms
from app.notifications.models import OutboundSms, SmsStatus

log = logging.getLogger(__name__)
REDACTED = "[redacted after sending]"


def queue_sms(
    *, to_phone: str, template: str, locale: str, user=None, sensitive: bool = False, **context
) -> OutboundSms:
    """Add an outbox row to the caller's transaction; nothing leaves until the worker runs."""
    with force_locale(locale):
        body = render_template(f"sms/{template}.txt", **context).strip()
    message = OutboundSms(
        user_id=getattr(user, "id", None),
        to_phone=to_phone,
        purpose=template,
        body=body,
        is_sensitive=sensitive,
    )
    db.session.add(message)
    db.session.flush()
    return message


def send_due_sms(limit: int) -> int:
    """Send queued messages that are due; failures are retried with growing delays."""
    now = utcnow()
    statement = (
        select(OutboundSms)
        .where(OutboundSms.status == SmsStatus.QUEUED, OutboundSms.next_attempt_at <= now)
        .order_by(OutboundSms.next_attempt_at, OutboundSms.id)
        .limit(limit)
    )
    due = db.session.scalars(claim(statement, db.engine.dialect.name)).all()
    max_attempts = current_app.config["SMS_MAX_ATTEMPTS"]
    for message in due:
        message.attempts += 1
        try:
            message.provider_message_id = sms.backend().send(message.to_phone, message.body)
        except sms.SmsSendError as exc:
            message.last_error = str(exc)[:255]
            if message.attempts >= max_attempts:
                message.status = SmsStatus.FAILED
            else:
                message.next_attempt_at = now + timedelta(minutes=2**message.attempts)
            log.warning("SMS %s failed (attempt %s): %s", message.id, message.attempts, exc)
            continue
        message.status = SmsStatus.SENT
        message.sent_at = now
        message.last_error = None
        if message.is_sensitive:
            message.body = REDACTED
    db.session.flush()
    return len(due)
