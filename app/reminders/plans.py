"""A patient's reminder plan as outbox rows: built when medicines reach the patient, rebuilt whenever
what it depends on changes (a refund, the patient's dose times, zone or switches, an opt-in).

A rebuild withdraws every dose and refill reminder still queued for the patient and plans again from
the medicines still being taken, so merging doses across orders and moving them with the patient's
choices is one code path. The caller's transaction holds it all.
"""

from datetime import datetime, timedelta
from functools import lru_cache

from flask import current_app
from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import joinedload

from app.database import utcnow
from app.extensions import db
from app.integrations.sms import public_url
from app.notifications.models import OutboundSms, SmsKind, SmsOptOut, SmsStatus
from app.notifications.services import render_body
from app.notifications.states import MACHINE
from app.patients.models import ConsentKind
from app.patients.queries import active_consent
from app.reminders import schedule
from app.reminders.models import DoseReminder, ReminderLine, ReminderPreference

PLANNED_KINDS = (SmsKind.DOSE, SmsKind.REFILL)
# A supply this long past its last day has nothing left to remind of.
FINISHED_AFTER = timedelta(days=1)


def preferences(patient) -> schedule.Preferences:
    chosen = db.session.get(ReminderPreference, patient.id)
    config = current_app.config
    try:
        return schedule.Preferences(
            zone=patient.time_zone or config["BABEL_DEFAULT_TIMEZONE"],
            dose_times=dict(chosen.dose_times) if chosen is not None else {},
            quiet_start=config["SMS_QUIET_START"], quiet_end=config["SMS_QUIET_END"],
            refill_days_before=config["REMINDER_REFILL_DAYS"])
    except ValueError:  # a zone no longer known to the system: the clinic's own
        return schedule.Preferences(zone=config["BABEL_DEFAULT_TIMEZONE"],
                                    quiet_start=config["SMS_QUIET_START"], quiet_end=config["SMS_QUIET_END"],
                                    refill_days_before=config["REMINDER_REFILL_DAYS"])


def record_received(order, now: datetime | None = None) -> list[ReminderLine]:
    """The order's medicines reached the patient (handed over or delivered): remember each line and
    plan its reminders from this moment."""
    received_at = order.completed_at or now or utcnow()
    lines = []
    for line in order.lines:
        item = line.prescription_item
        frequency = str(item.frequency)
        lines.append(ReminderLine(
            patient_id=order.patient_id, order_line_id=line.id, drug_id=line.drug_id, frequency=frequency,
            doses_per_day=schedule.DAILY_DOSES.get(frequency, 1), days_supply=line.days_supply,
            starts_at=received_at))
    db.session.add_all(lines)
    db.session.flush()
    rebuild(order.patient, now=now)
    return lines


def stop_order(order, now: datetime | None = None) -> None:
    """The order's medicines came back or it was refunded: its lines are no longer reminded of."""
    line_ids = [line.id for line in order.lines]
    stopped = db.session.execute(
        update(ReminderLine)
        .where(ReminderLine.order_line_id.in_(line_ids), ReminderLine.stopped_at.is_(None))
        .values(stopped_at=now or utcnow()).execution_options(synchronize_session=False)).rowcount
    if stopped:
        rebuild(order.patient, now=now)


def withdraw(patient_id: int, now: datetime) -> int:
    """Cancel the patient's dose and refill reminders not yet sent, and forget their dose rows."""
    ids = list(db.session.scalars(
        select(OutboundSms.id).where(OutboundSms.user_id == patient_id, OutboundSms.kind.in_(PLANNED_KINDS),
                                     OutboundSms.status == SmsStatus.QUEUED).with_for_update()))
    if ids:
        db.session.execute(delete(DoseReminder).where(DoseReminder.outbound_sms_id.in_(ids))
                           .execution_options(synchronize_session=False))
        db.session.execute(MACHINE.guarded_update_many(
            OutboundSms, OutboundSms.id.in_(ids), SmsStatus.CANCELLED,
            last_error="the reminder plan changed"))
    return len(ids)


def may_text(patient) -> bool:
    """Reminders go only to a verified number whose owner agreed to them and has not answered STOP."""
    return (patient.has_verified_phone and active_consent(patient, ConsentKind.SMS_REMINDERS) is not None
            and db.session.get(SmsOptOut, patient.phone) is None)


def current_lines(patient_id: int, now: datetime) -> list[ReminderLine]:
    """The patient's medicines whose supply has not run out, oldest first, drugs loaded."""
    lines = db.session.scalars(
        select(ReminderLine).where(ReminderLine.patient_id == patient_id, ReminderLine.stopped_at.is_(None))
        .options(joinedload(ReminderLine.drug))
        .order_by(ReminderLine.starts_at, ReminderLine.id)).all()
    return [line for line in lines
            if line.starts_at + timedelta(days=line.days_supply) + FINISHED_AFTER > now]


