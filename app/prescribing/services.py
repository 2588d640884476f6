"""Prescribing verbs: draft, add/remove items, set the supply, confirm, sign, verify, revise, extend."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app import limits, numbers
from app.accounts.models import Role
from app.accounts.passwords import verify_password
from app.audit.services import record
from app.consultations.models import Consultation
from app.consultations.states import ConsultationStatus
from app.database import utcnow
from app.drugs.models import Drug, Route
from app.errors import DomainError, InvalidTransition
from app.extensions import db
from app.patients.models import Condition, ConditionStatus
from app.prescribing import quantity, sig_input
from app.prescribing.models import Frequency, PrescribedUnit, Prescription, PrescriptionItem, SupplyCategory
from app.prescribing.rules import MAX_ITEMS, MAX_VALID_DAYS, NEVER_LONG, SUPPLY_LIMIT_DAYS
from app.prescribing.signature import canonical_content, content_hash, verify_signature  # noqa: F401
from app.prescribing.states import CANCELLABLE, MACHINE, REVISABLE, PrescriptionStatus

S = PrescriptionStatus


# Where a returned prescription may still be revised: the consultation it came from went on or ended
# normally (not when the patient was sent to an in-person visit).
ANSWERING_RETURN = (ConsultationStatus.IN_PROGRESS, ConsultationStatus.COMPLETED)


class WrongPassword(DomainError):
    """The signature password was wrong; its audit row is flushed, so the caller commits it."""


# How a status reads inside a sentence.
STATUS_WORDS = {S.APPROVED: _l("approved by a pharmacist"), S.CANCELLED: _l("cancelled")}


# ---- time ----------------------------------------------------------------------------------------

def local_date(moment: datetime) -> date:
    """The calendar day in the prescribing zone: 'valid on the day written' means a China day."""
    return moment.astimezone(ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])).date()


def is_valid(prescription: Prescription, now: datetime | None = None) -> bool:
    """Signed, not replaced by a newer version, and today is on or before its last valid day."""
    if prescription.signed_at is None or prescription.status == S.SUPERSEDED:
        return False
    return local_date(now or utcnow()) <= prescription.valid_until


# ---- guards --------------------------------------------------------------------------------------

def _check_doctor(consultation: Consultation, doctor, *, answering_return: bool = False) -> None:
    profile = doctor.doctor_profile if doctor.role == Role.DOCTOR else None
    if profile is None or not profile.is_verified or not doctor.is_active:
        raise DomainError(_l("Only a verified doctor can prescribe."))
    if consultation.doctor_id != doctor.id:
        raise DomainError(_l("You can only prescribe in your own consultations."))
    # A pharmacist may return a prescription after the consultation was completed; the doctor
    # answers that return without reopening it.
    allowed = ANSWERING_RETURN if answering_return else (ConsultationStatus.IN_PROGRESS,)
    if consultation.status not in allowed:
        raise DomainError(_l("Prescriptions can only be written during a consultation in progress."))


def _answers_return(prescription: Prescription) -> bool:
    previous = prescription.previous_version
    return previous is not None and previous.status == S.RETURNED


def _check_condition(condition: Condition | None, patient_id: int) -> Condition:
    if condition is None or condition.patient_id != patient_id:
        raise DomainError({"condition_id": _l("Choose a diagnosis the patient has on file.")})
    if condition.status != ConditionStatus.VERIFIED:
        raise DomainError({"condition_id": _l(
            "Online prescriptions are only for a diagnosis whose offline record staff have verified.")})
    return condition


def _editable(prescription: Prescription, doctor) -> None:
    if prescription.status != S.DRAFT:
        raise InvalidTransition(_l("A signed prescription cannot be changed; revise it as a new version."))
    if prescription.doctor_id != doctor.id:
        raise DomainError(_l("Only the prescribing doctor can change this prescription."))
    _check_doctor(prescription.consultation, doctor, answering_return=_answers_return(prescription))


def _check_drug(drug: Drug | None) -> Drug:
    if drug is None or not drug.is_active:
        raise DomainError({"drug_id": _l("Choose a drug from the catalogue.")})
    if drug.is_controlled or not drug.is_online_prescribable:
        raise DomainError({"drug_id": _l(
            "%(drug)s cannot be prescribed online; the patient needs an in-person visit.",
            drug=drug.generic_name_en)})
    return drug


def _long_exclusion(drug: Drug):
    if drug.controlled_class in NEVER_LONG:
        return _l("%(drug)s is a controlled drug and cannot be on a long prescription.",
                  drug=drug.generic_name_en)
    if drug.is_antimicrobial:
        return _l("%(drug)s is an antimicrobial and cannot be on a long prescription.",
                  drug=drug.generic_name_en)
    if drug.is_cold_chain:
        return _l("%(drug)s needs cold-chain storage and cannot be on a long prescription.",
                  drug=drug.generic_name_en)
    return None


def _check_supply(category: SupplyCategory, drug: Drug, duration_days: int) -> None:
    """The duration fits the supply category; a long one carries no excluded drug."""
    if category == SupplyCategory.LONG and (problem := _long_exclusion(drug)):
        raise DomainError({"drug_id": problem})
    limit = SUPPLY_LIMIT_DAYS[category]
    if duration_days > limit:
        messages = {
            SupplyCategory.NORMAL: _l(
                "At most %(days)d days unless the diagnosis is chronic and you state why.", days=limit),
            SupplyCategory.CHRONIC: _l("At most %(days)d days for a chronic condition; longer needs a long "
                                       "prescription.", days=limit),
            SupplyCategory.LONG: _l("A long prescription covers at most %(days)d days.", days=limit),
        }
        raise DomainError({"duration_days": messages[category]})


def lock(prescription: Prescription) -> Prescription:
    """Re-read the prescription and the version it replaces under row locks, in id order.

    Every verb that changes a status (sign, revise, cancel, the pharmacist's decision) takes these
    locks first and checks the status afterwards, so two people acting on related versions at once
    (approve v1 while v2 is signed) run one after the other and the second sees what the first did.
    """
    ids = [prescription.id]
    if prescription.previous_version_id is not None:
        ids.append(prescription.previous_version_id)
    rows = db.session.scalars(select(Prescription).where(Prescription.id.in_(ids)).order_by(Prescription.id)
                              .with_for_update(of=Prescription)
                              .execution_options(populate_existing=True)).all()
    return next(row for row in rows if row.id == prescription.id)


# ---- drafting ------------------------------------------------------------------------------------

def start(consultation: Consultation, doctor, *, condition_id) -> Prescription:
    """A new draft for the consultation's patient, for one of their verified diagnoses."""
    _check_doctor(consultation, doctor)
    condition = db.session.get(Condition, condition_id) if condition_id else None
    _check_condition(condition, consultation.patient_id)
    prescription = Prescription(consultation_id=consultation.id, patient_id=consultation.patient_id,
                                doctor_id=doctor.id, condition_id=condition.id, status=S.DRAFT)
    db.session.add(prescription)
    db.session.flush()
    record("prescription.drafted", obj=prescription, patient=prescription.patient_id, actor=doctor)
    return prescription


def set_supply(prescription: Prescription, doctor, category, *, reason: str = "",
               assessment: str = "") -> None:
    """Choose normal / chronic (with a reason) / long (with the doctor's assessment)."""
    _editable(prescription, doctor)
    try:
        category = SupplyCategory(category)
    except ValueError:
        raise DomainError({"supply_category": _l("Choose a supply category.")}) from None
    reason, assessment = (reason or "").strip(), (assessment or "").strip()
    if category == SupplyCategory.CHRONIC and not reason:
        raise DomainError({"chronic_reason": _l("State why this chronic condition needs more than 7 days.")})
    if category == SupplyCategory.LONG and not assessment:
        raise DomainError({"long_assessment": _l(
            "A long prescription needs your assessment that the patient's condition is stable.")})
    for item in prescription.items:
        _check_supply(category, item.drug, item.duration_days)
    prescription.supply_category = category
    prescription.chronic_reason = reason if category == SupplyCategory.CHRONIC else None
    prescription.long_assessment = assessment if category == SupplyCategory.LONG else None
    # The patient agreed to what they saw; any change needs their agreement again.
    prescription.patient_confirmed_long_at = None
    db.session.flush()
    record("prescription.supply_set", obj=prescription, patient=prescription.patient_id, actor=doctor,
           detail=f"category={category}")


def add_item(prescription: Prescription, doctor, *, drug_id, dose, dose_unit, frequency, duration_days,
             route=None, max_doses_per_day=None, times_of_day: str = "",
             instructions: str = "") -> PrescriptionItem:
    """One structured line; quantity and days' supply are computed from it and the pack."""
    _editable(prescription, doctor)
    if len(prescription.items) >= MAX_ITEMS:
        raise DomainError({"drug_id": _l("A prescription holds at most %(count)d drugs.", count=MAX_ITEMS)})
    drug = _check_drug(db.session.get(Drug, drug_id) if numbers.id_or_none(drug_id) else None)
    dose_unit = sig_input.choice_of(PrescribedUnit, dose_unit, "dose_unit")
    dose = sig_input.parse_dose(dose, dose_unit)
    frequency = sig_input.choice_of(Frequency, frequency, "frequency")
    route = sig_input.choice_of(Route, route, "route") if route else drug.route
    per_day = limits.DOSES_PER_DAY
    if frequency == Frequency.PRN:
        if not isinstance(max_doses_per_day, int) or not per_day.low <= max_doses_per_day <= per_day.high:
            raise DomainError({"max_doses_per_day": _l(
                "As-needed dosing needs a maximum number of doses a day.")})
    else:
        max_doses_per_day = None
    if not isinstance(duration_days, int) or duration_days < 1:
        raise DomainError({"duration_days": _l("Enter the duration in whole days.")})
    _check_supply(prescription.supply_category, drug, duration_days)
    if duration_days > limits.DURATION_DAYS.high:  # whatever the supply category said
        raise DomainError({"duration_days": _l("Enter at most %(days)d days.",
                                               days=limits.DURATION_DAYS.high)})
    per_day = quantity.doses_per_day(frequency, max_doses_per_day)
    times = sig_input.parse_times(times_of_day, frequency, per_day)
    amount = sig_input.check_amount(
        quantity.compute(drug, dose, dose_unit, frequency, duration_days, max_doses_per_day))
    item = PrescriptionItem(
        position=max((i.position for i in prescription.items), default=0) + 1, drug=drug, dose=dose,
        dose_unit=dose_unit, route=route, frequency=frequency, max_doses_per_day=max_doses_per_day,
        times_of_day=times, duration_days=duration_days, instructions=(instructions or "").strip()[:255],
        quantity_packs=amount.packs, days_supply=amount.days_supply)
    prescription.items.append(item)
    prescription.patient_confirmed_long_at = None
    db.session.flush()
    record("prescription.item_added", obj=prescription, patient=prescription.patient_id, actor=doctor,
           detail=f"drug={drug.code}; packs={amount.packs}; days_supply={amount.days_supply}")
    return item


def remove_item(prescription: Prescription, doctor, item: PrescriptionItem) -> None:
    _editable(prescription, doctor)
    if item.prescription_id != prescription.id:
        raise DomainError(_l("This line is not on this prescription."))
    prescription.items.remove(item)
    prescription.patient_confirmed_long_at = None
    db.session.flush()
    record("prescription.item_removed", obj=prescription, patient=prescription.patient_id, actor=doctor,
           detail=f"drug={item.drug.code}")


def confirm_long(prescription: Prescription, patient) -> None:
    """The patient agrees to a long prescription (the rules require their confirmation)."""
    if prescription.patient_id != patient.id:
        raise DomainError(_l("This prescription is not yours."))
    if prescription.status != S.DRAFT or prescription.supply_category != SupplyCategory.LONG:
        raise InvalidTransition(_l("There is no long prescription waiting for your confirmation."))
    prescription.patient_confirmed_long_at = utcnow().replace(microsecond=0)
    db.session.flush()
    record("prescription.long_confirmed", obj=prescription, patient=patient, actor=patient)


# ---- signature -----------------------------------------------------------------------------------

def sign(prescription: Prescription, doctor, password: str) -> Prescription:
    """Re-check the password, re-check every rule, freeze the content under its SHA-256; returns the
    locked prescription, for the caller to submit for review."""
    prescription = lock(prescription)
    _editable(prescription, doctor)
    if not verify_password(doctor.password_hash, password or ""):
        record("prescription.sign_refused", obj=prescription, patient=prescription.patient_id, actor=doctor,
               detail="wrong password")
        raise WrongPassword({"password": _l("The password is not right; the prescription was not signed.")})
    _check_condition(prescription.condition, prescription.patient_id)
    if not prescription.items:
        raise DomainError({"drug_id": _l("Add at least one drug before signing.")})
    for item in prescription.items:
        _check_drug(item.drug)
        _check_supply(prescription.supply_category, item.drug, item.duration_days)
    if prescription.supply_category == SupplyCategory.LONG and prescription.patient_confirmed_long_at is None:
        raise DomainError({"supply_category": _l(
            "The patient has not yet confirmed the long prescription.")})
    # Whole seconds: the hashed timestamp must read back identically from either database.
    prescription.signed_at = utcnow().replace(microsecond=0)
    prescription.signed_by_id = doctor.id
    prescription.valid_until = local_date(prescription.signed_at)
    prescription.content_sha256 = content_hash(prescription)
    MACHINE.move(prescription, S.SIGNED)
    db.session.flush()
    record("prescription.signed", obj=prescription, patient=prescription.patient_id, actor=doctor,
           detail=f"version={prescription.version}; sha256={prescription.content_sha256}")
    _replace_previous(prescription, doctor)
    MACHINE.move(prescription, S.AWAITING_REVIEW)
    db.session.flush()
    record("prescription.submitted_for_review", obj=prescription, patient=prescription.patient_id,
           actor=doctor)
    # The caller then runs app.review.services.submit() in the same transaction: review builds on
    # prescribing, so prescribing never calls up into it.
    return prescription


def _replace_previous(prescription: Prescription, doctor) -> None:
    previous = prescription.previous_version  # locked and re-read by sign()
    if previous is not None and previous.status != S.SUPERSEDED:
        if not MACHINE.can_move(previous.status, S.SUPERSEDED):
            raise InvalidTransition(_l(
                "Version %(version)d was %(status)s while you revised it, so this draft cannot replace it. "
                "Cancel this draft; write a new prescription if something must change.",
                version=previous.version, status=STATUS_WORDS.get(previous.status, previous.status.value)))
        MACHINE.move(previous, S.SUPERSEDED)
        db.session.flush()
        record("prescription.superseded", obj=previous, patient=previous.patient_id, actor=doctor,
               detail=f"by={prescription.id}")


def extend_validity(prescription: Prescription, doctor, until: date, now: datetime | None = None) -> None:
    """The prescribing doctor extends the last valid day, never past 3 days in all."""
    prescription = lock(prescription)
    if prescription.doctor_id != doctor.id or prescription.signed_at is None:
        raise DomainError(_l("Only the prescribing doctor can extend a signed prescription."))
    if not is_valid(prescription, now):
        raise DomainError({"valid_until": _l("This prescription has expired and can no longer be extended.")})
    latest = local_date(prescription.signed_at) + timedelta(days=MAX_VALID_DAYS - 1)
    if until > latest:
        raise DomainError({"valid_until": _l(
            "A prescription is valid for at most %(days)d days, until %(date)s.", days=MAX_VALID_DAYS,
            date=latest.isoformat())})
    if until <= prescription.valid_until:
        raise DomainError({"valid_until": _l("Choose a day after the current last valid day.")})
    prescription.valid_until = until
    db.session.flush()
    record("prescription.validity_extended", obj=prescription, patient=prescription.patient_id, actor=doctor,
           detail=f"until={until.isoformat()}")


def revise(prescription: Prescription, doctor) -> Prescription:
    """A new draft version copying the signed one; the signed one stays as it was until replaced."""
    prescription = lock(prescription)  # two revisions at once: the second sees the first's draft
    if prescription.status not in REVISABLE:
        raise InvalidTransition(_l("Only a signed prescription can be revised."))
    if prescription.doctor_id != doctor.id:
        raise DomainError(_l("Only the prescribing doctor can revise this prescription."))
    _check_doctor(prescription.consultation, doctor, answering_return=prescription.status == S.RETURNED)
    if db.session.scalar(select(Prescription.id).where(Prescription.previous_version_id == prescription.id)):
        raise DomainError(_l("This prescription already has a newer version."))
    draft = Prescription(
        consultation_id=prescription.consultation_id, patient_id=prescription.patient_id, doctor_id=doctor.id,
        condition_id=prescription.condition_id, status=S.DRAFT, supply_category=prescription.supply_category,
        chronic_reason=prescription.chronic_reason, long_assessment=prescription.long_assessment,
        version=prescription.version + 1, previous_version_id=prescription.id)
    draft.items = [PrescriptionItem(
        position=i.position, drug_id=i.drug_id, dose=i.dose, dose_unit=i.dose_unit, route=i.route,
        frequency=i.frequency, max_doses_per_day=i.max_doses_per_day, times_of_day=i.times_of_day,
        duration_days=i.duration_days, instructions=i.instructions, quantity_packs=i.quantity_packs,
        days_supply=i.days_supply) for i in prescription.items]
    db.session.add(draft)
    db.session.flush()
    record("prescription.revised", obj=draft, patient=draft.patient_id, actor=doctor,
           detail=f"from={prescription.id}; version={draft.version}")
    return draft


def cancel(prescription: Prescription, doctor, reason: str = "") -> None:
    """The doctor withdraws a draft, or a returned prescription they will not revise; kept on record."""
    prescription = lock(prescription)
    if prescription.doctor_id != doctor.id:
        raise DomainError(_l("Only the prescribing doctor can cancel this prescription."))
    if prescription.status not in CANCELLABLE:
        raise InvalidTransition(_l("Only a draft or a returned prescription can be cancelled."))
    if db.session.scalar(select(Prescription.id).where(Prescription.previous_version_id == prescription.id)):
        raise DomainError(_l("This prescription already has a newer version."))
    MACHINE.move(prescription, S.CANCELLED)
    db.session.flush()
    record("prescription.cancelled", obj=prescription, patient=prescription.patient_id, actor=doctor,
           detail=(reason or "").strip()[:200] or None)
