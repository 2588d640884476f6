"""Health measurements on the patient's own record: what a report may say, which fact is in force, when
it may be out of date, and who may record what."""

import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.checks.patient_facts import Fact
from app.errors import DomainError
from app.patients import facts
from app.patients.models import FactKind, FactSource, PatientFact
from tests import factories
from tests.patients.conftest import make_profile
from tests.query_budget import count_statements

# Noon in Shanghai on 30 June 2026: the prescribing zone's "today" for every test here.
TODAY = date(2026, 6, 30)
NOW = datetime(2026, 6, 30, 4, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch):
    monkeypatch.setattr(facts, "utcnow", lambda: NOW)


@pytest.fixture
def patient(db):
    patient = factories.make_patient()
    make_profile(patient, date_of_birth=date(1980, 5, 1))
    return patient


def text(response) -> str:
    return response.get_data(as_text=True)


def rows(db, patient) -> int:
    return db.session.scalar(select(func.count()).select_from(PatientFact)
                             .where(PatientFact.patient_id == patient.id))


def audit(db, action: str, patient) -> list[AuditEvent]:
    return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action,
                                                       AuditEvent.patient_id == patient.id)).all()


# ---- the service ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("kind", "value", "stored"), [
    ("weight", "0.3", Decimal("0.3")), ("weight", "400", Decimal(400)), ("weight", " 64.5 ", Decimal("64.5")),
    ("weight", "６４", Decimal(64)),  # full-width digits from a Chinese input method
    ("height", "20", Decimal(20)), ("height", "250", Decimal(250)),
    ("egfr", "0", Decimal(0)), ("egfr", "200", Decimal(200)), ("crcl", "200", Decimal(200)),
    ("pregnancy", "0", Decimal(0)), ("pregnancy", "44", Decimal(44)),
    ("breastfeeding", "yes", Decimal(1)), ("breastfeeding", "no", Decimal(0)),
])
def test_a_plausible_value_is_recorded(db, patient, kind, value, stored):
    fact = facts.record_fact(patient, kind, value, TODAY, by=patient)
    assert (fact.kind, fact.value, fact.source) == (kind, stored, FactSource.PATIENT)
    assert fact.consultation_id is None


@pytest.mark.parametrize(("kind", "value", "message"), [
    ("weight", "0.29", "Enter the weight in kg: a number from 0.3 to 400"),
    ("weight", "400.01", "Enter the weight in kg: a number from 0.3 to 400"),
    ("weight", "70.125", "with at most 2 decimals"),
    ("weight", "", "Enter the weight in kg"),
    ("weight", "seventy", "Enter the weight in kg"),
    ("height", "19.99", "Enter the height in cm: a number from 20 to 250"),
    ("height", "250.01", "Enter the height in cm"),
    ("egfr", "200.01", "Enter the eGFR in mL/min/1.73 m²: a number from 0 to 200"),
    ("egfr", "-1", "Enter the eGFR"),
    ("crcl", "200.01", "Enter the creatinine clearance in mL/min"),
    ("pregnancy", "45", "Enter the weeks of pregnancy: a whole number from 0 to 44"),
    ("pregnancy", "12.5", "Enter the weeks of pregnancy"),
    ("breastfeeding", "maybe", "Answer yes or no for breastfeeding."),
    ("weight", "1e2", "Enter the weight in kg"),  # an exponent is not how anyone writes a weight
])
def test_an_implausible_value_is_refused_on_its_field(db, patient, kind, value, message):
    with pytest.raises(DomainError) as refused:
        facts.record_fact(patient, kind, value, TODAY, by=patient)
    assert message in str(refused.value.reasons["value"])
    assert rows(db, patient) == 0


@pytest.mark.parametrize("value", ["1e999999", "9" * 100_000, "1" + "0" * 5000])
def test_a_huge_number_is_refused_at_once(db, patient, value):
    started = time.perf_counter()
    with pytest.raises(DomainError) as refused:
        facts.record_fact(patient, "egfr", value, TODAY, by=patient)
    assert time.perf_counter() - started < 0.5
    assert "from 0 to 200" in str(refused.value.reasons["value"])


def test_the_day_measured_is_not_in_the_future_nor_before_birth(db, patient):
    facts.record_fact(patient, "weight", "70", TODAY, by=patient)  # today in Shanghai is fine
    for day, message in ((TODAY + timedelta(days=1), "cannot be in the future"),
                         (date(1980, 4, 30), "cannot be before the date of birth"),
                         (None, "Enter the date it was measured.")):
        with pytest.raises(DomainError) as refused:
            facts.record_fact(patient, "weight", "70", day, by=patient)
        assert message in str(refused.value.reasons["measured_on"])
    assert rows(db, patient) == 1


