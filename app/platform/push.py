"""The worker's push: claim due events under a lease, send them as one signed FHIR batch, record each
entry's answer. No transaction is open while the platform is being called.

1. `take_due` claims up to a batch of due events (FOR UPDATE SKIP LOCKED on PostgreSQL, so two
   workers never take the same row), stamps the lease and counts the attempt; the job commits.
2. Each payload is checked against the FHIR R4 models; one that fails is marked dead and never sent.
   The rest go in one Bundle of type batch, each entry a conditional create on its own event key.
3. The platform's batch-response says, entry by entry, stored (201) or already had (200): delivered;
   a final refusal (4xx): dead with the reason; anything else, or no answer at all: retried with
   exponential backoff and jitter, capped, for as long as it takes (an event is never given up on
   for a network or server fault).

A worker that dies after sending and before recording leaves its rows under a lease; once it lapses
another worker sends them again and the platform answers 200 for each key it already stored.
"""

import hashlib
import json
import logging
import random
from collections import defaultdict
from datetime import timedelta

from flask import current_app
from sqlalchemy import and_, or_, select, update

from app.database import claim, utcnow
from app.extensions import db
from app.integrations.data_platform import PlatformClient, PushError, is_retryable
from app.notifications.services import new_claimant
from app.outbox.models import OutboxEvent, OutboxStatus
from app.outbox.states import MACHINE
from app.platform import fhir

log = logging.getLogger("platform")
# Batches one run of the job sends at most, so the worker's other jobs still get their turn.
BATCHES_PER_RUN = 10
_clients: dict[tuple, PlatformClient] = {}


def client() -> PlatformClient:
    """One HTTP session per worker process and target, so batches reuse the connection."""
    config = current_app.config
    target = (config["PLATFORM_PUSH_URL"], config["PLATFORM_PUSH_SECRET"], config["PLATFORM_TIMEOUT_SECONDS"])
    if target not in _clients:
        _clients[target] = PlatformClient(*target)
    return _clients[target]


def take_due(limit: int, claimant: str) -> list[tuple[int, str, str, int]]:
    """Claim up to `limit` due events: [(id, key, payload, attempts)], the lease stamped.

    The locking SELECT reads ids only and the UPDATE that stamps the lease returns the payloads: a
    payload is a few kilobytes, and a plan that sorts the due rows before the LIMIT (a table that
    grew since the statistics were taken) would otherwise carry every due payload through the sort."""
    now = utcnow()
    statement = (
        select(OutboxEvent.id)
        .where(OutboxEvent.status == OutboxStatus.PENDING, OutboxEvent.next_attempt_at <= now,
               or_(OutboxEvent.lease_expires_at.is_(None), OutboxEvent.lease_expires_at <= now))
        .order_by(OutboxEvent.next_attempt_at, OutboxEvent.id)
        .limit(limit)
    )
    ids = db.session.scalars(claim(statement, db.engine.dialect.name)).all()
    if not ids:
        return []
    lease = now + timedelta(seconds=current_app.config["PLATFORM_LEASE_SECONDS"])
    claimed = {row[0]: tuple(row) for row in db.session.execute(
        update(OutboxEvent).where(OutboxEvent.id.in_(ids))
        .values(claimed_by=claimant, lease_expires_at=lease, attempts=OutboxEvent.attempts + 1)
        .returning(OutboxEvent.id, OutboxEvent.idempotency_key, OutboxEvent.payload, OutboxEvent.attempts)
        .execution_options(synchronize_session=False))}
    return [claimed[event_id] for event_id in ids]  # in the order claimed: oldest due first


def batch_key(keys) -> str:
    """The batch's own Idempotency-Key header: the same events give the same key."""
    return hashlib.sha256("\n".join(sorted(keys)).encode()).hexdigest()[:40]


def bundle_body(events: list[tuple[str, dict]]) -> bytes:
    """Exactly the bytes sent for [(key, resource)]."""
    bundle = fhir.bundle([fhir.entry(key, resource) for key, resource in events])
    return json.dumps(bundle, ensure_ascii=False, separators=(",", ":")).encode()


def checked(batch) -> tuple[list, dict[int, str]]:
    """Split a claimed batch into what may be sent [(id, key, resource, attempts)] and {id: why not}."""
    sendable, invalid = [], {}
    for event_id, key, payload, attempts in batch:
        try:
            resource = json.loads(payload)
        except ValueError:
            invalid[event_id] = "the stored payload is not JSON"
            continue
        problem = fhir.validate(resource)
        if problem:
            invalid[event_id] = f"invalid FHIR, not sent: {problem}"
        else:
            sendable.append((event_id, key, resource, attempts))
    return sendable, invalid


def _status_code(entry: dict) -> int | None:
    text = str((entry.get("response") or {}).get("status", "")).strip()
    head = text.split(" ", 1)[0]
    return int(head) if head.isdigit() and len(head) == 3 else None


