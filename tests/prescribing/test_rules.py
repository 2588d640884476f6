"""Acceptance 1: who may prescribe, for which diagnosis, how many drugs, which drugs, for how long."""

from datetime import timedelta

import pytest

from app.accounts.models import Role
from app.consultations import services as consultations
from app.errors import DomainError, InvalidTransition
from app.extensions import db
from app.patients.models import ConditionStatus
from app.prescribing import services as rx
from app.prescribing.models import SupplyCategory
from app.prescribing.states import PrescriptionStatus
from tests import factories
from tests.prescribing.conftest import item, sign_and_submit


def test_prescription_for_a_diagnosis_the_patient_does_not_have_on_file_is_refused(visit):
    someone_elses = visit.flow.condition()  # verified, but another patient's
    with pytest.raises(DomainError) as refused:
        rx.start(visit.consultation, visit.doctor, condition_id=someone_elses.id)
    assert "condition_id" in refused.value.reasons
    with pytest.raises(DomainError):
        rx.start(visit.consultation, visit.doctor, condition_id=None)


@pytest.mark.parametrize("status", [ConditionStatus.PENDING, ConditionStatus.REJECTED])
def test_prescription_for_a_diagnosis_not_verified_is_refused(visit, status):
    unverified = visit.flow.condition(visit.patient, status=status, icd10_code="I10", name="Hypertension")
    with pytest.raises(DomainError) as refused:
        rx.start(visit.consultation, visit.doctor, condition_id=unverified.id)
    assert "verified" in str(refused.value.reasons["condition_id"])


def test_a_verified_diagnosis_of_the_consultation_patient_starts_a_draft(visit, draft):
    assert draft.status == PrescriptionStatus.DRAFT
    assert (draft.patient_id, draft.doctor_id, draft.condition_id, draft.version) == (
        visit.patient.id, visit.doctor.id, visit.condition.id, 1)


def test_six_items_are_refused(visit, draft):
    for _ in range(5):
        item(draft, visit.doctor, visit.drugs)
    with pytest.raises(DomainError) as refused:
        item(draft, visit.doctor, visit.drugs, "METFORMIN-500MG-TAB", dose="500", frequency="BID")
    assert "at most 5" in str(refused.value.reasons["drug_id"])
    assert len(draft.items) == 5


def test_sixty_days_for_a_non_chronic_diagnosis_is_refused(visit, draft):
    with pytest.raises(DomainError) as refused:
        item(draft, visit.doctor, visit.drugs, duration_days=60)
    assert "duration_days" in refused.value.reasons
    with pytest.raises(DomainError):
        item(draft, visit.doctor, visit.drugs, duration_days=8)
    assert item(draft, visit.doctor, visit.drugs, duration_days=7).duration_days == 7


def test_four_weeks_for_a_chronic_condition_needs_a_stated_reason(visit, draft):
    with pytest.raises(DomainError) as refused:
        rx.set_supply(draft, visit.doctor, "chronic", reason="  ")
    assert "chronic_reason" in refused.value.reasons
    rx.set_supply(draft, visit.doctor, "chronic", reason="Stable hypertension, monthly follow-up.")
    assert item(draft, visit.doctor, visit.drugs, duration_days=28).duration_days == 28
    with pytest.raises(DomainError):
        item(draft, visit.doctor, visit.drugs, duration_days=60)


def test_twelve_weeks_without_an_assessment_is_refused(visit, draft):
    with pytest.raises(DomainError) as refused:
        rx.set_supply(draft, visit.doctor, "long", assessment="")
    assert "long_assessment" in refused.value.reasons
    assert draft.supply_category == SupplyCategory.NORMAL
    with pytest.raises(DomainError):
        item(draft, visit.doctor, visit.drugs, duration_days=84)


def test_twelve_weeks_with_an_assessment_and_patient_confirmation_is_accepted(visit, draft):
    rx.set_supply(draft, visit.doctor, "long", assessment="BP controlled for 6 months; no side effects.")
    line = item(draft, visit.doctor, visit.drugs, duration_days=84)
    with pytest.raises(DomainError) as unconfirmed:
        sign_and_submit(draft, visit.doctor, factories.PASSWORD)
    assert "confirmed" in str(unconfirmed.value.reasons["supply_category"])
    rx.confirm_long(draft, visit.patient)
    sign_and_submit(draft, visit.doctor, factories.PASSWORD)
    assert draft.status == PrescriptionStatus.AWAITING_REVIEW
    assert (line.duration_days, line.quantity_packs, line.days_supply) == (84, 3, 84)
    revision = rx.revise(draft, visit.doctor)
    with pytest.raises(DomainError) as refused:  # 13 weeks is beyond even a long prescription
        item(revision, visit.doctor, visit.drugs, duration_days=91)
    assert "duration_days" in refused.value.reasons


def test_only_the_patient_confirms_a_long_prescription(visit, draft):
    rx.set_supply(draft, visit.doctor, "long", assessment="Stable.")
    with pytest.raises(DomainError):
        rx.confirm_long(draft, factories.make_patient())
    rx.confirm_long(draft, visit.patient)
    item(draft, visit.doctor, visit.drugs, duration_days=84)  # a change needs confirming again
    assert draft.patient_confirmed_long_at is None


