"""The patient facts on the record reach the checks: dated facts, the prescription's diagnosis, and the
prescriber's reason and the pharmacist's rules for every patient-aware finding (SQLite and PostgreSQL)."""

from datetime import date, timedelta

import pytest

from app.accounts.models import Role
from app.checks import adapters
from app.checks.engine import Kind, Severity
from app.database import utcnow
from app.errors import DomainError
from app.extensions import db
from app.patients.models import FactKind, FactSource, PatientFact, PatientProfile, Sex
from app.prescribing.services import local_date
from app.review import services as review
from tests import factories
from tests.checks.test_context import draft
from tests.prescribing.conftest import sign_and_submit


def add_fact(visit, kind: FactKind, value, measured_on: date, source=FactSource.DOCTOR):
    fact = PatientFact(patient_id=visit.patient.id, kind=kind, measured_on=measured_on, source=source,
                       recorded_by_id=visit.doctor.id if source == FactSource.DOCTOR else visit.patient.id,
                       consultation_id=visit.consultation.id if source == FactSource.DOCTOR else None,
                       **({"value_text": value} if kind == FactKind.CHILD_PUGH else {"value": value}))
    db.session.add(fact)
    db.session.commit()
    return fact


def profile(visit, born: date, sex=Sex.FEMALE):
    db.session.add(PatientProfile(user_id=visit.patient.id, legal_name="Test Patient", sex=sex,
                                  date_of_birth=born))
    db.session.commit()


def test_the_newest_fact_of_each_kind_and_the_prescriptions_diagnosis_reach_the_checks(visit):
    today = local_date(utcnow())
    add_fact(visit, FactKind.EGFR, 70, today - timedelta(days=400))
    add_fact(visit, FactKind.EGFR, 25, today - timedelta(days=3))
    add_fact(visit, FactKind.CHILD_PUGH, "B", today - timedelta(days=10))
    metformin = draft(visit, "METFORMIN-500MG-TAB", 500, frequency="BID")

    context = adapters.build_context(visit.patient, exclude=metformin)
    assert {(f.kind, str(f.value)) for f in context.facts} >= {("egfr", "25.00"), ("child_pugh", "B")}
    assert context.diagnosis_codes == (visit.condition.icd10_code,)
    renal = [f for f in adapters.check_prescription(metformin) if f.kind == Kind.RENAL]
    assert renal and renal[0].severity == Severity.CONTRAINDICATED
    assert "eGFR 25 mL/min/1.73 m²" in renal[0].message_en and "eGFR 25" in renal[0].message_zh
    assert "confirm it is still current" not in renal[0].message_en


def test_normal_renal_function_gives_no_renal_finding(visit):
    add_fact(visit, FactKind.EGFR, 95, local_date(utcnow()) - timedelta(days=3))
    metformin = draft(visit, "METFORMIN-500MG-TAB", 500, frequency="BID")
    assert not [f for f in adapters.check_prescription(metformin) if f.kind == Kind.RENAL]


def test_a_finding_on_a_stale_measurement_says_so_in_both_languages(visit):
    measured = local_date(utcnow()) - timedelta(days=200)
    add_fact(visit, FactKind.EGFR, 25, measured)
    metformin = draft(visit, "METFORMIN-500MG-TAB", 500, frequency="BID")
    [renal, *_] = [f for f in adapters.check_prescription(metformin) if f.kind == Kind.RENAL]
    stale = f"({measured.isoformat()}), more than 183 days old: confirm it is still current."
    assert stale in renal.message_en
    assert "已超过183天，请确认是否仍然准确" in renal.message_zh


def test_a_configured_age_limit_makes_a_fact_stale_sooner(app, visit):
    add_fact(visit, FactKind.EGFR, 25, local_date(utcnow()) - timedelta(days=31))
    metformin = draft(visit, "METFORMIN-500MG-TAB", 500, frequency="BID")
    app.config["CHECKS_FACT_MAX_AGE_DAYS"] = {"renal": 30}
    try:
        [renal, *_] = [f for f in adapters.check_prescription(metformin) if f.kind == Kind.RENAL]
    finally:
        app.config["CHECKS_FACT_MAX_AGE_DAYS"] = {}
    assert "more than 30 days old" in renal.message_en


def test_a_contraindicated_renal_finding_needs_the_prescribers_reason_and_blocks_approval(visit):
    add_fact(visit, FactKind.EGFR, 20, local_date(utcnow()) - timedelta(days=3))
    metformin = draft(visit, "METFORMIN-500MG-TAB", 500, frequency="BID")
    with pytest.raises(DomainError) as refused:
        sign_and_submit(metformin, visit.doctor, factories.PASSWORD)
    assert "prescriber_reason" in refused.value.reasons
    db.session.rollback()

    sign_and_submit(metformin, visit.doctor, factories.PASSWORD, reason="Dialysis team agreed; reviewed.")
    db.session.commit()
    renal = [f for f in metformin.findings if f.kind == Kind.RENAL]
    assert renal and renal[0].prescriber_reason == "Dialysis team agreed; reviewed."
    pharmacist = factories.make_user(Role.PHARMACIST, display_name="Pharmacist Wang")
    db.session.commit()
    review.claim(metformin, pharmacist)
    with pytest.raises(DomainError) as blocked:
        review.decide(metformin, pharmacist, "approved", justification="checked")
    assert "cannot be approved" in str(blocked.value.reasons["decision"])


def test_an_older_patient_and_a_pregnancy_on_the_record_reach_the_checks(visit):
    profile(visit, born=date(1940, 1, 1))
    context = adapters.build_context(visit.patient)
    assert context.age >= 80 and context.sex == "female"
    add_fact(visit, FactKind.PREGNANCY, 0, local_date(utcnow()))
    assert any(f.kind == "pregnancy" and f.value == 0 for f in adapters.build_context(visit.patient).facts)
