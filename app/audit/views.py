"""Admin page listing audit events, filtered by action, actor, patient and date."""

from datetime import datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from flask import flash, render_template, request
from flask_babel import force_locale, get_timezone
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import aliased

from app import limits, numbers
from app.accounts.models import Role, User
from app.audit import bp, labels
from app.audit.models import AuditEvent
from app.audit.services import record_read
from app.extensions import db
from app.i18n import current_language
from app.pagination import Sort, paginate
from app.policy import patient_data, roles_required

PAGE_SIZE = 100
FILTERS = ("action", "actor_id", "patient_id", "object_type", "date_from", "date_to")
# Newest first; events written in one INSERT share a time, and the id orders them (ix_audit_events_time_id).
NEWEST_FIRST = Sort([AuditEvent.occurred_at, AuditEvent.id], [datetime, int], descending=True)


@cache
def _listed():
    """What the page prints of an event and the names of its actor and patient, as plain rows of one
    query, before the filters (built once): events and both users as ORM objects (every column of each
    account, a second query for them) cost more than printing the page's rows."""
    actor, patient = aliased(User), aliased(User)
    return (select(AuditEvent.id, AuditEvent.occurred_at, AuditEvent.actor_id, AuditEvent.actor_role,
                   AuditEvent.action, AuditEvent.object_type, AuditEvent.object_id, AuditEvent.patient_id,
                   AuditEvent.ip, AuditEvent.detail,
                   actor.display_name.label("actor_name"), patient.display_name.label("patient_name"))
            .outerjoin(actor, actor.id == AuditEvent.actor_id)
            .outerjoin(patient, patient.id == AuditEvent.patient_id))


@cache
def _names(language: str) -> tuple[dict[str, str], list[tuple[str, str]], dict[str, str]]:
    """The actions' and object types' names in `language`, and the actions for the filter (by code, which
    keeps a subject's actions together): fixed, so translated once per language rather than all of them
    on every visit, which was a tenth of the page's time. Read-only: every request shares them."""
    with force_locale(language):
        actions = {code: str(label) for code, label in labels.ACTIONS.items()}
        objects = {kind: str(label) for kind, label in labels.OBJECTS.items()}
    return actions, sorted(actions.items()), objects


def _day_start(value: str, days: int = 0):
    """A yyyy-mm-dd date in the viewer's zone, as an aware instant; None if blank, or if bad (with a
    warning). Days are clamped into FILTER_DAYS, which holds every event: the first and last days of
    the calendar have no day before or after them, nor a UTC instant."""
    text = value.strip()
    if not text:
        return None
    try:
        day = datetime.strptime(text, "%Y-%m-%d").date() if len(text) <= 10 else None
    except ValueError:
        day = None
    if day is None:
        flash(_("“%(value)s” is not a date like 2024-05-31; that filter was not applied.", value=text[:20]),
              "warning")
        return None
    day = min(max(day, limits.FILTER_DAYS[0]), limits.FILTER_DAYS[1])
    zone = ZoneInfo(str(get_timezone()))
    return datetime.combine(day + timedelta(days=days), time.min, tzinfo=zone)


def _id_filter(name: str, label) -> int | None:
    text = request.args.get(name, "").strip()
    if not text:
        return None
    found = numbers.id_or_none(text)
    if found is None:
        flash(_("“%(value)s” is not a valid %(filter)s; that filter was not applied.", value=text[:20],
                filter=label), "warning")
    return found


@bp.route("/")
@roles_required(Role.ADMIN)
@patient_data
def events():
    args = request.args
    statement = _listed()
    # Actions and object types are short identifiers (at most 60 characters).
    if action := args.get("action", "").strip()[:60]:
        statement = statement.where(AuditEvent.action.startswith(action, autoescape=True))
    if (actor_id := _id_filter("actor_id", _("actor id"))) is not None:
        statement = statement.where(AuditEvent.actor_id == actor_id)
    if (patient_id := _id_filter("patient_id", _("patient id"))) is not None:
        statement = statement.where(AuditEvent.patient_id == patient_id)
    if object_type := args.get("object_type", "").strip()[:60]:
        statement = statement.where(AuditEvent.object_type == object_type)
    if start := _day_start(args.get("date_from", "")):
        statement = statement.where(AuditEvent.occurred_at >= start)
    if end := _day_start(args.get("date_to", ""), days=1):
        statement = statement.where(AuditEvent.occurred_at < end)
    after = args.get("after", "")
    page = paginate(statement, NEWEST_FIRST, after=after, size=PAGE_SIZE, key=lambda e: (e.occurred_at, e.id),
                    entities=False)
    # Reading the trail is itself audited: one row with the search, written after the query so the
    # page does not list its own visit.
    record_read("audit.viewed", object_type="audit_events",
                detail=request.query_string.decode("utf-8", "replace") or "-")
    action_labels, action_choices, object_labels = _names(current_language())
    filters = {name: args.get(name, "") for name in FILTERS}
    body = render_template("audit/events.html", events=page.rows, page=page, after=after, filters=filters,
                           args=args, action_labels=action_labels, action_choices=action_choices,
                           object_labels=object_labels, roles=list(Role))
    db.session.commit()
    return body
