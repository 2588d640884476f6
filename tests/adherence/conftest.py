"""Adherence fixtures: medicines handed over through the real services (tests/sms `receive`), then dated
back to the days a test needs, and dose reminders marked as the outbox and the patient left them."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from app.database import utcnow
from app.drugs.models import Drug
from app.extensions import db as _db
from app.notifications.models import OutboundSms, SmsKind
from app.orders.models import Order
from app.reminders.models import DoseReminder, ReminderLine
from tests.sms.conftest import (  # noqa: F401  (fixtures)
    AMLODIPINE,
    METFORMIN_BID,
    approve,
    as_user,
    catalogue_drugs,
    coded,
    deliver,
    flow,
    ordering,
    pharmacists,
    receive,
    shop,
    sign,
    stripe_client,
    texted,
    visit,
)


def today_of(patient, now: datetime | None = None) -> date:
    return (now or utcnow()).astimezone(ZoneInfo(patient.time_zone)).date()


def local_noon(day: date, zone: str) -> datetime:
    return datetime.combine(day, time(12), tzinfo=ZoneInfo(zone)).astimezone(UTC)


def completed_on(order, moment: datetime) -> None:
    """Date an order's handover back to `moment` (a UTC instant), as if it had happened then."""
    _db.session.execute(update(Order).where(Order.id == order.id).values(completed_at=moment))
    _db.session.commit()


def days_ago(order, patient, days: int) -> None:
    """The order was handed over at noon, `days` days before the patient's today."""
    completed_on(order, local_noon(today_of(patient) - timedelta(days=days), patient.time_zone))


@pytest.fixture
def received_on(receive):  # noqa: F811
    """Hand medicines over (as `receive`) and date the handover `days` days back in the patient's zone."""

    def received(days: int, *lines):
        order = receive(*lines)
        days_ago(order, order.patient, days)
        return order

    return received


def add_doses(patient, drug_code: str, outcomes) -> None:
    """One dose reminder of the drug per outcome (days ago, message status, answer): due at noon that
    day in the patient's zone, its message left in that status, answered (or not) as given."""
    line = _db.session.scalars(
        select(ReminderLine).join(Drug, Drug.id == ReminderLine.drug_id)
        .where(ReminderLine.patient_id == patient.id, Drug.code == drug_code)
        .order_by(ReminderLine.id.desc())).first()
    for days, status, answer in outcomes:
        due = local_noon(today_of(patient) - timedelta(days=days), patient.time_zone)
        message = OutboundSms(user_id=patient.id, to_phone=patient.phone, purpose="dose_reminder",
                              kind=SmsKind.DOSE, body="Time for your medicine.", status=status,
                              scheduled_for=due, next_attempt_at=due, created_at=due - timedelta(days=1))
        _db.session.add(message)
        _db.session.flush()
        _db.session.add(DoseReminder(outbound_sms_id=message.id, reminder_line_id=line.id,
                                     patient_id=patient.id, due_at=due, answer=answer,
                                     answered_at=due + timedelta(minutes=5) if answer else None))
    _db.session.commit()
