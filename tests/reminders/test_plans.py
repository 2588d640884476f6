"""Reminder plans as outbox rows, from medicines handed over through the real services, with a frozen
clock: dose times in the patient's zone, merged across medicines, none in quiet hours, refill reminders,
rebuilt when the patient changes their times or zone, stopped when the order is refunded."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from app.extensions import db as _db
from app.notifications.models import OutboundSms, SmsKind, SmsStatus
from app.reminders import plans
from app.reminders.models import DoseReminder, ReminderLine, ReminderPreference
from tests.sms.conftest import AMLODIPINE, METFORMIN_BID

SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")


def _received_at(order, moment: datetime) -> dict[int, ReminderLine]:
    """Pretend the order was handed over at `moment`: its lines start then."""
    _db.session.execute(update(ReminderLine).where(ReminderLine.patient_id == order.patient_id)
                        .values(starts_at=moment.astimezone(UTC)))
    _db.session.commit()
    return {line.drug_id: line for line in _db.session.scalars(
        select(ReminderLine).where(ReminderLine.patient_id == order.patient_id))}


def _planned(patient, kind=SmsKind.DOSE) -> list[OutboundSms]:
    return list(_db.session.scalars(select(OutboundSms).where(
        OutboundSms.user_id == patient.id, OutboundSms.kind == kind, OutboundSms.status == SmsStatus.QUEUED)
        .order_by(OutboundSms.scheduled_for)))


def _lines_of(message) -> set[int]:
    return set(_db.session.scalars(select(DoseReminder.reminder_line_id)
                                   .where(DoseReminder.outbound_sms_id == message.id)))


def test_a_bid_line_handed_over_at_three_in_shanghai_is_reminded_at_eight_and_eight(db, receive):
    order = receive(AMLODIPINE, METFORMIN_BID)
    patient = order.patient
    handed_over = datetime(2026, 3, 2, 15, 0, tzinfo=SHANGHAI)
    lines = _received_at(order, handed_over)
    by_code = {line.drug.code: lines[line.drug_id] for line in order.lines}
    amlodipine, metformin = by_code["AMLODIPINE-5MG-TAB"], by_code["METFORMIN-500MG-TAB"]
    assert (amlodipine.frequency, metformin.frequency) == ("QD", "BID")
    plans.rebuild(patient, now=handed_over.astimezone(UTC))
    doses = _planned(patient)
    local = [m.scheduled_for.astimezone(SHANGHAI) for m in doses]
    # The first dose after 15:00 is the 20:00 one, metformin's alone; then 08:00 with both.
    assert local[0] == datetime(2026, 3, 2, 20, 0, tzinfo=SHANGHAI) and _lines_of(doses[0]) == {metformin.id}
    assert local[1] == datetime(2026, 3, 3, 8, 0, tzinfo=SHANGHAI)
    assert _lines_of(doses[1]) == {amlodipine.id, metformin.id}
    assert "Amlodipine" in doses[1].body and "Metformin" in doses[1].body and "Reply 1" in doses[1].body
    # Every reminder at 08:00 or 20:00: none in quiet hours (21:00–08:00).
    assert {(t.hour, t.minute) for t in local} == {(8, 0), (20, 0)}
    # BID: two doses a day for the line's days of supply; QD: one.
    metformin_doses = [m for m in doses if metformin.id in _lines_of(m)]
    assert len(metformin_doses) == 2 * metformin.days_supply
    assert len([m for m in doses if amlodipine.id in _lines_of(m)]) == amlodipine.days_supply
    last_day = metformin_doses[-1].scheduled_for.astimezone(SHANGHAI).date()
    refills = [m for m in _planned(patient, SmsKind.REFILL) if "Metformin" in m.body]
    assert [m.scheduled_for.astimezone(SHANGHAI) for m in refills] == [
        datetime.combine(last_day - timedelta(days=5), datetime.min.time(), SHANGHAI).replace(hour=10),
        datetime.combine(last_day, datetime.min.time(), SHANGHAI).replace(hour=10)]
    assert f"condition_id={order.prescription.condition_id}" in refills[0].body
    assert "runs out on" in refills[0].body and "last day" in refills[1].body


def test_the_plan_follows_a_new_york_patient_across_the_spring_change(db, receive):
    order = receive(AMLODIPINE)
    patient = order.patient
    patient.time_zone = "America/New_York"
    _db.session.commit()
    handed_over = datetime(2026, 3, 5, 12, 0, tzinfo=NEW_YORK)
    _received_at(order, handed_over)
    plans.rebuild(patient, now=handed_over.astimezone(UTC))
    doses = _planned(patient)
    by_day = {m.scheduled_for.astimezone(NEW_YORK).date(): m.scheduled_for for m in doses}
    # 08:00 local every day: 13:00 UTC before the change on 8 March, 12:00 UTC after it.
    assert {m.scheduled_for.astimezone(NEW_YORK).time().hour for m in doses} == {8}
    assert by_day[date(2026, 3, 7)].astimezone(UTC).hour == 13
    assert by_day[date(2026, 3, 8)].astimezone(UTC).hour == 12
    assert by_day[date(2026, 3, 9)].astimezone(UTC).hour == 12


def test_changing_dose_times_rebuilds_the_plan_from_now(db, receive):
    order = receive(AMLODIPINE)
    patient = order.patient
    handed_over = datetime(2026, 3, 2, 15, 0, tzinfo=SHANGHAI)
    _received_at(order, handed_over)
    plans.rebuild(patient, now=handed_over.astimezone(UTC))
    before = _planned(patient)
    _db.session.add(ReminderPreference(patient_id=patient.id, dose_times={"QD": ["22:30"]}))
    _db.session.flush()
    later = datetime(2026, 3, 4, 9, 0, tzinfo=SHANGHAI)
    plans.rebuild(patient, now=later.astimezone(UTC))
    _db.session.commit()
    after = _planned(patient)
    # The patient chose 22:30: kept although it is in quiet hours; nothing before the change.
    assert {m.scheduled_for.astimezone(SHANGHAI).time().isoformat() for m in after} == {"22:30:00"}
    assert after[0].scheduled_for.astimezone(SHANGHAI) == datetime(2026, 3, 4, 22, 30, tzinfo=SHANGHAI)
    assert {_db.session.get(OutboundSms, m.id).status for m in before} == {SmsStatus.CANCELLED}
    # The withdrawn messages keep no dose rows, so no reply can answer them.
    assert _db.session.scalar(select(DoseReminder.id).where(
        DoseReminder.outbound_sms_id.in_([m.id for m in before]))) is None


def test_a_line_switched_off_gets_no_reminders_and_the_other_keeps_its_own(db, receive):
    order = receive(AMLODIPINE, METFORMIN_BID)
    patient = order.patient
    handed_over = datetime(2026, 3, 2, 15, 0, tzinfo=SHANGHAI)
    lines = _received_at(order, handed_over)
    metformin = next(line for line in lines.values() if line.frequency == "BID")
    metformin.enabled = False
    plans.rebuild(patient, now=handed_over.astimezone(UTC))
    doses = _planned(patient)
    assert doses and all(_lines_of(m) == {next(line.id for line in lines.values() if line.frequency == "QD")}
                         for m in doses)
    assert all("Metformin" not in m.body for m in _planned(patient, SmsKind.REFILL))


@pytest.mark.parametrize("agreed", [True, False])
def test_only_a_patient_who_agreed_to_sms_gets_a_plan(db, receive, agreed):
    from app.patients.models import ConsentKind
    from app.patients.services import revoke_consent

    order = receive(AMLODIPINE)
    patient = order.patient
    if not agreed:
        revoke_consent(patient, ConsentKind.SMS_REMINDERS)
        # Withdrawing the consent withdrew the plan at once.
        assert _planned(patient) == [] and _planned(patient, SmsKind.REFILL) == []
    assert (plans.rebuild(patient) > 0) is agreed


def test_a_refunded_order_stops_its_reminders(db, receive):
    order = receive(AMLODIPINE)
    patient = order.patient
    assert _planned(patient)
    plans.stop_order(order)
    _db.session.commit()
    assert _planned(patient) == [] and _planned(patient, SmsKind.REFILL) == []
    assert all(line.stopped_at is not None for line in
               _db.session.scalars(select(ReminderLine).where(ReminderLine.patient_id == patient.id)))
