"""Operations pages for the push to the data platform: its health, one event as it is sent, and replays."""

import json
from urllib.parse import urlsplit

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from app.accounts.models import Role
from app.audit.services import record
from app.extensions import db
from app.i18n import current_language
from app.labels import in_language
from app.outbox.models import OutboxEvent, OutboxStatus
from app.pagination import Sort, paginate
from app.platform import backfill, bp, labels, push, queries
from app.policy import patient_data, roles_required
from app.transaction import perform

PAGE_SIZE = 50
NEWEST_FIRST = Sort([OutboxEvent.id], [int], descending=True)
# What the list prints, as plain rows: never the payload, which is the one large column.
LISTED = (OutboxEvent.id, OutboxEvent.event_type, OutboxEvent.resource_type, OutboxEvent.status,
          OutboxEvent.attempts, OutboxEvent.created_at, OutboxEvent.next_attempt_at, OutboxEvent.delivered_at,
          OutboxEvent.last_error)


def push_target(url: str) -> str:
    """Where events go, as scheme, host and path: credentials, query and fragment may hold secrets."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:  # a port that is not a number: say nothing of it
        port = ""
    return f"{parts.scheme}://{host}{port}{parts.path}" if host else ""


@bp.route("/")
@roles_required(Role.ADMIN)
def health():
    status = request.args.get("status", "")
    status = status if status in {s.value for s in OutboxStatus} else ""
    after = request.args.get("after", "")
    statement = select(*LISTED)
    if status:
        statement = statement.where(OutboxEvent.status == OutboxStatus(status))
    page = paginate(statement, NEWEST_FIRST, after=after, size=PAGE_SIZE, key=lambda row: (row.id,),
                    entities=False)
    summary = queries.health()
    language = current_language()
    url = current_app.config["PLATFORM_PUSH_URL"]
    # The labels once per page as plain dicts, not once per listed row.
    return render_template("platform/health.html", summary=summary, events=page.rows, page=page,
                           after=after, status=status, statuses=list(OutboxStatus),
                           status_names=in_language(labels.STATUSES, language),
                           type_names=in_language(labels.EVENT_TYPES, language),
                           oldest=labels.waited(summary["oldest_pending_seconds"]),
                           target=push_target(url) if url else "")


def _sent_as(event: OutboxEvent) -> tuple[str | None, str | None]:
    """(the batch Bundle of this event alone, pretty-printed; why it would not be sent): one is None."""
    sendable, invalid = push.checked([(event.id, event.idempotency_key, event.payload, event.attempts)])
    if invalid:
        return None, invalid[event.id]
    body = push.bundle_body([(key, resource) for _id, key, resource, _n in sendable])
    return json.dumps(json.loads(body), indent=2, ensure_ascii=False), None


@bp.route("/events/<int:event_id>")
@roles_required(Role.ADMIN)
@patient_data
def event(event_id: int):
    found = db.session.get(OutboxEvent, event_id) or abort(404)
    bundle, problem = _sent_as(found)
    # De-identified, but still the record of what the platform holds about one patient: audited.
    record("platform.event_viewed", obj=found, patient=found.patient_id)
    language = current_language()
    body = render_template("platform/event.html", event=found, bundle=bundle, problem=problem,
                           status_name=labels.status(found.status, language),
                           type_name=labels.event_type(found.event_type, language))
    db.session.commit()
    return body


@bp.route("/events/<int:event_id>/replay", methods=["POST"])
@roles_required(Role.ADMIN)
def replay_event(event_id: int):
    found = db.session.get(OutboxEvent, event_id) or abort(404)
    queued = []

    def replay():
        queued.append(backfill.replay_dead(found.id))
        record("platform.event_replayed", obj=found, patient=found.patient_id, detail=f"queued={queued[0]}")

    perform(replay)
    if queued[0]:
        flash(_("Event %(id)d is queued again; the worker sends it on its next run.", id=found.id), "success")
    elif found.status == OutboxStatus.DEAD:  # re-read after the commit: still dead, so the consent stopped it
        flash(_("Event %(id)d was not queued: its patient no longer shares data with the data platform, "
                "so it is never sent.", id=found.id), "warning")
    else:
        flash(_("Event %(id)d was not queued: only a dead event can be replayed.", id=found.id), "warning")
    return redirect(url_for("platform.event", event_id=found.id))


@bp.route("/replay-dead", methods=["POST"])
@roles_required(Role.ADMIN)
def replay_all():
    queued = []

    def replay():
        queued.append(backfill.replay_dead())
        record("platform.dead_replayed", object_type="outbox_events", detail=f"queued={queued[0]}")

    perform(replay)
    # Dead events of patients who withdrew data sharing stay dead: the count says how many went back.
    flash(_("Dead events queued again: %(count)d. Those of patients who no longer share data stay dead.",
            count=queued[0]), "success" if queued[0] else "info")
    return redirect(url_for("platform.health"))
