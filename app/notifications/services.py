"""The SMS outbox: queue_sms() in the user's transaction; the worker claims, sends and records."""

import logging
import os
import secrets
import socket
import time
from datetime import datetime, timedelta

from flask import current_app, render_template
from flask_babel import force_locale
from sqlalchemy import and_, case, or_, select, update

from app.database import claim, utcnow
from app.extensions import db
from app.integrations import sms
from app.notifications.models import IGNORES_OPT_OUT, OutboundSms, SmsKind, SmsOptOut, SmsStatus
from app.notifications.states import MACHINE

log = logging.getLogger(__name__)
REDACTED = "[redacted after sending]"
REDACTED_UNSENT = "[redacted: the code expired before it was sent]"


def render_body(template: str, locale: str, *, footer: bool = True, **context) -> str:
    """The message in the recipient's language, ending with the opt-out hint (templates/sms/_footer.txt);
    only the reply confirming an opt-out goes without it."""
    with force_locale(locale):
        body = render_template(f"sms/{template}.txt", **context).strip()
        if footer:
            body += " " + render_template("sms/_footer.txt").strip()
    return body


def opted_out(phone: str) -> bool:
    return db.session.get(SmsOptOut, phone) is not None


def queue_sms(
    *, to_phone: str, template: str, locale: str, user=None, sensitive: bool = False,
    kind: SmsKind | None = None, send_at: datetime | None = None, **context
) -> OutboundSms | None:
    """Add an outbox row to the caller's transaction; nothing leaves until the worker runs.

    A one-time code goes at once; anything else is not queued for a number that opted out, and waits
    for the end of the recipient's quiet hours when it falls inside them (`send_at`, default now).
    """
    kind = kind or (SmsKind.CODE if sensitive else SmsKind.NOTICE)
    if kind not in IGNORES_OPT_OUT and opted_out(to_phone):
        return None
    due = send_at or utcnow()
    if kind != SmsKind.CODE and user is not None:
        from app.reminders.quiet import outside_quiet_hours

        due = outside_quiet_hours(due, getattr(user, "time_zone", None))
    message = OutboundSms(
        user_id=getattr(user, "id", None),
        to_phone=to_phone,
        purpose=template,
        kind=kind,
        body=render_body(template, locale, **context),
        is_sensitive=sensitive,
        scheduled_for=due,
        next_attempt_at=due,
    )
    db.session.add(message)
    db.session.flush()
    return message


# Sending happens in three steps so that nothing waits on the provider while holding the database:
#
# 1. `take_due` claims a batch in one short transaction: each row becomes `sending` with a lease
#    (`claimed_by`, `lease_expires_at`); FOR UPDATE SKIP LOCKED on PostgreSQL, so two workers never
#    take the same row. The job commits.
# 2. For each message, `begin_attempt` renews the lease and counts the attempt (a short
#    transaction), then the provider is called with no transaction open: no row lock, and on
#    SQLite no write lock.
# 3. `record_sent` / `record_failure` write the outcome in another short transaction.
#
# A worker that dies mid-batch leaves its rows `sending`; once the lease runs out they are claimed
# again. The one unavoidable window is a message the provider accepted whose outcome we had not
# yet written when the worker died: it is sent again after the lease. Closing it would need the
# provider to deduplicate on a key of ours; a second copy of a text is the lesser harm than a
# message never sent, so the outbox accepts it (at most one message per dead worker).


def new_claimant() -> str:
    """Names this worker process and this claim, so a row reclaimed later is told apart."""
    return f"{socket.gethostname()[:80]}:{os.getpid()}:{secrets.token_hex(4)}"


def _lease_until(now):
    return now + timedelta(seconds=current_app.config["SMS_SEND_LEASE_SECONDS"])


