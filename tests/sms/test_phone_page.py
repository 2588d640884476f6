"""The development phone page: a number's texts, and a reply played through the signed inbound
endpoint; only with the log backend or the local stand-in; a patient sees only their own number."""

import pytest
from sqlalchemy import select

from app.extensions import db as _db
from app.notifications.models import OutboundSms, SmsOptOut
from tests import factories


def _text(phone, body):
    _db.session.add(OutboundSms(to_phone=phone, purpose="test", body=body))
    _db.session.commit()


def test_an_admin_sees_a_numbers_texts_and_plays_stop_through_the_signed_endpoint(db, client, login_as):
    patient = factories.make_patient()
    _text(patient.phone, "Internet Hospital: time for Amlodipine.")
    login_as("admin")
    page = client.get("/sms/phone", query_string={"number": patient.phone}).get_data(as_text=True)
    assert "time for Amlodipine" in page and "Queued" in page
    answer = client.post("/sms/phone/reply", data={"number": patient.phone, "body": "STOP"},
                         follow_redirects=True)
    assert "Reply sent" in answer.get_data(as_text=True) and "Reply START" in answer.get_data(as_text=True)
    assert _db.session.get(SmsOptOut, patient.phone) is not None


def test_a_patient_plays_replies_from_their_own_number_only(db, client, login_as):
    patient = factories.make_patient()
    other = factories.make_patient()
    _text(other.phone, "someone else's text")
    login_as(patient)
    page = client.get("/sms/phone", query_string={"number": other.phone}).get_data(as_text=True)
    assert patient.phone in page and "someone else's text" not in page
    client.post("/sms/phone/reply", data={"number": other.phone, "body": "STOP"})
    assert _db.session.get(SmsOptOut, other.phone) is None
    assert _db.session.get(SmsOptOut, patient.phone) is not None


def test_patients_have_no_phone_page_where_it_is_off(db, client, login_as, app, monkeypatch):
    monkeypatch.setitem(app.config, "SMS_PHONE_PAGE_FOR_PATIENTS", False)
    login_as(factories.make_patient())
    assert client.get("/sms/phone").status_code == 404


def test_no_phone_page_with_a_real_provider(db, client, login_as, app, monkeypatch):
    monkeypatch.setitem(app.config, "SMS_BACKEND", "twilio")
    monkeypatch.setitem(app.config, "TWILIO_API_BASE", "")  # Twilio itself
    login_as("admin")
    assert client.get("/sms/phone").status_code == 404
    answer = client.post("/sms/phone/reply", data={"number": "+8613900000001", "body": "STOP"})
    assert answer.status_code == 404


@pytest.mark.parametrize("role", ["doctor", "pharmacist", "courier"])
def test_other_staff_have_no_phone_page(db, client, login_as, role):
    login_as(role)
    assert client.get("/sms/phone").status_code == 403


def test_an_empty_reply_is_refused_with_a_message(db, client, login_as):
    patient = factories.make_patient()
    login_as("admin")
    answer = client.post("/sms/phone/reply", data={"number": patient.phone, "body": ""},
                         follow_redirects=True)
    assert "at most 160 characters" in answer.get_data(as_text=True)
    assert _db.session.scalar(select(SmsOptOut)) is None


def test_the_dashboard_counts_every_sms_status_and_links_the_phone_page(db, client, login_as, app,
                                                                        monkeypatch):
    from app.notifications.models import SmsStatus

    for status, count in ((SmsStatus.DELIVERED, 2), (SmsStatus.CANCELLED, 1)):
        for n in range(count):
            _db.session.add(OutboundSms(to_phone=f"+861390000{n:04d}", purpose="test", body="x",
                                        status=status))
    _db.session.commit()
    login_as("admin")
    html = client.get("/admin/").get_data(as_text=True)
    assert '<tr data-status="delivered"><td>Delivered</td><td class="text-end">2</td>' in html
    assert '<tr data-status="cancelled"><td>Withdrawn</td><td class="text-end">1</td>' in html
    assert 'href="/sms/phone"' in html
    monkeypatch.setitem(app.config, "SMS_BACKEND", "twilio")
    monkeypatch.setitem(app.config, "TWILIO_API_BASE", "")
    assert 'href="/sms/phone"' not in client.get("/admin/").get_data(as_text=True)
