"""Admin page listing audit events, filtered by action, actor, patient and date."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import flash, render_template, request
from flask_babel import get_timezone
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app import limits, numbers
from app.accounts.models import Role
from app.audit import bp, labels
from app.audit.models import AuditEvent
from app.audit.services import record
from app.extensions import db
from app.pagination import Sort, paginate
from app.policy import patient_data, roles_required

PAGE_SIZE = 100
FILTERS = ("action", "actor_id", "patient_id", "object_type", "date_from", "date_to")
# Newest first; events written in one INSERT share a time, and the id orders them (ix_audit_events_time_id).
NEWEST_FIRST = Sort([AuditEvent.occurred_at, AuditEvent.id], [datetime, int], descending=True)


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
    statement = select(AuditEvent).options(selectinload(AuditEvent.actor), selectinload(AuditEvent.patient))
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
    page = paginate(statement, NEWEST_FIRST, after=after, size=PAGE_SIZE, key=lambda e: (e.occurred_at, e.id))
    # Reading the trail is itself audited: one row with the search, written after the query so the
    # page does not list its own visit.
    record("audit.viewed", object_type="audit_events",
           detail=request.query_string.decode("utf-8", "replace") or "-")
    # The names are translated once per page, not once per row; the filter lists them by code, which
    # keeps a subject's actions together.
    action_labels = {code: str(label) for code, label in labels.ACTIONS.items()}
    filters = {name: args.get(name, "") for name in FILTERS}
    body = render_template("audit/events.html", events=page.rows, page=page, after=after, filters=filters,
                           args=args, action_labels=action_labels,
                           action_choices=sorted(action_labels.items()),
                           object_labels={kind: str(label) for kind, label in labels.OBJECTS.items()})
    db.session.commit()
    return body