def test_every_wrong_field_is_named_at_once(db, patient):
    with pytest.raises(DomainError) as refused:
        facts.record_fact(patient, "weight", "0", TODAY + timedelta(days=3), by=patient)
    assert set(refused.value.reasons) == {"value", "measured_on"}


def test_the_newest_by_day_measured_is_in_force_then_the_latest_recorded(db, patient):
    facts.record_fact(patient, "weight", "70", date(2026, 5, 1), by=patient)
    facts.record_fact(patient, "weight", "80", date(2026, 3, 1), by=patient)  # older, entered later
    facts.record_fact(patient, "egfr", "55", date(2026, 1, 10), by=patient)
    facts.record_fact(patient, "egfr", "48", date(2026, 1, 10), by=patient)  # same day: a correction
    with count_statements(db) as seen:
        in_force = facts.facts_in_force(patient.id)
    assert seen.count == 1
    assert {(f.kind, f.value) for f in in_force} == {(FactKind.WEIGHT, Decimal(70)),
                                                      (FactKind.EGFR, Decimal(48))}
    assert sorted(facts.facts_for_checks(patient.id), key=lambda f: f.kind) == [
        Fact("egfr", Decimal(48), date(2026, 1, 10), "patient"),
        Fact("weight", Decimal(70), date(2026, 5, 1), "patient")]
    assert facts.facts_in_force(factories.make_patient().id) == []  # nobody else's


def test_the_same_report_twice_is_refused_but_a_correction_back_is_kept(db, patient):
    facts.record_fact(patient, "weight", "70", TODAY, by=patient)
    with pytest.raises(DomainError, match="already recorded"):
        facts.record_fact(patient, "weight", "70.00", TODAY, by=patient)
    facts.record_fact(patient, "weight", "72", TODAY, by=patient)
    facts.record_fact(patient, "weight", "70", TODAY, by=patient)  # back to the first value: in force again
    assert [f.value for f in facts.facts_in_force(patient.id)] == [Decimal(70)]


def test_a_patient_cannot_record_the_child_pugh_class_nor_for_someone_else(db, patient):
    with pytest.raises(DomainError) as refused:
        facts.record_fact(patient, "child_pugh", "B", TODAY, by=patient)
    assert "assessed by a doctor" in str(refused.value.reasons["kind"])
    other = factories.make_patient()
    with pytest.raises(DomainError, match="Only the patient"):
        facts.record_fact(patient, "weight", "70", TODAY, by=other)
    with pytest.raises(DomainError, match="Only the patient"):  # a doctor needs a consultation of theirs
        facts.record_fact(patient, "weight", "70", TODAY, by=factories.make_user("doctor"))
    with pytest.raises(DomainError) as unknown:
        facts.record_fact(patient, "temperature", "37", TODAY, by=patient)
    assert "Choose what you are recording" in str(unknown.value.reasons["kind"])
    assert rows(db, patient) == 0


def test_recording_writes_an_audit_row_without_the_value(db, patient):
    fact = facts.record_fact(patient, "egfr", "58.5", TODAY, by=patient)
    [row] = audit(db, "fact.recorded", patient)
    assert (row.object_type, row.object_id, row.actor_id) == ("patient_facts", str(fact.id), None)
    assert row.detail == "egfr by patient" and "58.5" not in row.detail


@pytest.mark.parametrize(("days_old", "stale"), [(183, False), (184, True)])
def test_renal_function_is_stale_after_183_days(db, patient, days_old, stale):
    facts.record_fact(patient, "egfr", "45", TODAY - timedelta(days=days_old), by=patient)
    in_force = facts.facts_in_force(patient.id)
    assert facts.stale(in_force, date_of_birth=date(1980, 5, 1), on=TODAY) == ({"egfr"} if stale else set())


# ---- the patient's page -----------------------------------------------------------------------------

def report(web, choice: str, value: str = "", day: date = TODAY, **extra):
    return web.post("/patients/facts",
                    {"kind": choice, "value": value, "measured_on": day.isoformat(), **extra})


def measurements(page: str) -> str:
    return page.split('id="measurements"')[1].split("</section>")[0]