def _reason(entry: dict, code: int) -> str:
    outcome = (entry.get("response") or {}).get("outcome") or {}
    issues = outcome.get("issue") or [{}]
    detail = issues[0].get("diagnostics") if isinstance(issues[0], dict) else None
    return f"refused by the platform ({code}): {detail or 'no reason given'}"[:480]


def outcomes(sendable, reply: dict) -> tuple[list[int], dict[int, str], dict[int, str]]:
    """Read a batch-response: (delivered ids, {id: retry error}, {id: dead reason})."""
    entries = reply.get("entry") if reply.get("type") == "batch-response" else None
    if not isinstance(entries, list) or len(entries) != len(sendable):
        error = "the platform's reply does not answer each entry of the batch"
        return [], {row[0]: error for row in sendable}, {}
    delivered, retry, dead = [], {}, {}
    for (event_id, *_rest), entry in zip(sendable, entries, strict=True):
        code = _status_code(entry) if isinstance(entry, dict) else None
        if code is not None and 200 <= code < 300:
            delivered.append(event_id)
        elif code is None or is_retryable(code):
            retry[event_id] = f"entry answered {code or 'without a status'}; will retry"
        else:
            dead[event_id] = _reason(entry, code)
    return delivered, retry, dead


def backoff(attempts: int) -> timedelta:
    """Exponential from the base, capped; half of it jittered so failed workers do not retry in step."""
    config = current_app.config
    ceiling = min(config["PLATFORM_MAX_BACKOFF_SECONDS"],
                  config["PLATFORM_RETRY_BASE_SECONDS"] * 2 ** min(max(attempts - 1, 0), 30))
    return timedelta(seconds=ceiling / 2 + random.uniform(0, ceiling / 2))  # noqa: S311  (not a secret)


def record(claimant: str, delivered: list[int], retry: dict[int, str], dead: dict[int, str],
           attempts: dict[int, int]) -> None:
    """Write the outcomes. Delivered counts whoever holds the row now (the event did arrive); a retry
    or a death only applies to a row still ours and still pending."""
    now = utcnow()
    if delivered:
        db.session.execute(MACHINE.guarded_update_many(
            OutboxEvent, OutboxEvent.id.in_(delivered), OutboxStatus.DELIVERED, delivered_at=now,
            lease_expires_at=None, last_error=""))  # claimed_by stays: which worker delivered it
    mine = and_(OutboxEvent.status == OutboxStatus.PENDING, OutboxEvent.claimed_by == claimant)
    by_reason: dict[str, list[int]] = defaultdict(list)
    for event_id, reason in dead.items():
        by_reason[reason].append(event_id)
    for reason, ids in by_reason.items():
        db.session.execute(MACHINE.guarded_update_many(
            OutboxEvent, and_(OutboxEvent.id.in_(ids), mine), OutboxStatus.DEAD, last_error=reason,
            claimed_by=None, lease_expires_at=None))
    by_attempt: dict[tuple[int, str], list[int]] = defaultdict(list)
    for event_id, error in retry.items():
        by_attempt[(attempts[event_id], error)].append(event_id)
    for (count, error), ids in by_attempt.items():
        db.session.execute(update(OutboxEvent).where(OutboxEvent.id.in_(ids), mine)
                           .values(next_attempt_at=now + backoff(count), last_error=error[:480],
                                   claimed_by=None, lease_expires_at=None)
                           .execution_options(synchronize_session=False))


def push_batch(claimant: str) -> int:
    """Claim, send and record one batch; returns how many events it handled."""
    batch = take_due(current_app.config["PLATFORM_BATCH_SIZE"], claimant)
    db.session.commit()
    if not batch:
        return 0
    sendable, invalid = checked(batch)
    attempts = {row[0]: row[3] for row in batch}
    delivered, retry, dead = [], {}, dict(invalid)
    if sendable:
        body = bundle_body([(key, resource) for _id, key, resource, _n in sendable])
        try:
            reply = client().post(body, batch_key(key for _id, key, _r, _n in sendable))
        except PushError as error:
            log.warning("platform push of %s events failed: %s", len(sendable), error)
            target = retry if error.retryable else dead
            target.update({row[0]: str(error) for row in sendable})
        else:
            delivered, retry, refused = outcomes(sendable, reply.body)
            dead.update(refused)
    record(claimant, delivered, retry, dead, attempts)
    db.session.commit()
    if dead:
        log.warning("platform push: %s events dead, e.g. %s", len(dead), next(iter(dead.values())))
    return len(batch)


def push_due(_limit: int) -> int:
    """Worker job: push batches until none is due (at most BATCHES_PER_RUN). Commits its own steps."""
    if not current_app.config["PLATFORM_PUSH_URL"]:
        return 0
    claimant = new_claimant()
    handled = 0
    for _ in range(BATCHES_PER_RUN):
        count = push_batch(claimant)
        handled += count
        if count < current_app.config["PLATFORM_BATCH_SIZE"]:
            break
    return handled
