"""What the patient changes on the reminders page: a medicine's switch and their own dose times.

Each change rebuilds the plan in the caller's transaction and leaves an audit row.
"""

from flask_babel import lazy_gettext as _l

from app.audit.services import record
from app.errors import DomainError
from app.extensions import db
from app.reminders import plans, schedule
from app.reminders.models import ReminderLine, ReminderPreference

NOT_YOURS = _l("This medicine is not on your reminders.")


def switch(patient, line: ReminderLine, enabled: bool) -> None:
    if line.patient_id != patient.id:
        raise DomainError(NOT_YOURS)
    line.enabled = enabled
    db.session.flush()
    record("reminders.switched", obj=line, patient=patient, detail="on" if enabled else "off")
    plans.rebuild(patient)


def save_dose_times(patient, chosen: dict[str, list[str]]) -> None:
    """Store the patient's times per frequency ({"BID": ["07:30", "19:30"]}); a frequency left at its
    defaults is not stored. Refused, with the reason on the field, when a time is not valid."""
    problems, times = {}, {}
    for frequency, values in chosen.items():
        values = [value.strip() for value in values]
        problem = schedule.dose_times_problem(frequency, values)
        if problem is not None:
            problems[f"times-{frequency}"] = _l("Give %(count)d different times of day as HH:MM.",
                                                count=schedule.times_per_day(frequency))
            continue
        normalised = schedule.normalise_dose_times(frequency, values)
        if normalised != sorted(schedule.DEFAULT_DOSE_TIMES[frequency]):
            times[frequency] = normalised
    if problems:
        raise DomainError(problems)
    preference = db.session.get(ReminderPreference, patient.id)
    if preference is None:
        preference = ReminderPreference(patient_id=patient.id, dose_times={})
        db.session.add(preference)
    preference.dose_times = {**{k: v for k, v in preference.dose_times.items() if k not in chosen}, **times}
    db.session.flush()
    detail = ";".join(f"{k}={','.join(v)}" for k, v in sorted(times.items())) or "defaults"
    record("reminders.dose_times_changed", object_type="reminder_preferences", object_id=patient.id,
           patient=patient, detail=detail)
    plans.rebuild(patient)


def dose_times_for(patient, frequencies) -> dict[str, list[str]]:
    """The times the page shows per frequency: the patient's own, else the defaults."""
    preference = db.session.get(ReminderPreference, patient.id)
    own = preference.dose_times if preference is not None else {}
    return {f: list(own.get(f) or schedule.DEFAULT_DOSE_TIMES[f]) for f in frequencies}
