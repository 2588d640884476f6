"""Admin page listing audit events, filtered by action, actor, patient and date."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import render_template, request
from flask_babel import get_timezone
from sqlalchemy import select

from app.accounts.models import Role
from app.audit import bp
from app.audit.models import AuditEvent
from app.extensions import db
from app.policy import roles_required

PAGE_SIZE = 100


def _day_start(value: str, days: int = 0):
    """A yyyy-mm-dd date in the viewer's zone, as an aware instant (None if blank or bad)."""
    try:
        day = datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        return None
    zone = ZoneInfo(str(get_timezone()))
    return datetime.combine(day + timedelta(days=days), time.min, tzinfo=zone)


@bp.route("/")
@roles_required(Role.ADMIN)
def events():
    args = request.args
    page = max(args.get("page", 1, type=int), 1)
    statement = select(AuditEvent).order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
    if action := args.get("action", "").strip():
        statement = statement.where(AuditEvent.action.startswith(action))
    if (actor_id := args.get("actor_id", type=int)) is not None:
        statement = statement.where(AuditEvent.actor_id == actor_id)
    if (patient_id := args.get("patient_id", type=int)) is not None:
        statement = statement.where(AuditEvent.patient_id == patient_id)
    if object_type := args.get("object_type", "").strip():
        statement = statement.where(AuditEvent.object_type == object_type)
    if start := _day_start(args.get("date_from", "")):
        statement = statement.where(AuditEvent.occurred_at >= start)
    if end := _day_start(args.get("date_to", ""), days=1):
        statement = statement.where(AuditEvent.occurred_at < end)
    rows = db.session.scalars(statement.limit(PAGE_SIZE + 1).offset((page - 1) * PAGE_SIZE)).all()
    return render_template("audit/events.html", events=rows[:PAGE_SIZE],
                           has_next=len(rows) > PAGE_SIZE, page=page, args=args)
