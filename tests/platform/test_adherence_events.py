"""The monthly adherence summary: per sharing patient and drug, the days covered, fills and dose answers
of a month that has ended, as a valid Observation, written once; the worker job does nothing once done."""

import json
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import update

from app.database import utcnow
from app.extensions import db as _db
from app.notifications.models import SmsStatus
from app.orders.models import Order
from app.outbox.services import emit
from app.patients.models import ConsentKind
from app.patients.services import revoke_consent
from app.platform import adherence_events, fhir
from app.platform.events import ADHERENCE
from app.reminders.models import DoseAnswer
from tests import factories
from tests.adherence.conftest import add_doses, completed_on, local_noon, today_of
from tests.platform.conftest import METFORMIN_BID, events, share
from tests.query_budget import count_statements

MARCH = date(2025, 3, 1)  # 31 days, long past
AMLODIPINE_CODE = "AMLODIPINE-5MG-TAB"  # 28 days a fill, ATC C08CA01
SENT, DELIVERED = SmsStatus.SENT, SmsStatus.DELIVERED
TAKEN, SKIPPED = DoseAnswer.TAKEN, DoseAnswer.SKIPPED


def handed_over_on(order, day: date) -> None:
    completed_on(order, local_noon(day, order.patient.time_zone))


def doses_on(patient, drug_code: str, outcomes) -> None:
    """add_doses with calendar days instead of days ago."""
    today = today_of(patient)
    add_doses(patient, drug_code, [((today - day).days, status, answer) for day, status, answer in outcomes])


def summaries(month_start: date) -> dict[str, dict]:
    """The month's summaries by drug group, each with its row and its resource."""
    found = {}
    for row in adherence_events.summary_rows(month_start):
        resource = json.loads(row["payload"])
        group = row["source_key"].split(":")[2]
        found[group] = {"row": row, "resource": resource, "counts": {
            part["code"]["coding"][0]["code"]: part["valueInteger"] for part in resource["component"]}}
    return found


def test_two_fills_in_a_month_give_the_days_covered_the_fills_and_the_dose_answers(sharing, receive):
    handed_over_on(receive(), date(2025, 3, 3))  # 3–30 March
    handed_over_on(receive(), date(2025, 3, 20))  # early: its supply starts on 31 March, one day of March
    doses_on(sharing, AMLODIPINE_CODE, [
        (date(2025, 3, 4), SENT, TAKEN), (date(2025, 3, 5), DELIVERED, TAKEN),
        (date(2025, 3, 6), SENT, SKIPPED), (date(2025, 3, 7), SENT, None),
        # Not counted: never reached the patient, or due outside March.
        (date(2025, 3, 8), SmsStatus.FAILED, None), (date(2025, 3, 9), SmsStatus.QUEUED, None),
        (date(2025, 2, 28), SENT, TAKEN), (date(2025, 4, 1), SENT, SKIPPED)])
    found = summaries(MARCH)
    assert list(found) == ["C08CA01"]
    row, resource, counts = found["C08CA01"]["row"], found["C08CA01"]["resource"], found["C08CA01"]["counts"]
    assert fhir.validate(resource) is None
    assert row["event_type"] == ADHERENCE and row["resource_type"] == "Observation"
    assert (row["aggregate_type"], row["aggregate_id"]) == ("users", sharing.id)
    assert row["patient_id"] == sharing.id
    assert row["source_key"] == f"adherence.summary:{sharing.id}:C08CA01:2025-03"
    assert resource["identifier"][0] == {"system": fhir.EVENT_SYSTEM, "value": row["idempotency_key"]}
    assert resource["effectivePeriod"] == {"start": "2025-03-01", "end": "2025-03-31"}
    # 28 days (3–30 March) and 1 (31 March) of 31: 93.5 %.
    assert resource["valueQuantity"]["value"] == 93.5
    assert counts == {"covered-days": 29, "period-days": 31, "fills": 2,
                      "doses-taken": 2, "doses-skipped": 1, "doses-unanswered": 1}
    medication = resource["contained"][0]
    assert medication["code"]["coding"][0] == {"system": fhir.ATC, "code": "C08CA01"}
    assert "batch" not in medication  # a month's summary names no lot
    patient = resource["contained"][1]
    assert patient["resourceType"] == "Patient" and patient["birthDate"] == "1949"


def test_supply_ending_the_day_before_the_month_gives_no_summary_and_one_ending_on_its_first_day_gives_one(
        sharing, receive):
    handed_over_on(receive(), date(2025, 2, 1))  # amlodipine, 28 days: 1–28 February
    metformin = receive(METFORMIN_BID)
    assert metformin.lines[0].days_supply == 10  # a whole pack of 20 tablets, two a day
    handed_over_on(metformin, date(2025, 2, 20))  # 20 February – 1 March
    found = summaries(MARCH)
    assert list(found) == ["A10BA02"]
    assert found["A10BA02"]["counts"] == {"covered-days": 1, "period-days": 31, "fills": 0,
                                          "doses-taken": 0, "doses-skipped": 0, "doses-unanswered": 0}
    assert found["A10BA02"]["resource"]["valueQuantity"]["value"] == 3.2  # 1 of 31 days


