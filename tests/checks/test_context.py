"""The patient as the checks see them, read from the database: signed prescriptions still running,
allergies, conditions, age and sex (SQLite and PostgreSQL)."""

from datetime import date, timedelta

from app.checks import adapters
from app.checks.engine import ActiveMedication, Kind, MedicationSource, OtherOn, Severity
from app.extensions import db
from app.patients import services as patients
from app.patients.models import PatientProfile, Sex
from app.prescribing import services as rx
from app.prescribing.models import Prescription
from tests import factories
from tests.prescribing.conftest import sign_and_submit


def draft(visit, code, dose, unit="mg", frequency="QD", days=7) -> Prescription:
    prescription = rx.start(visit.consultation, visit.doctor, condition_id=visit.condition.id)
    rx.add_item(prescription, visit.doctor, drug_id=visit.drugs[code].id, dose=str(dose), dose_unit=unit,
                frequency=frequency, duration_days=days)
    db.session.commit()
    return prescription


def about_the_drugs(findings) -> list:
    """The findings without indication fit: the test visit's diagnosis (hypertension) fits none of the
    drugs these tests need (tests/checks/test_patient_context.py covers the diagnosis)."""
    return [finding for finding in findings if finding.kind != Kind.INDICATION]


def signed(visit, code, dose, **sig) -> Prescription:
    prescription = draft(visit, code, dose, **sig)
    sign_and_submit(prescription, visit.doctor, factories.PASSWORD)
    db.session.commit()
    return prescription


def test_an_interaction_with_a_drug_still_taken_from_an_earlier_prescription_is_found(visit):
    earlier = signed(visit, "WARFARIN-2.5MG-TAB", "2.5")
    current = draft(visit, "CAPECITABINE-500MG-TAB", 1500, frequency="BID")

    findings = adapters.check_prescription(current)

    [finding] = [f for f in findings if f.kind == Kind.INTERACTION]
    assert finding.severity == Severity.MAJOR
    assert finding.drug_codes == ("CAPECITABINE-500MG-TAB", "WARFARIN-2.5MG-TAB")
    assert finding.other_on == OtherOn.ACTIVE_MEDICATION
    assert finding.other_source == MedicationSource.PRESCRIPTION
    assert finding.other_reference == f"prescription {earlier.id} v1 line 1"


def test_a_supply_counts_from_the_signing_day_until_it_runs_out(visit):
    earlier = signed(visit, "WARFARIN-2.5MG-TAB", "2.5")
    first_day = rx.local_date(earlier.signed_at)
    last_day = first_day + timedelta(days=earlier.items[0].days_supply - 1)

    still = adapters.build_context(visit.patient, today=last_day)
    assert [(m.drug.code, m.last_day) for m in still.active_medications] == [("WARFARIN-2.5MG-TAB", last_day)]
    assert adapters.build_context(visit.patient, today=last_day + timedelta(days=1)).active_medications == ()
    # After that day capecitabine no longer meets warfarin.
    current = draft(visit, "CAPECITABINE-500MG-TAB", 1500, frequency="BID")
    assert about_the_drugs(adapters.check_prescription(current, today=last_day + timedelta(days=1))) == []


def test_a_superseded_version_and_the_prescription_being_checked_do_not_count(visit):
    first = signed(visit, "SIMVASTATIN-20MG-TAB", 20, frequency="QN")
    revision = rx.revise(first, visit.doctor)
    rx.remove_item(revision, visit.doctor, revision.items[0])
    rx.add_item(revision, visit.doctor, drug_id=visit.drugs["AMLODIPINE-5MG-TAB"].id, dose="5",
                dose_unit="mg", frequency="QD", duration_days=7)
    sign_and_submit(revision, visit.doctor, factories.PASSWORD)
    db.session.commit()

    everything = adapters.build_context(visit.patient)
    assert [m.drug.code for m in everything.active_medications] == ["AMLODIPINE-5MG-TAB"]  # v1 is superseded
    assert adapters.build_context(visit.patient, exclude=revision).active_medications == ()
    # The checked prescription never meets itself, and the superseded simvastatin is not being taken.
    assert about_the_drugs(adapters.check_prescription(revision)) == []
    course = draft(visit, "CLARITHROMYCIN-250MG-TAB", 500, frequency="BID")
    assert [f.kind for f in about_the_drugs(adapters.check_prescription(course))] == []


def test_dispensing_records_can_be_added_as_extra_active_medication(visit, facts):
    current = draft(visit, "SIMVASTATIN-20MG-TAB", 20, frequency="QN")
    dispensed = ActiveMedication(drug=facts["CLARITHROMYCIN-250MG-TAB"], source=MedicationSource.DISPENSING,
                                 reference="dispensing 12")
    [finding] = adapters.check_prescription(current, extra_active=[dispensed])
    assert (finding.severity, finding.other_source) == (Severity.CONTRAINDICATED, MedicationSource.DISPENSING)


def test_the_patient_record_supplies_allergies_conditions_age_and_sex(visit):
    patient = visit.patient
    db.session.add(PatientProfile(user_id=patient.id, legal_name="Test Patient", sex=Sex.FEMALE,
                                  date_of_birth=date(1960, 5, 1)))
    patients.add_allergy(patient, kind="class", substance="", allergy_class="penicillins", reaction="hives",
                         severity="anaphylaxis", recorded_by=patient)
    patients.add_allergy(patient, kind="drug", substance="阿莫西林", allergy_class="", reaction="rash",
                         severity="mild", recorded_by=patient)
    db.session.commit()

    context = adapters.build_context(patient, today=date(2026, 4, 30))
    assert (context.age, context.sex) == (65, "female")
    assert context.condition_codes == (visit.condition.icd10_code,)
    by_name = next(a for a in context.allergies if a.kind == "drug")
    assert (by_name.atc_codes, by_name.ingredients) == (("J01CA04",), ("amoxicillin",))

    amoxicillin = draft(visit, "AMOXICILLIN-250MG-CAP", 500, frequency="TID")
    findings = about_the_drugs(adapters.check_prescription(amoxicillin))
    assert [(f.kind, f.severity) for f in findings] == [(Kind.ALLERGY, Severity.CONTRAINDICATED),
                                                        (Kind.ALLERGY, Severity.MAJOR)]
    cefuroxime = draft(visit, "CEFUROXIME-AXETIL-250MG-TAB", 250, frequency="BID")
    assert {(f.rule_id, f.severity) for f in about_the_drugs(adapters.check_prescription(cefuroxime))} == {
        ("cross-penicillins-cephalosporins", Severity.MODERATE)}
