"""The patient's reminders page: each medicine's switch, their own dose times, what goes out next."""

from types import SimpleNamespace

from flask import abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select

from app.accounts.models import Role
from app.audit.services import record_read
from app.database import utcnow
from app.extensions import db
from app.notifications.models import OutboundSms, SmsOptOut, SmsStatus
from app.patients.models import ConsentKind
from app.patients.queries import active_consent
from app.policy import patient_data, roles_required
from app.reminders import bp, plans, schedule, settings
from app.reminders.models import ReminderLine
from app.transaction import perform

# The page lists the next few messages; the whole plan can be weeks of them.
UPCOMING_SHOWN = 5


def _page(patient, errors: dict | None = None, submitted: dict | None = None, code: int = 200):
    lines = plans.current_lines(patient.id, utcnow())  # with their drugs, in one statement
    frequencies = sorted({line.frequency for line in lines if schedule.times_per_day(line.frequency)},
                         key=lambda f: (schedule.times_per_day(f), f))
    times = settings.dose_times_for(patient, frequencies)
    if submitted:
        times.update({f: v for f, v in submitted.items() if f in times})
    upcoming = db.session.scalars(
        select(OutboundSms).where(OutboundSms.user_id == patient.id, OutboundSms.status == SmsStatus.QUEUED,
                                  OutboundSms.kind.in_(plans.PLANNED_KINDS))
        .order_by(OutboundSms.next_attempt_at, OutboundSms.id).limit(UPCOMING_SHOWN)).all()
    record_read("reminders.viewed", patient=patient, detail=f"medicines={len(lines)}")
    page = render_template(
        "reminders/index.html", lines=lines, times=times, errors=errors or {}, upcoming=upcoming,
        form=FlaskForm(), consented=active_consent(patient, ConsentKind.SMS_REMINDERS) is not None,
        opted_out=patient.phone is not None and db.session.get(SmsOptOut, patient.phone) is not None,
        phone_verified=patient.has_verified_phone)
    db.session.commit()
    return page, code


@bp.route("/")
@roles_required(Role.PATIENT)
@patient_data
def index():
    return _page(current_user._get_current_object())


@bp.route("/lines/<int:line_id>", methods=["POST"])
@roles_required(Role.PATIENT)
@patient_data
def switch(line_id: int):
    patient = current_user._get_current_object()
    if not FlaskForm().validate_on_submit():
        abort(400)
    line = db.session.get(ReminderLine, line_id)
    if line is None or line.patient_id != patient.id:
        abort(404)  # another patient's medicine looks like a missing one
    enabled = request.form.get("enabled") == "1"
    perform(lambda: settings.switch(patient, line, enabled),
            success=_("Reminders for this medicine are on.") if enabled
            else _("Reminders for this medicine are off."))
    return redirect(url_for("reminders.index", _anchor=f"line-{line_id}"), code=303)


@bp.route("/times", methods=["POST"])
@roles_required(Role.PATIENT)
@patient_data
def dose_times():
    patient = current_user._get_current_object()
    if not FlaskForm().validate_on_submit():
        abort(400)
    chosen = {name.removeprefix("times-"): request.form.getlist(name)
              for name in request.form if name.startswith("times-")
              and name.removeprefix("times-") in schedule.FREQUENCIES
              and schedule.times_per_day(name.removeprefix("times-"))}
    fields = _Fields()
    if perform(lambda: settings.save_dose_times(patient, chosen), form=fields,
               success=_("Your dose times are saved; the reminders follow them from now on.")):
        return redirect(url_for("reminders.index"), code=303)
    return _page(patient, errors=fields.errors_by_name(), submitted=chosen, code=422)


class _Fields:
    """Stands in for a form with one field per frequency ("times-BID"): perform() puts each refusal's
    reason on its field, and the page shows it under that frequency's inputs."""

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        field = SimpleNamespace(errors=[])
        self.__dict__[name] = field
        return field

    def errors_by_name(self) -> dict[str, str]:
        return {name: " ".join(field.errors) for name, field in self.__dict__.items() if field.errors}
