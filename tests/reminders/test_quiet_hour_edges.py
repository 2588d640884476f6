"""Quiet hours as production runs them (the default 21:00–08:00, read from the production settings, in
each patient's own time zone) at their edges, to the minute: a notice queued at 20:59 goes at once, one
at 21:00 waits until 08:00, one at 07:59 waits a minute, one at 08:00 goes at once; the morning dose
reminder comes at 08:00 itself."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.extensions import db as _db
from app.notifications import services as outbox
from app.reminders import plans
from config import ProductionConfig
from tests import factories
from tests.reminders.test_plans import _planned, _received_at
from tests.sms.conftest import AMLODIPINE, METFORMIN_BID

# Tuesday 3 March 2026: New York keeps standard time until the 8th, so no clock change is near.
DAY = (2026, 3, 3)


@pytest.fixture(autouse=True)
def production_quiet_hours(app, monkeypatch):
    """What production runs with (the test settings have no quiet hours)."""
    monkeypatch.setitem(app.config, "SMS_QUIET_START", ProductionConfig.SMS_QUIET_START)
    monkeypatch.setitem(app.config, "SMS_QUIET_END", ProductionConfig.SMS_QUIET_END)


def local(zone: str, hour: int, minute: int, days: int = 0) -> datetime:
    return datetime(*DAY, hour, minute, tzinfo=ZoneInfo(zone)) + timedelta(days=days)


def queued_at(app, patient, moment: datetime):
    """The accepted-consultation notice, queued at `moment`: when the outbox will send it."""
    with app.test_request_context():
        message = outbox.queue_sms(to_phone=patient.phone, template="consultation_accepted", locale="en",
                                   user=patient, send_at=moment.astimezone(UTC), doctor="Dr Li")
    return message.next_attempt_at.astimezone(ZoneInfo(patient.time_zone))


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "America/New_York"])
@pytest.mark.parametrize(("clock", "sent_at"), [
    pytest.param((20, 59), (20, 59, 0), id="20:59-sends"),
    pytest.param((21, 0), (8, 0, 1), id="21:00-waits-for-08:00"),
    pytest.param((7, 59), (8, 0, 0), id="07:59-waits-for-08:00"),
    pytest.param((8, 0), (8, 0, 0), id="08:00-sends"),
])
def test_a_notice_at_the_edge_of_quiet_hours_in_the_patients_zone(app, db, zone, clock, sent_at):
    patient = factories.make_patient(time_zone=zone)
    hour, minute, next_day = sent_at
    assert queued_at(app, patient, local(zone, *clock)) == local(zone, hour, minute, next_day)


def test_the_evening_is_the_patients_own_not_the_clinics(app, db):
    """21:00 in New York is 10:00 the next morning in Shanghai: held for the New York patient only."""
    in_new_york = factories.make_patient(time_zone="America/New_York")
    in_shanghai = factories.make_patient(time_zone="Asia/Shanghai")
    moment = local("America/New_York", 21, 0)
    assert queued_at(app, in_new_york, moment) == local("America/New_York", 8, 0, 1)
    assert queued_at(app, in_shanghai, moment) == moment


def test_a_one_time_code_is_never_held(app, db):
    patient = factories.make_patient(time_zone="Asia/Shanghai")
    moment = local("Asia/Shanghai", 21, 0)
    with app.test_request_context():
        code = outbox.queue_sms(to_phone=patient.phone, template="phone_verification", locale="en",
                                user=patient, sensitive=True, send_at=moment.astimezone(UTC), code="123456",
                                minutes=10)
    assert code.next_attempt_at == moment


def test_the_morning_dose_reminder_comes_at_eight_itself_and_the_evening_one_at_eight(db, receive):
    order = receive(AMLODIPINE, METFORMIN_BID)
    patient = order.patient
    handed_over = datetime(*DAY, 15, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    _received_at(order, handed_over)
    plans.rebuild(patient, now=handed_over.astimezone(UTC))
    _db.session.commit()
    zone = ZoneInfo("Asia/Shanghai")
    times = {m.scheduled_for.astimezone(zone).strftime("%H:%M") for m in _planned(patient)}
    assert times == {"08:00", "20:00"}