def test_the_patient_reports_measurements_and_sees_them_on_the_record(db, person):
    web, patient = person("patient")
    make_profile(patient, date_of_birth=date(1980, 5, 1))
    db.session.commit()
    response = report(web, "weight", "64.5", date(2026, 6, 1))
    assert response.status_code == 302 and response.location.endswith("/patients/profile#measurements")
    assert report(web, "crcl", "58", date(2026, 6, 20)).status_code == 302
    assert report(web, "not_pregnant").status_code == 302
    assert report(web, "breastfeeding", day=date(2026, 6, 29)).status_code == 302
    section = measurements(web.page("/patients/profile"))
    assert "64.5 kg" in section and "2026-06-01" in section and "Reported by you" in section
    assert "58 mL/min" in section and "Not pregnant" in section
    assert section.count("Reported by you") == 4 and "May be out of date" not in section
    assert 'value="child_pugh' not in section  # not offered to patients
    assert {(f.kind, f.value) for f in facts.facts_in_force(patient.id)} == {
        ("weight", Decimal("64.5")), ("crcl", Decimal(58)), ("pregnancy", Decimal(0)),
        ("breastfeeding", Decimal(1))}
    assert len(audit(db, "fact.recorded", patient)) == 4
    assert audit(db, "fact.listed", patient)


@pytest.mark.parametrize(("days_old", "badge"), [(183, False), (184, True)])
def test_an_egfr_older_than_183_days_is_marked_as_maybe_out_of_date(db, person, days_old, badge):
    web, patient = person("patient")
    make_profile(patient, date_of_birth=date(1980, 5, 1))
    facts.record_fact(patient, "egfr", "52", TODAY - timedelta(days=days_old), by=patient)
    facts.record_fact(patient, "weight", "70", TODAY - timedelta(days=184), by=patient)  # fresh for a year
    db.session.commit()
    section = measurements(web.page("/patients/profile"))
    assert "52 mL/min/1.73 m²" in section
    assert section.count("data-fact-stale") == (1 if badge else 0)
    if badge:
        egfr = section.split('data-fact-kind="egfr"')[1].split("</li>")[0]
        assert "May be out of date" in egfr


@pytest.mark.parametrize(("fields", "message"), [
    ({"kind": "weight", "value": "0.29"}, "Enter the weight in kg: a number from 0.3 to 400"),
    ({"kind": "egfr", "value": "1e999999"}, "Enter the eGFR in mL/min/1.73 m²"),
    ({"kind": "pregnancy", "value": "45"}, "a whole number from 0 to 44"),
    ({"kind": "not_pregnant", "value": "12"}, "Leave the number empty for this answer."),
    ({"kind": "weight", "value": "70", "measured_on": "2026-07-01"}, "cannot be in the future"),
    ({"kind": "weight", "value": "70", "measured_on": "yesterday"}, "Enter a date such as 2024-05-31."),
    ({"kind": "weight", "value": "70", "measured_on": ""}, "This field is required."),
    ({"kind": "child_pugh_a"}, "The Child-Pugh class is assessed by a doctor."),
    ({"kind": "child_pugh", "value": "A"}, "The Child-Pugh class is assessed by a doctor."),
])
def test_bad_input_is_explained_on_the_form_and_nothing_is_saved(db, person, fields, message):
    web, patient = person("patient")
    response = web.post("/patients/facts", {"measured_on": TODAY.isoformat(), **fields})
    assert response.status_code == 200
    section = measurements(text(response))
    assert message in section and "invalid-feedback" in section
    assert "<details open" in section  # the form stays open with its errors
    assert rows(db, patient) == 0


def test_another_patient_neither_sees_nor_changes_the_facts(db, person):
    _web, patient = person("patient")
    facts.record_fact(patient, "weight", "93.5", TODAY, by=patient)
    db.session.commit()
    other_web, other = person("patient")
    assert "93.5 kg" not in other_web.page("/patients/profile")
    assert report(other_web, "weight", "50").status_code == 302  # recorded for themself only
    assert [f.value for f in facts.facts_in_force(patient.id)] == [Decimal("93.5")]
    assert [f.value for f in facts.facts_in_force(other.id)] == [Decimal(50)]
    # Staff record through a consultation, never through the patient's form.
    doctor_web, _doctor = person("doctor")
    assert report(doctor_web, "weight", "60").status_code == 403


def test_the_measurements_read_in_chinese(db, person):
    web, patient = person("patient", language="zh", locale="zh")
    make_profile(patient, date_of_birth=date(1980, 5, 1))
    facts.record_fact(patient, "egfr", "52", TODAY - timedelta(days=200), by=patient)
    facts.record_fact(patient, "pregnancy", "12", TODAY, by=patient)
    db.session.commit()
    section = measurements(web.page("/patients/profile"))
    assert "健康指标" in section and "由您本人填报" in section and "可能已过时" in section
    assert "妊娠" in section and "12 周" in section and "填报一项指标" in section
    response = report(web, "weight", "500")
    assert "请填写体重（千克）：0.3 至 400 之间的数字，最多 2 位小数。" in measurements(text(response))