def rebuild(patient, now: datetime | None = None) -> int:
    """Withdraw what is queued and plan the patient's reminders from now on; how many messages."""
    now = now or utcnow()
    withdraw(patient.id, now)
    if not may_text(patient):
        db.session.flush()
        return 0
    prefs = preferences(patient)
    lines = [line for line in current_lines(patient.id, now) if line.enabled]
    doses: dict[datetime, set[int]] = {}
    refills = []
    by_id = {line.id: line for line in lines}
    for starts_at in sorted({line.starts_at for line in lines}):
        planned = schedule.plan([schedule.Line(line.id, line.frequency, line.doses_per_day, line.days_supply)
                                 for line in lines if line.starts_at == starts_at], starts_at, prefs)
        for dose in planned.doses:
            doses.setdefault(dose.due_at_utc, set()).update(dose.line_keys)
        refills += planned.refills
    return _queue(patient, prefs, by_id, {due: keys for due, keys in doses.items() if due > now},
                  [r for r in refills if r.due_at_utc > now])


def _queue(patient, prefs, by_id: dict[int, ReminderLine], doses: dict, refills: list) -> int:
    """Write the planned messages and their dose rows in two INSERTs (ORM objects, one by one, were a
    third of a rebuild's time)."""
    from app.templating import drug_title  # the template helpers import every feature's labels

    locale = patient.locale
    names = {line_id: drug_title(line.drug, locale) for line_id, line in by_id.items()}
    rows, keys_of = [], []
    for due, keys in sorted(doses.items()):
        keys = tuple(sorted(keys))
        rows.append(_row(patient, SmsKind.DOSE, "dose_reminder", due,
                         _dose_body(locale, tuple(names[k] for k in keys))))
        keys_of.append(keys)
    links = _refill_links({refill.line_key for refill in refills})
    for refill in refills:
        template = "refill_reminder" if refill.kind == "refill" else "refill_last_day"
        body = render_body(template, locale, medicine=names[refill.line_key],
                           day=refill.supply_ends_on.isoformat(), link=links[refill.line_key])
        rows.append(_row(patient, SmsKind.REFILL, template, refill.due_at_utc, body))
        keys_of.append(())
    if not rows:
        return 0
    ids = db.session.scalars(insert(OutboundSms).returning(OutboundSms.id, sort_by_parameter_order=True),
                             rows).all()
    dose_rows = [{"outbound_sms_id": message_id, "reminder_line_id": key, "patient_id": patient.id,
                  "due_at": row["scheduled_for"]}
                 for message_id, row, keys in zip(ids, rows, keys_of, strict=True) for key in keys]
    if dose_rows:
        db.session.execute(insert(DoseReminder), dose_rows)
    return len(rows)


def _row(patient, kind: SmsKind, template: str, due: datetime, body: str) -> dict:
    return {"user_id": patient.id, "to_phone": patient.phone, "purpose": template, "kind": kind, "body": body,
            "is_sensitive": False, "status": SmsStatus.QUEUED, "attempts": 0, "scheduled_for": due,
            "next_attempt_at": due}


@lru_cache(maxsize=4096)
def _dose_body(locale: str, names: tuple[str, ...]) -> str:
    """A dose reminder names its medicines only: the same medicines read the same for every patient and
    every dose, so each text is rendered once per process."""
    return render_body("dose_reminder", locale, medicines="; ".join(names))


def _refill_links(line_ids: set[int]) -> dict[int, str]:
    """Each line's refill request: the booking form with its condition and doctor filled in."""
    from app.orders.models import Order, OrderLine
    from app.prescribing.models import Prescription

    if not line_ids:
        return {}
    rows = db.session.execute(
        select(ReminderLine.id, Prescription.condition_id, Prescription.doctor_id)
        .join(OrderLine, OrderLine.id == ReminderLine.order_line_id)
        .join(Order, Order.id == OrderLine.order_id)
        .join(Prescription, Prescription.id == Order.prescription_id).where(ReminderLine.id.in_(line_ids)))
    return {line_id: public_url(f"/consultations/new?condition_id={condition}&doctor_id={doctor}&refill=1")
            for line_id, condition, doctor in rows}


def latest_received(patient):
    """(prescription, drug names) of the latest medicines the patient received, or None."""
    from app.orders.models import OrderLine
    from app.prescribing.models import Prescription, PrescriptionItem
    from app.templating import drug_title

    line = db.session.scalar(select(ReminderLine).where(ReminderLine.patient_id == patient.id)
                             .order_by(ReminderLine.starts_at.desc(), ReminderLine.id.desc()).limit(1))
    if line is None:
        return None
    prescription = db.session.scalar(
        select(Prescription).join(PrescriptionItem, PrescriptionItem.prescription_id == Prescription.id)
        .join(OrderLine, OrderLine.prescription_item_id == PrescriptionItem.id)
        .where(OrderLine.id == line.order_line_id))
    names = [drug_title(item.drug, patient.locale) for item in prescription.items]
    return prescription, names
