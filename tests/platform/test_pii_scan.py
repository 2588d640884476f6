"""Nothing identifying leaves: every event type is built for patients whose name, phone, e-mail, ID
number, addresses and birth date are known, and none of them appears in any payload, in the bytes
the worker sends or in what the platform stored, in any common spelling."""

import json
from datetime import UTC, date, datetime

import phonenumbers
import pytest
from sqlalchemy import update

from app.delivery import services as deliveries
from app.extensions import db as _db
from app.orders import returns
from app.orders.models import Order
from app.outbox.services import emit
from app.platform import adherence_events, push
from app.platform.events import ADHERENCE, DISPENSED, EXCURSION, RETURNED
from tests.orders.conftest import courier  # noqa: F401  (fixture)
from tests.orders.test_returns import INSULIN, _dispensed, _on_the_road
from tests.platform.conftest import BIRTH_DATE, ID_NUMBER, LEGAL_NAME, STREET, events, give_identity, share


def _date_spellings(day: date) -> set[str]:
    return {day.isoformat(), day.strftime("%Y%m%d"), day.strftime("%d/%m/%Y"), day.strftime("%m/%d/%Y"),
            day.strftime("%Y/%m/%d"), day.strftime("%d.%m.%Y"), day.strftime("%d-%m-%Y"),
            f"{day.year}年{day.month}月{day.day}日", day.strftime("%b %d, %Y"), day.strftime("%d %b %Y"),
            day.strftime("%B %d, %Y"), f"{day.year}-{day.month}-{day.day}", day.strftime("%y%m%d")}


def _phone_spellings(phone: str) -> set[str]:
    number = phonenumbers.parse(phone)
    national = str(number.national_number)
    return {phone, national, phone.lstrip("+"),
            phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL),
            phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL), national[-8:]}


def identifying(patient) -> set[str]:
    profile = patient.patient_profile
    strings = {profile.legal_name, patient.display_name, patient.email, profile.id_document_number,
               profile.id_document_number[-6:], profile.id_document_number.lower(), STREET, "8 Garden Lane",
               "Hangzhou", "310000"}
    strings |= _phone_spellings(patient.phone) | _date_spellings(profile.date_of_birth)
    strings |= set(LEGAL_NAME.split())  # a surname or given name alone
    return strings


@pytest.fixture
def everything(visit, app, monkeypatch, shop, approve, ordering, receive, courier):  # noqa: F811
    """One patient with every kind of event: a dispense received, one taken back, a cold-chain
    excursion, and a month's adherence summary."""
    monkeypatch.setitem(app.config, "PLATFORM_LINKAGE_KEY", "linkage-key")
    give_identity(visit.patient)
    share(visit.patient)
    order = receive()
    moment = datetime(2025, 3, 10, 4, 0, tzinfo=UTC)
    _db.session.execute(update(Order).where(Order.id == order.id).values(handed_over_at=moment,
                                                                          completed_at=moment))
    kept, _payment = _dispensed(shop, approve, ordering, visit, fulfilment="pickup", serial=7)
    returns.cancel_after_dispensing(kept, shop.pharmacist, "patient_declined")
    _db.session.commit()
    cold, _payment = _dispensed(shop, approve, ordering, visit, INSULIN, serial=8)
    deliveries.in_transit(_on_the_road(shop, cold, courier), courier, "11.5")
    _db.session.commit()
    emit(adherence_events.summary_rows(date(2025, 3, 1)))
    _db.session.commit()
    return visit.patient


def test_no_event_type_carries_anything_that_identifies_the_patient(everything, receiver):
    written = events()
    assert {event.event_type for event in written} == {DISPENSED, RETURNED, EXCURSION, ADHERENCE}
    sent = push.bundle_body([(event.idempotency_key, json.loads(event.payload))
                             for event in written]).decode()
    push.push_due(0)
    stored = "\n".join(row["resource"] for row in receiver.store.rows())
    assert len(receiver.store.rows()) == len(written)
    secrets = {value.casefold() for value in identifying(everything) if value}
    for text in [event.payload for event in written] + [sent, stored]:
        found = sorted(value for value in secrets if value in text.casefold())
        assert found == [], found
    # What may go does go: the birth year, the sex and the province's code.
    assert '"birthDate":"1949"' in sent and '"gender":"female"' in sent and '"code":"33"' in sent


def test_a_patient_of_ninety_or_more_is_sent_without_a_birth_year(visit, app, receive):
    give_identity(visit.patient, birth_date=date(1930, 1, 15), id_number="110105193001150011")
    share(visit.patient, linkage=False)
    receive()
    [event] = events()
    assert "1930" not in event.payload and '"valueString":"90+"' in event.payload
    assert BIRTH_DATE.isoformat() not in event.payload and ID_NUMBER not in event.payload
