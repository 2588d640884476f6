"""The patient's reminders page: each medicine's switch, their own dose times, in both languages; only
their own medicines; bad times refused on the form with nothing changed."""

from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.extensions import db as _db
from app.notifications.models import OutboundSms, SmsKind, SmsStatus
from app.reminders.models import ReminderLine, ReminderPreference
from tests import factories
from tests.sms.conftest import AMLODIPINE, METFORMIN_BID


def _queued_times(patient, zone="Asia/Shanghai") -> set[str]:
    return {m.scheduled_for.astimezone(ZoneInfo(zone)).strftime("%H:%M") for m in _db.session.scalars(
        select(OutboundSms).where(OutboundSms.user_id == patient.id, OutboundSms.kind == SmsKind.DOSE,
                                  OutboundSms.status == SmsStatus.QUEUED))}


def _line(patient, frequency) -> ReminderLine:
    return _db.session.scalar(select(ReminderLine).where(ReminderLine.patient_id == patient.id,
                                                         ReminderLine.frequency == frequency))


def test_the_page_lists_the_medicines_their_times_and_what_goes_out_next(db, client, login_as, receive):
    order = receive(AMLODIPINE, METFORMIN_BID)
    login_as(order.patient)
    page = client.get("/reminders/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Amlodipine" in html and "Metformin" in html
    assert 'name="times-QD" value="08:00"' in html
    assert 'name="times-BID" value="08:00"' in html and 'name="times-BID" value="20:00"' in html
    assert 'id="upcoming"' in html and "Reply 1 when taken" in html
    assert _db.session.scalar(select(AuditEvent.id).where(AuditEvent.action == "reminders.viewed",
                                                          AuditEvent.patient_id == order.patient_id))


def test_the_page_speaks_chinese(db, client, login_as, receive):
    order = receive(METFORMIN_BID)
    order.patient.locale = "zh"
    _db.session.commit()
    login_as(order.patient)
    client.post("/language", data={"language": "zh", "next": "/reminders/"})
    html = client.get("/reminders/").get_data(as_text=True)
    assert "用药提醒" in html and "每日两次" in html and "保存服药时间" in html


def test_switching_a_medicine_off_withdraws_its_reminders_and_on_brings_them_back(db, client, login_as,
                                                                                  receive):
    order = receive(AMLODIPINE, METFORMIN_BID)
    patient = order.patient
    login_as(patient)
    metformin = _line(patient, "BID")
    assert _queued_times(patient) == {"08:00", "20:00"}
    answer = client.post(f"/reminders/lines/{metformin.id}", data={"enabled": "0"})
    assert answer.status_code == 303
    assert _queued_times(patient) == {"08:00"}  # amlodipine's alone
    html = client.get("/reminders/").get_data(as_text=True)
    assert "Reminders off · turn on" in html and "Reminders for this medicine are off." in html
    client.post(f"/reminders/lines/{metformin.id}", data={"enabled": "1"})
    assert _queued_times(patient) == {"08:00", "20:00"}


def test_another_patients_medicine_cannot_be_switched(db, client, login_as, receive):
    order = receive(AMLODIPINE)
    line = _line(order.patient, "QD")
    login_as(factories.make_patient())
    assert client.post(f"/reminders/lines/{line.id}", data={"enabled": "0"}).status_code == 404
    _db.session.expire_all()
    assert _line(order.patient, "QD").enabled is True


@pytest.mark.parametrize("role", ["doctor", "pharmacist", "admin", "courier"])
def test_staff_have_no_reminders_page(db, client, login_as, role):
    login_as(role)
    assert client.get("/reminders/").status_code == 403


def test_new_dose_times_move_the_reminders(db, client, login_as, receive):
    order = receive(AMLODIPINE, METFORMIN_BID)
    patient = order.patient
    login_as(patient)
    answer = client.post("/reminders/times", data={"times-QD": "07:15", "times-BID": ["19:45", "07:15"]})
    assert answer.status_code == 303
    assert _queued_times(patient) == {"07:15", "19:45"}
    stored = _db.session.get(ReminderPreference, patient.id).dose_times
    assert stored == {"QD": ["07:15"], "BID": ["07:15", "19:45"]}
    # Back to the defaults: nothing stored for that frequency.
    client.post("/reminders/times", data={"times-QD": "08:00", "times-BID": ["07:15", "19:45"]})
    _db.session.expire_all()
    assert _db.session.get(ReminderPreference, patient.id).dose_times == {"BID": ["07:15", "19:45"]}


@pytest.mark.parametrize("bid", [["08:00"], ["08:00", "08:00"], ["08:00", "25:00"], ["8am", "20:00"],
                                 ["08:00", "20:00", "21:00"]])
def test_bad_dose_times_are_refused_on_the_form_and_change_nothing(db, client, login_as, receive, bid):
    order = receive(AMLODIPINE, METFORMIN_BID)
    patient = order.patient
    login_as(patient)
    answer = client.post("/reminders/times", data={"times-QD": "06:30", "times-BID": bid})
    assert answer.status_code == 422
    html = answer.get_data(as_text=True)
    assert 'id="times-BID-error"' in html and "Give 2 different times of day as HH:MM." in html
    assert _db.session.get(ReminderPreference, patient.id) is None
    assert _queued_times(patient) == {"08:00", "20:00"}  # not even the valid QD change was kept


def test_a_new_time_zone_on_the_profile_moves_the_reminders(db, receive):
    from app.patients.services import save_profile

    order = receive(AMLODIPINE)
    patient = order.patient
    before = {m.scheduled_for for m in _db.session.scalars(select(OutboundSms).where(
        OutboundSms.user_id == patient.id, OutboundSms.kind == SmsKind.DOSE,
        OutboundSms.status == SmsStatus.QUEUED))}
    from datetime import date

    save_profile(patient, legal_name="Wang Fang", sex="female", date_of_birth=date(1970, 1, 1),
                 id_document_number=None, time_zone="America/New_York")
    _db.session.commit()
    assert _queued_times(patient, "America/New_York") == {"08:00"}
    after = {m.scheduled_for for m in _db.session.scalars(select(OutboundSms).where(
        OutboundSms.user_id == patient.id, OutboundSms.kind == SmsKind.DOSE,
        OutboundSms.status == SmsStatus.QUEUED))}
    assert before and after and not before & after