@pytest.mark.parametrize("code", ["OXYCODONE-10MG-SRTAB", "DIAZEPAM-2.5MG-TAB"])
def test_oxycodone_and_diazepam_cannot_be_prescribed_online(visit, draft, code):
    with pytest.raises(DomainError) as refused:
        item(draft, visit.doctor, visit.drugs, code, dose="2.5" if "DIAZEPAM" in code else "10")
    assert "cannot be prescribed online" in str(refused.value.reasons["drug_id"])
    assert draft.items == []


def test_insulin_cold_chain_cannot_be_on_a_long_prescription(visit, draft):
    rx.set_supply(draft, visit.doctor, "long", assessment="HbA1c stable at 6.8% for a year.")
    with pytest.raises(DomainError) as refused:
        item(draft, visit.doctor, visit.drugs, "INSULIN-GLARGINE-300IU-PEN", dose="20", dose_unit="IU",
             duration_days=56)
    assert "cold-chain" in str(refused.value.reasons["drug_id"])
    # Nor by switching to long after the insulin is on it.
    rx.set_supply(draft, visit.doctor, "chronic", reason="Insulin-treated diabetes.")
    item(draft, visit.doctor, visit.drugs, "INSULIN-GLARGINE-300IU-PEN", dose="20", dose_unit="IU",
         duration_days=28)
    with pytest.raises(DomainError):
        rx.set_supply(draft, visit.doctor, "long", assessment="Stable.")
    assert draft.supply_category == SupplyCategory.CHRONIC


def test_as_needed_dosing_needs_a_daily_maximum(visit, draft):
    with pytest.raises(DomainError) as refused:
        item(draft, visit.doctor, visit.drugs, "SALBUTAMOL-100UG-INH", dose="200", dose_unit="µg",
             frequency="PRN")
    assert "max_doses_per_day" in refused.value.reasons


def test_a_dose_unit_that_does_not_fit_the_strength_is_refused(visit, draft):
    with pytest.raises(DomainError) as refused:
        item(draft, visit.doctor, visit.drugs, dose="5", dose_unit="IU")
    assert "dose_unit" in refused.value.reasons


def test_another_doctor_cannot_prescribe_in_the_consultation(visit):
    other = factories.make_user(Role.DOCTOR)
    with pytest.raises(DomainError):
        rx.start(visit.consultation, other, condition_id=visit.condition.id)


def test_an_unverified_doctor_cannot_prescribe(visit):
    visit.doctor.doctor_profile.is_verified = False
    db.session.flush()
    with pytest.raises(DomainError) as refused:
        rx.start(visit.consultation, visit.doctor, condition_id=visit.condition.id)
    assert "verified doctor" in str(refused.value)


def test_no_prescribing_once_the_consultation_has_ended(visit, draft):
    for field in ("complaint", "findings", "assessment", "plan"):
        setattr(visit.consultation, field, "Noted.")
    consultations.complete(visit.consultation, visit.doctor)
    db.session.commit()
    with pytest.raises(DomainError):
        rx.start(visit.consultation, visit.doctor, condition_id=visit.condition.id)
    with pytest.raises(DomainError):
        item(draft, visit.doctor, visit.drugs)


def test_a_signed_prescription_cannot_be_edited(visit, draft):
    item(draft, visit.doctor, visit.drugs)
    sign_and_submit(draft, visit.doctor, factories.PASSWORD)
    with pytest.raises(InvalidTransition):
        item(draft, visit.doctor, visit.drugs)
    with pytest.raises(InvalidTransition):
        rx.set_supply(draft, visit.doctor, "chronic", reason="x")


def test_a_prescription_signed_4_days_ago_cannot_be_extended_or_filled(visit, draft):
    item(draft, visit.doctor, visit.drugs)
    sign_and_submit(draft, visit.doctor, factories.PASSWORD)
    signed_day = rx.local_date(draft.signed_at)
    assert draft.valid_until == signed_day
    four_days_later = draft.signed_at + timedelta(days=4)
    assert rx.is_valid(draft, draft.signed_at)
    assert not rx.is_valid(draft, four_days_later)
    with pytest.raises(DomainError) as refused:
        rx.extend_validity(draft, visit.doctor, signed_day + timedelta(days=2), now=four_days_later)
    assert "expired" in str(refused.value.reasons["valid_until"])
    assert draft.valid_until == signed_day


def test_validity_extends_to_at_most_3_days(visit, draft):
    item(draft, visit.doctor, visit.drugs)
    sign_and_submit(draft, visit.doctor, factories.PASSWORD)
    signed_day = rx.local_date(draft.signed_at)
    with pytest.raises(DomainError):  # day 4 counting the day of signing
        rx.extend_validity(draft, visit.doctor, signed_day + timedelta(days=3), now=draft.signed_at)
    rx.extend_validity(draft, visit.doctor, signed_day + timedelta(days=2), now=draft.signed_at)
    assert rx.is_valid(draft, draft.signed_at + timedelta(days=2))
    assert not rx.is_valid(draft, draft.signed_at + timedelta(days=3))


@pytest.mark.parametrize(("field", "value"),
                         [("frequency", "TWICE"), ("dose_unit", "spoon"), ("route", "nasal")])
def test_a_choice_outside_the_lists_is_refused_on_its_field(visit, draft, field, value):
    with pytest.raises(DomainError) as refused:
        item(draft, visit.doctor, visit.drugs, **{field: value})
    assert field in refused.value.reasons