def take_due(limit: int, claimant: str) -> list[OutboundSms]:
    """Claim up to `limit` due messages (queued, or `sending` under a lapsed lease) for `claimant`.

    Returns every row handled; those now `sending` are the caller's to send. A lapsed row whose
    last allowed attempt had started is closed as failed instead: it may have been delivered.
    """
    now = utcnow()
    statement = (
        select(OutboundSms)
        .where(or_(
            and_(OutboundSms.status == SmsStatus.QUEUED, OutboundSms.next_attempt_at <= now),
            and_(OutboundSms.status == SmsStatus.SENDING, OutboundSms.lease_expires_at <= now),
        ))
        .order_by(OutboundSms.next_attempt_at, OutboundSms.id)
        .limit(limit)
        .execution_options(populate_existing=True)
    )
    rows = db.session.scalars(claim(statement, db.engine.dialect.name)).all()
    max_attempts = current_app.config["SMS_MAX_ATTEMPTS"]
    stopped = _opted_out_among({m.to_phone for m in rows if m.kind not in IGNORES_OPT_OUT})
    for message in rows:
        if message.kind not in IGNORES_OPT_OUT and message.to_phone in stopped:
            # The number answered STOP after this was queued: it never leaves.
            MACHINE.move(message, SmsStatus.CANCELLED)
            message.last_error = "the recipient opted out"
            message.lease_expires_at = None
            continue
        if message.status == SmsStatus.SENDING:
            log.warning("SMS %s: lease of %s lapsed; claiming it again", message.id, message.claimed_by)
            if message.attempts >= max_attempts:
                MACHINE.move(message, SmsStatus.FAILED)
                message.last_error = "worker stopped during the last attempt; delivery unknown"
                message.lease_expires_at = None
                continue
        else:
            MACHINE.move(message, SmsStatus.SENDING)
        message.claimed_by = claimant
        message.lease_expires_at = _lease_until(now)
    db.session.flush()
    return rows


def _opted_out_among(phones: set[str]) -> set[str]:
    if not phones:
        return set()
    return set(db.session.scalars(select(SmsOptOut.phone).where(SmsOptOut.phone.in_(phones))))