def test_a_fill_counts_in_the_month_of_the_patient_s_own_day(sharing, receive):
    """02:00 UTC on 1 April is still 31 March in New York, but 1 April in Shanghai."""
    order = receive()
    completed_on(order, datetime.combine(date(2025, 4, 1), time(2), tzinfo=UTC))
    assert summaries(MARCH) == {}
    sharing.time_zone = "America/New_York"
    _db.session.commit()
    assert summaries(MARCH)["C08CA01"]["counts"]["covered-days"] == 1


def test_a_patient_without_the_data_sharing_consent_gets_nothing(sharing, receive):
    handed_over_on(receive(), date(2025, 3, 10))
    assert len(adherence_events.summary_rows(MARCH)) == 1
    revoke_consent(sharing, ConsentKind.DATA_SHARING)
    _db.session.commit()
    assert adherence_events.summary_rows(MARCH) == []


def test_summarising_a_month_twice_writes_nothing_new(sharing, receive):
    handed_over_on(receive(), date(2025, 3, 10))
    assert emit(adherence_events.summary_rows(MARCH)) == 1
    assert emit(adherence_events.summary_rows(MARCH)) == 0
    assert emit(adherence_events.month_rows([MARCH.toordinal()])) == 0  # nor does a backfill over it
    assert [event.source_key for event in events(ADHERENCE)] == [
        f"adherence.summary:{sharing.id}:C08CA01:2025-03"]


def test_a_month_that_has_not_ended_or_a_day_that_does_not_start_one_is_refused(db):
    this_month = utcnow().astimezone(adherence_events.zone_named(None)).date().replace(day=1)
    for refused in (this_month, date(this_month.year + 1, 1, 1), date(2025, 3, 15)):
        with pytest.raises(ValueError):
            adherence_events.summary_rows(refused)
    with pytest.raises(ValueError):
        adherence_events.summary_rows(datetime(2025, 3, 1, tzinfo=UTC))
    previous = (this_month - timedelta(days=1)).replace(day=1)
    assert adherence_events.summary_rows(previous) == []  # over in Shanghai: allowed (and empty here)


def test_the_summaries_read_as_many_statements_for_three_patients_as_for_one(db, sharing, receive):
    handed_over_on(receive(), date(2024, 3, 10))
    for _ in range(2):
        other = factories.make_patient()
        share(other)
        order = receive()
        _db.session.execute(update(Order).where(Order.id == order.id).values(patient_id=other.id))
        _db.session.commit()
        handed_over_on(order, date(2025, 3, 10))
    handed_over_on(receive(), date(2025, 3, 12))
    one, three = date(2024, 3, 1), MARCH
    for month in (one, three):  # research tokens made once, before counting
        adherence_events.summary_rows(month)
    counted = {}
    for month in (one, three):
        with count_statements(db) as seen:
            counted[month] = len(adherence_events.summary_rows(month))
        counted[month, "statements"] = seen.count
    assert (counted[one], counted[three]) == (1, 3)
    assert counted[one, "statements"] == counted[three, "statements"]


def test_the_worker_job_writes_last_month_once_and_then_does_nothing(db, sharing, receive, monkeypatch):
    monkeypatch.setattr(adherence_events, "_summarised", None)  # this process has summarised nothing
    month = adherence_events.last_month()
    handed_over_on(receive(), month + timedelta(days=9))
    assert adherence_events.summarise_last_month(100) == 1
    with count_statements(db) as seen:
        assert adherence_events.summarise_last_month(100) == 0
    assert seen.count == 0
    # Another worker, or this one after a restart: the summaries exist already.
    monkeypatch.setattr(adherence_events, "_summarised", None)
    assert adherence_events.summarise_last_month(100) == 0
    assert [event.source_key for event in events(ADHERENCE)] == [
        f"adherence.summary:{sharing.id}:C08CA01:{month:%Y-%m}"]


def test_the_backfill_walks_every_ended_month_from_the_one_given(db):
    last = adherence_events.last_month()
    assert last.day == 1 and last < utcnow().date().replace(day=1)
    months = adherence_events.months_since(date(last.year - 1, last.month, 17))
    assert len(months) == 13 and months[0] == date(last.year - 1, last.month, 1) and months[-1] == last
    assert all(month.day == 1 for month in months) and months == sorted(set(months))
    assert adherence_events.months_since(last + timedelta(days=40)) == []
