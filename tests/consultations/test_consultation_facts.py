"""Health measurements on the doctor's consultation page: the facts in force with their age, and the
consultation's doctor recording or confirming one while the consultation is in progress."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.consultations import record
from app.consultations import services as consultations
from app.database import utcnow
from app.extensions import db as _db
from app.patients import facts
from app.patients.models import FactSource, PatientFact
from app.prescribing.queries import today as prescribing_today
from tests import factories
from tests.patients.conftest import make_profile
from tests.query_budget import count_statements

FIXED_TODAY = date(2026, 6, 30)


@pytest.fixture
def visit(flow):
    """A consultation in progress, its patient with a profile."""
    consultation = flow.accepted()
    make_profile(consultation.patient, date_of_birth=date(1975, 2, 1))
    _db.session.commit()
    return consultation


def rows(patient_id: int) -> int:
    return _db.session.scalar(select(func.count()).select_from(PatientFact)
                              .where(PatientFact.patient_id == patient_id))


def measurements(page: str) -> str:
    return page.split('id="measurements"')[1].split("<h3")[0]


def post_fact(browser, consultation, choice: str, value: str = "", day: date | None = None):
    day = day or prescribing_today()
    return browser.post(f"/consultations/{consultation.id}/facts",
                        data={"kind": choice, "value": value, "measured_on": day.isoformat()})


def test_the_doctor_records_renal_and_hepatic_function_in_the_consultation(db, as_user, visit):
    doctor = as_user(visit.doctor)
    response = post_fact(doctor, visit, "egfr", "38")
    assert response.status_code == 303
    assert response.location.endswith(f"/consultations/{visit.id}#measurements")
    assert post_fact(doctor, visit, "child_pugh_b").status_code == 303
    in_force = {f.kind: f for f in facts.facts_in_force(visit.patient_id)}
    assert in_force["egfr"].value == Decimal(38) and in_force["child_pugh"].value_text == "B"
    assert {(f.source, f.consultation_id, f.recorded_by_id) for f in in_force.values()} == {
        (FactSource.DOCTOR, visit.id, visit.doctor_id)}
    section = measurements(doctor.get(f"/consultations/{visit.id}").get_data(as_text=True))
    assert "38 mL/min/1.73 m²" in section and "Class B" in section
    assert section.count(f"Recorded by Dr {visit.doctor.display_name}") == 2
    audited = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "fact.recorded",
                                                          AuditEvent.patient_id == visit.patient_id)).all()
    assert sorted(row.detail for row in audited) == [
        f"child_pugh by doctor in consultation {visit.id}", f"egfr by doctor in consultation {visit.id}"]
    assert {row.actor_id for row in audited} == {visit.doctor_id}


def test_the_doctor_confirms_what_the_patient_reported(db, as_user, visit):
    reported_on = prescribing_today() - timedelta(days=10)
    facts.record_fact(visit.patient, "weight", "58.4", reported_on, by=visit.patient)
    _db.session.commit()
    doctor = as_user(visit.doctor)
    section = measurements(doctor.get(f"/consultations/{visit.id}").get_data(as_text=True))
    assert "58.4 kg" in section and "Reported by the patient" in section
    # The confirm button carries the report as it stands.
    assert 'name="kind" value="weight"' in section and 'name="value" value="58.4"' in section
    assert f'name="measured_on" value="{reported_on.isoformat()}"' in section
    assert post_fact(doctor, visit, "weight", "58.4", reported_on).status_code == 303
    [confirmed] = facts.facts_in_force(visit.patient_id)
    assert (confirmed.source, confirmed.value, confirmed.measured_on) == (FactSource.DOCTOR, Decimal("58.4"),
                                                                         reported_on)
    section = measurements(doctor.get(f"/consultations/{visit.id}").get_data(as_text=True))
    assert "Recorded by Dr" in section and "Reported by the patient" not in section
    patient_page = as_user(visit.patient).get("/patients/profile").get_data(as_text=True)
    assert f"Confirmed by Dr {visit.doctor.display_name}" in patient_page


def test_bad_input_is_shown_on_the_doctors_form_and_nothing_is_saved(db, as_user, visit):
    doctor = as_user(visit.doctor)
    response = post_fact(doctor, visit, "crcl", "250")
    assert response.status_code == 400
    section = measurements(response.get_data(as_text=True))
    assert "Enter the creatinine clearance in mL/min: a number from 0 to 200" in section
    assert "<details open" in section
    response = post_fact(doctor, visit, "weight", "70", prescribing_today() + timedelta(days=2))
    assert response.status_code == 400 and "cannot be in the future" in response.get_data(as_text=True)
    assert rows(visit.patient_id) == 0


def test_only_the_consultations_doctor_records_and_only_while_it_is_in_progress(db, as_user, visit, flow):
    for outsider in (factories.make_user("doctor"), flow.accepted().doctor):  # not theirs, even with patients
        assert post_fact(as_user(outsider), visit, "egfr", "40").status_code == 404
    assert post_fact(as_user(visit.patient), visit, "egfr", "40").status_code == 403
    assert post_fact(as_user(factories.make_user("pharmacist")), visit, "egfr", "40").status_code == 403
    assert rows(visit.patient_id) == 0

    consultations.save_note(visit, visit.doctor, complaint="c", findings="f", assessment="a", plan="p")
    consultations.complete(visit, visit.doctor)
    _db.session.commit()
    doctor = as_user(visit.doctor)
    response = post_fact(doctor, visit, "egfr", "40")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Measurements can only be recorded while the consultation is in progress." in page
    assert rows(visit.patient_id) == 0
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "consultation.action_refused", AuditEvent.object_id == str(visit.id))) == 1
    # The completed consultation's page still shows the record, without the form.
    page = doctor.get(f"/consultations/{visit.id}").get_data(as_text=True)
    assert 'id="record-facts"' in page and f"/consultations/{visit.id}/facts" not in page


def test_the_record_marks_facts_older_than_their_limit(db, visit):
    patient = visit.patient
    facts.record_fact(patient, "egfr", "44", FIXED_TODAY - timedelta(days=184), by=patient)
    # A creatinine clearance older still: the two renal measures are in force each on its own.
    facts.record_fact(patient, "crcl", "50", FIXED_TODAY - timedelta(days=300), by=patient)
    facts.record_fact(patient, "weight", "70", FIXED_TODAY - timedelta(days=183), by=patient)
    facts.record_fact(patient, "height", "170", FIXED_TODAY - timedelta(days=800), by=patient)
    shown = {row.kind: row for row in record.patient_record(visit, FIXED_TODAY).facts}
    assert {kind: row.stale for kind, row in shown.items()} == {
        "egfr": True, "crcl": True, "weight": False, "height": True}
    facts.record_fact(patient, "egfr", "44", FIXED_TODAY - timedelta(days=183), by=patient)
    shown = {row.kind: row for row in record.patient_record(visit, FIXED_TODAY).facts}
    assert not shown["egfr"].stale
    # The page lists them in a fixed order (body, kidneys, liver, pregnancy), whatever their age.
    assert list(shown) == ["weight", "height", "egfr", "crcl"]


def test_the_page_reads_every_fact_in_the_statements_it_already_ran(db, as_user, visit):
    doctor = as_user(visit.doctor)
    patient = visit.patient

    def statements() -> int:
        _db.session.expire_all()
        with count_statements(_db) as seen:
            assert doctor.get(f"/consultations/{visit.id}").status_code == 200
        return seen.count

    without = statements()
    facts.record_fact(patient, "weight", "70", prescribing_today(), by=patient)
    one = statements()
    day = prescribing_today() - timedelta(days=1)
    for kind, value in (("height", "170"), ("egfr", "60"), ("crcl", "65"), ("pregnancy", "0"),
                        ("breastfeeding", "no")):
        facts.record_fact(patient, kind, value, day, by=patient)
    consultations_fact = record.record_fact(visit, visit.doctor, "child_pugh", "A", day)
    _db.session.commit()
    assert consultations_fact.consultation_id == visit.id
    assert without == one == statements()


def test_the_doctors_page_reads_in_chinese(db, as_user, flow):
    consultation = flow.accepted(doctor=flow.doctor(locale="zh"))
    patient = consultation.patient
    facts.record_fact(patient, "egfr", "52", utcnow().date() - timedelta(days=400), by=patient)
    _db.session.commit()
    page = as_user(consultation.doctor).get(f"/consultations/{consultation.id}").get_data(as_text=True)
    section = measurements(page)
    assert "健康指标" in section and "由患者填报" in section and "可能已过时" in section
    assert "Child-Pugh B 级" in section  # a choice only doctors are offered
