"""A signed prescription's validity at its limits: valid on the day it is written, extendable by its doctor
to 3 days in all (the day of signing counted) and not one more; valid up to the last second of its last
day in China, expired at midnight."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask_babel import force_locale

from app.errors import DomainError
from app.extensions import db as _db
from app.prescribing import queries
from app.prescribing import services as rx
from app.prescribing.models import Prescription
from tests.prescribing.conftest import item, sign_and_submit

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def signed(visit, draft):
    item(draft, visit.doctor, visit.drugs)
    sign_and_submit(draft, visit.doctor)
    _db.session.commit()
    return draft


def at(day, clock: time) -> datetime:
    """A moment of a day in the prescribing zone (China), as the services receive it."""
    return datetime.combine(day, clock, tzinfo=SHANGHAI)


def test_a_signed_prescription_is_valid_on_the_day_written_only(signed):
    day = rx.local_date(signed.signed_at)
    assert signed.valid_until == day
    assert rx.is_valid(signed, at(day, time(23, 59, 59)))
    assert not rx.is_valid(signed, at(day + timedelta(days=1), time(0, 0)))


def test_the_doctor_extends_one_day_then_to_the_third_day(visit, signed):
    day = rx.local_date(signed.signed_at)
    assert queries.extension_days(signed) == [day + timedelta(days=1), day + timedelta(days=2)]
    rx.extend_validity(signed, visit.doctor, day + timedelta(days=1), now=signed.signed_at)
    assert queries.extension_days(signed) == [day + timedelta(days=2)]
    rx.extend_validity(signed, visit.doctor, day + timedelta(days=2), now=signed.signed_at)
    _db.session.commit()
    assert _db.session.get(Prescription, signed.id).valid_until == day + timedelta(days=2)
    assert queries.extension_days(signed) == []


def test_a_fourth_day_is_refused_with_the_last_day_allowed(visit, signed):
    day = rx.local_date(signed.signed_at)
    third = (day + timedelta(days=2)).isoformat()
    with pytest.raises(DomainError) as refused:
        rx.extend_validity(signed, visit.doctor, day + timedelta(days=3), now=signed.signed_at)
    reason = refused.value.reasons["valid_until"]
    with force_locale("en"):
        assert str(reason) == f"A prescription is valid for at most 3 days, until {third}."
    with force_locale("zh"):
        assert str(reason) == f"处方有效期最长为 3 天，至 {third} 止。"
    _db.session.rollback()
    assert _db.session.get(Prescription, signed.id).valid_until == day


def test_extended_to_the_third_day_it_is_valid_until_that_days_end(visit, signed):
    day = rx.local_date(signed.signed_at)
    rx.extend_validity(signed, visit.doctor, day + timedelta(days=2), now=signed.signed_at)
    _db.session.commit()
    assert rx.is_valid(signed, at(day + timedelta(days=2), time(23, 59, 59)))
    assert not rx.is_valid(signed, at(day + timedelta(days=3), time(0, 0)))


def test_on_its_last_day_it_can_still_be_extended_and_the_day_after_it_cannot(visit, signed):
    day = rx.local_date(signed.signed_at)
    rx.extend_validity(signed, visit.doctor, day + timedelta(days=1),
                       now=at(day, time(23, 59, 59)))
    _db.session.commit()
    with pytest.raises(DomainError) as refused:
        rx.extend_validity(signed, visit.doctor, day + timedelta(days=2),
                           now=at(day + timedelta(days=2), time(0, 0)))
    with force_locale("en"):
        assert str(refused.value.reasons["valid_until"]) == (
            "This prescription has expired and can no longer be extended.")
    _db.session.rollback()
    assert _db.session.get(Prescription, signed.id).valid_until == day + timedelta(days=1)