def begin_attempt(message_id: int, claimant: str) -> bool:
    """Renew the lease and count the attempt, if the message is still ours to send.

    False when another worker reclaimed it after our lease lapsed, or it was closed meanwhile
    (its code expired): then it must not be sent.
    """
    now = utcnow()
    result = db.session.execute(
        update(OutboundSms)
        .where(OutboundSms.id == message_id, OutboundSms.status == SmsStatus.SENDING,
               OutboundSms.claimed_by == claimant)
        .values(attempts=OutboundSms.attempts + 1, lease_expires_at=_lease_until(now))
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def _locked(message_id: int) -> OutboundSms:
    return db.session.get(OutboundSms, message_id, with_for_update=True, populate_existing=True)


def record_sent(message_id: int, claimant: str, provider_message_id: str) -> None:
    """The provider accepted the message: mark it sent and blank a one-time code.

    One guarded UPDATE (it is once per message on the worker's hot path): it moves only a `sending`
    row, whoever holds the lease now, since the message did leave.
    """
    now = utcnow()
    moved = db.session.execute(MACHINE.guarded_update(
        OutboundSms, message_id, SmsStatus.SENT, sent_at=now, provider_message_id=provider_message_id,
        last_error=None, lease_expires_at=None,
        body=case((OutboundSms.is_sensitive, REDACTED), else_=OutboundSms.body),
        redacted_at=case((OutboundSms.is_sensitive, now), else_=OutboundSms.redacted_at),
    ).returning(OutboundSms.claimed_by)).first()
    if moved is None:
        # Closed while we were sending (its code expired, or a reclaim ran out of attempts).
        status = db.session.scalar(select(OutboundSms.status).where(OutboundSms.id == message_id))
        log.warning("SMS %s delivered as %s although it is already %s",
                    message_id, provider_message_id, status)
    elif moved.claimed_by != claimant:
        log.warning("SMS %s delivered by %s after its lease passed to %s",
                    message_id, claimant, moved.claimed_by)


def record_failure(message_id: int, claimant: str, error: str, *, code: int | None = None,
                   permanent: bool = False) -> None:
    """The provider refused: queue the message again with a growing delay, or give up (at once when
    the refusal is permanent: the number opted out at the carrier, is invalid or not a mobile)."""
    message = _locked(message_id)
    if message.status != SmsStatus.SENDING or message.claimed_by != claimant:
        return  # no longer ours: whoever holds it now decides
    message.last_error = error[:255]
    message.error_code = code
    message.lease_expires_at = None
    message.claimed_by = None
    if permanent or message.attempts >= current_app.config["SMS_MAX_ATTEMPTS"]:
        MACHINE.move(message, SmsStatus.FAILED)
    else:
        MACHINE.move(message, SmsStatus.QUEUED)
        message.next_attempt_at = utcnow() + timedelta(minutes=2**message.attempts)
    log.warning("SMS %s failed (attempt %s): %s", message_id, message.attempts, error)
    db.session.flush()


def redact_unsent(*, user_id: int, purpose: str) -> int:
    """Blank the user's unsent one-time codes of this purpose, and stop any still queued.

    Called when the user's code of that purpose expires: it is their only live one (a new code
    expires the older ones), so every unsent message of that purpose holds a dead code.
    """
    statement = (
        select(OutboundSms)
        .where(OutboundSms.user_id == user_id, OutboundSms.purpose == purpose,
               OutboundSms.is_sensitive.is_(True), OutboundSms.redacted_at.is_(None),
               OutboundSms.status.in_((SmsStatus.QUEUED, SmsStatus.SENDING, SmsStatus.FAILED)))
        .order_by(OutboundSms.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    now = utcnow()
    rows = db.session.scalars(statement).all()
    for message in rows:
        if message.status != SmsStatus.FAILED:
            # A worker holding a `sending` row finds it closed and does not send it.
            MACHINE.move(message, SmsStatus.FAILED)
            message.last_error = "the code expired before it was sent"
        message.body = REDACTED_UNSENT
        message.redacted_at = now
        message.lease_expires_at = None
    db.session.flush()
    return len(rows)


def send_due_sms(limit: int) -> int:
    """Worker job: claim, send and record due messages, each step in its own short transaction.

    Unlike the other jobs it commits itself: the provider call must happen with no transaction
    open. Only plain values cross a commit, so nothing reloads (and re-opens one) while sending.
    """
    claimant = new_claimant()
    rows = take_due(limit, claimant)
    batch = [(m.id, m.to_phone, m.body) for m in rows if m.status == SmsStatus.SENDING]
    db.session.commit()
    session = db.session()
    # Only plain values go on, so the per-message commits need not expire the claimed rows again:
    # each commit would otherwise walk the whole batch (its cost grew with the batch's square).
    expiring, session.expire_on_commit = session.expire_on_commit, False
    try:
        _send_batch(batch, claimant)
    finally:
        session.expire_on_commit = expiring
        for message in rows:  # changed in the database since they were read
            session.expire(message)
    return len(rows)


def _send_batch(batch: list[tuple[int, str, str]], claimant: str) -> None:
    pace = Pace(current_app.config["SMS_SEND_RATE"])
    for message_id, to_phone, body in batch:
        started = begin_attempt(message_id, claimant)
        # Commits the previous message's outcome with this one's start: one commit per message, and
        # still nothing open while the provider is called.
        db.session.commit()
        if not started:
            continue
        pace.wait()
        # Any other exception leaves the row `sending` (outcome unknown) until its lease lapses.
        try:
            provider_message_id = sms.backend().send(to_phone, body)
        except sms.SmsSendError as exc:
            record_failure(message_id, claimant, str(exc), code=exc.code, permanent=exc.permanent)
        else:
            record_sent(message_id, claimant, provider_message_id)
    db.session.commit()


class Pace:
    """At most `rate` sends per second from this worker (0: no limit), without bursts."""

    def __init__(self, rate: float):
        self.interval = 1 / rate if rate and rate > 0 else 0.0
        self.next_at = time.monotonic()

    def wait(self) -> None:
        if not self.interval:
            return
        now = time.monotonic()
        if self.next_at > now:
            time.sleep(self.next_at - now)
        self.next_at = max(self.next_at, now) + self.interval


# Twilio's MessageStatus values that close a sent message, and the status each gives the row.
CARRIER_OUTCOMES = {"delivered": SmsStatus.DELIVERED, "undelivered": SmsStatus.UNDELIVERED,
                    "failed": SmsStatus.FAILED}


def apply_status_callback(provider_message_id: str, reported: str, error_code: int | None) -> bool:
    """A signed status callback: move the sent message to what the carrier reported. Statuses before
    the outcome (queued, sending, sent) and a report after the outcome change nothing. False when no
    message has that id."""
    message = db.session.scalar(select(OutboundSms).where(
        OutboundSms.provider_message_id == provider_message_id).with_for_update())
    if message is None:
        return False
    outcome = CARRIER_OUTCOMES.get(reported)
    if outcome is not None and message.status == SmsStatus.SENT:
        MACHINE.move(message, outcome)
        message.status_reported_at = utcnow()
        if error_code is not None:
            message.error_code = error_code
            message.last_error = f"carrier reported {reported} ({error_code})"
        db.session.flush()
    return True
