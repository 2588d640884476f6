"""Patient-record verbs: profile, addresses, consents, allergies, conditions and their review."""

import re
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from app.accounts.models import User
from app.accounts.services import parse_phone, require_verified_phone
from app.audit.services import record
from app.database import utcnow
from app.errors import DomainError, InvalidTransition
from app.extensions import db
from app.patients import catalog
from app.patients import states as condition_states
from app.patients.identity import normalise_id_number, time_zones, today_for
from app.patients.models import (
    Address,
    Allergy,
    AllergyKind,
    Condition,
    ConditionStatus,
    Consent,
    ConsentKind,
    PatientProfile,
    Severity,
    Sex,
    Upload,
    UploadPurpose,
)
from app.patients.queries import active_addresses, active_allergies, active_consent, patient_conditions
from app.patients.uploads import save_upload, upload_path
from app.text import clean_name

# The consent text version a new grant records; bump it when the wording shown to patients changes.
CONSENT_VERSIONS = {"data_sharing": "2026-11", "sms_reminders": "2026-11", "record_linkage": "2026-12"}

REQUIRED = _l("This field is required.")
EARLIEST_DATE = date(1900, 1, 1)


def save_profile(patient: User, *, legal_name: str, sex: str, date_of_birth: date,
                 id_document_number: str | None, time_zone: str) -> PatientProfile:
    """Create or update the profile; an empty ID number keeps the one on file (it is never echoed back)."""
    reasons = {}
    legal_name = clean_name(legal_name)
    if not legal_name:
        reasons["legal_name"] = REQUIRED
    if date_of_birth is None:
        reasons["date_of_birth"] = REQUIRED
    elif date_of_birth > today_for(patient):
        reasons["date_of_birth"] = _l("The date of birth cannot be in the future.")
    elif date_of_birth < EARLIEST_DATE:
        reasons["date_of_birth"] = _l("Enter a date of birth after 1 January 1900.")
    if time_zone not in time_zones():
        reasons["time_zone"] = _l("Choose a time zone from the list.")
    try:
        number = normalise_id_number(id_document_number)
    except DomainError as error:
        reasons.update(error.reasons)
        number = None
    if reasons:
        raise DomainError(reasons)

    profile = patient.patient_profile
    changed = []
    if profile is None:
        profile = PatientProfile(user_id=patient.id, legal_name=legal_name, sex=Sex(sex),
                                 date_of_birth=date_of_birth, id_document_number=number)
        db.session.add(profile)
        patient.patient_profile = profile
        changed = ["created"]
    else:
        new_values = {"legal_name": legal_name, "sex": Sex(sex), "date_of_birth": date_of_birth}
        if number is not None:
            new_values["id_document_number"] = number
        for name, value in new_values.items():
            if getattr(profile, name) != value:
                setattr(profile, name, value)
                changed.append(name)
    if patient.time_zone != time_zone:
        patient.time_zone = time_zone
        changed.append("time_zone")
    db.session.flush()
    # Field names only: the audit log must not become a second copy of the ID number.
    record("patient.profile.updated", object_type="patient_profiles", object_id=patient.id,
           patient=patient, detail=",".join(changed) or "unchanged")
    if "time_zone" in changed:  # dose times are local: the reminders move with the patient
        from app.reminders.plans import rebuild

        rebuild(patient)
    return profile


def lock_patient(patient: User) -> None:
    """Serialise one patient's writes that must stay single (one default address, one active consent).

    PostgreSQL takes a row lock on the user until commit; SQLite already serialises writers.
    """
    db.session.execute(select(User.id).where(User.id == patient.id).with_for_update())


def _clear_default(patient: User) -> None:
    db.session.execute(update(Address).where(Address.patient_id == patient.id, Address.is_default)
                       .values(is_default=False))


def add_address(patient: User, *, recipient: str, phone: str, province: str, city: str,
                district: str, street: str, postal_code: str, make_default: bool) -> Address:
    recipient, province, city, district, street = (
        clean_name(value) for value in (recipient, province, city, district, street))
    reasons = {}
    for name, value in (("recipient", recipient), ("province", province), ("city", city),
                        ("street", street)):
        if not value:
            reasons[name] = REQUIRED
    try:
        e164 = parse_phone(phone)
    except DomainError as error:
        reasons.update(error.reasons)
        e164 = None
    if not e164 and "phone" not in reasons:
        reasons["phone"] = REQUIRED
    postal_code = (postal_code or "").strip()
    if postal_code and not re.fullmatch(r"\d{6}", postal_code):
        reasons["postal_code"] = _l("Enter a 6-digit postal code.")
    if reasons:
        raise DomainError(reasons)
    lock_patient(patient)
    # The first address is the default, so checkout always has one to offer.
    make_default = make_default or not active_addresses(patient)
    if make_default:
        _clear_default(patient)
    address = Address(patient_id=patient.id, recipient=recipient, phone=e164, province=province,
                      city=city, district=district, street=street, postal_code=postal_code,
                      is_default=make_default)
    db.session.add(address)
    db.session.flush()
    record("address.added", obj=address, patient=patient)
    return address


def set_default_address(patient: User, address: Address) -> None:
    if not address.is_active:
        raise DomainError(_l("This address has been removed."))
    lock_patient(patient)
    _clear_default(patient)
    address.is_default = True
    db.session.flush()
    record("address.default_set", obj=address, patient=patient)


def remove_address(patient: User, address: Address) -> None:
    """Soft removal: past deliveries still point at the row."""
    if not address.is_active:
        raise DomainError(_l("This address has been removed."))
    was_default = address.is_default
    address.is_active = False
    address.is_default = False
    db.session.flush()
    if was_default:
        remaining = active_addresses(patient)
        if remaining:
            remaining[0].is_default = True
            db.session.flush()
    record("address.removed", obj=address, patient=patient)


def grant_consent(patient: User, kind: ConsentKind | str, *, ip: str | None = None) -> Consent:
    kind = ConsentKind(kind)
    version = CONSENT_VERSIONS[kind.value]
    lock_patient(patient)  # a double click must not leave two grants in force
    current = active_consent(patient, kind)
    if current is not None and current.version == version:
        raise DomainError(_l("You have already given this consent."))
    now = utcnow()
    if current is not None:  # a grant of an older text ends when the new text is accepted
        current.revoked_at = now
    consent = Consent(patient_id=patient.id, kind=kind, version=version, granted_at=now, ip=ip)
    db.session.add(consent)
    db.session.flush()
    record("consent.granted", obj=consent, patient=patient, detail=f"{kind.value}@{version}")
    _reminders_follow(patient, kind)
    return consent


def _reminders_follow(patient: User, kind: ConsentKind) -> None:
    """Reminders start with the SMS consent and stop with it (the plan is rebuilt either way)."""
    if kind == ConsentKind.SMS_REMINDERS:
        from app.reminders.plans import rebuild  # the plans render SMS with every feature's labels

        rebuild(patient)


def revoke_consent(patient: User, kind: ConsentKind | str) -> Consent:
    kind = ConsentKind(kind)
    lock_patient(patient)
    current = active_consent(patient, kind)
    if current is None:
        raise DomainError(_l("This consent is not currently given."))
    now = utcnow()
    # Every grant still in force ends, so "withdrawn" can never leave an older grant behind.
    for grant in db.session.scalars(select(Consent).where(
            Consent.patient_id == patient.id, Consent.kind == kind, Consent.revoked_at.is_(None))):
        grant.revoked_at = now
    db.session.flush()
    record("consent.revoked", obj=current, patient=patient, detail=f"{kind.value}@{current.version}")
    _reminders_follow(patient, kind)
    _platform_follows(patient, kind)
    return current


def _platform_follows(patient: User, kind: ConsentKind) -> None:
    """What waits for the data platform stops with the data-sharing consent, and loses the linkage
    token with the linkage consent; both in the withdrawal's own transaction."""
    from app.platform import events  # the events read every feature's records

    if kind == ConsentKind.DATA_SHARING:
        events.withdraw(patient.id)
    elif kind == ConsentKind.RECORD_LINKAGE:
        events.unlink(patient.id)


def add_allergy(patient: User, *, kind: str, substance: str, allergy_class: str, reaction: str,
                severity: str, recorded_by: User) -> Allergy:
    kind = AllergyKind(kind)
    if kind == AllergyKind.CLASS:
        if allergy_class not in catalog.allergy_classes():
            raise DomainError({"allergy_class": _l("Choose an allergy class from the list.")})
        substance = allergy_class
    else:
        substance = " ".join(clean_name(substance).split())
        if not substance:
            raise DomainError({"substance": _l("Enter the name of the drug or ingredient.")})
    duplicate = any(a.kind == kind and a.substance.casefold() == substance.casefold()
                    for a in active_allergies(patient))
    if duplicate:
        field = "allergy_class" if kind == AllergyKind.CLASS else "substance"
        raise DomainError({field: _l("This allergy is already recorded.")})
    allergy = Allergy(patient_id=patient.id, kind=kind, substance=substance[:120],
                      reaction=clean_name(reaction)[:255], severity=Severity(severity),
                      recorded_by_id=recorded_by.id)
    db.session.add(allergy)
    db.session.flush()
    record("allergy.added", obj=allergy, patient=patient, detail=f"{kind.value}:{substance}"[:500])
    return allergy


def withdraw_allergy(patient: User, allergy: Allergy) -> None:
    if not allergy.is_active:
        raise DomainError(_l("This allergy was already withdrawn."))
    allergy.is_active = False
    db.session.flush()
    record("allergy.withdrawn", obj=allergy, patient=patient)


def add_condition(patient: User, *, icd10_code: str, hospital: str, diagnosed_on: date | None,
                  proof_file, uploaded_by: User) -> Condition:
    """Check every field first, then store the proof; a failure after that removes the file again."""
    # A condition is the first step towards booking, and booking needs a phone that has answered a code.
    require_verified_phone(patient)
    profile = patient.patient_profile
    if profile is None:  # staff compare the proof with the legal name and date of birth
        raise DomainError(_l("Please fill in your personal details in your health record first."))
    reasons = {}
    entry = catalog.icd10().get(icd10_code or "")
    if entry is None:
        reasons["icd10_code"] = _l("Choose a diagnosis from the list.")
    elif any(c.icd10_code == entry.code and c.status != ConditionStatus.REJECTED
             for c in patient_conditions(patient)):
        reasons["icd10_code"] = _l("This diagnosis is already recorded.")
    hospital = clean_name(hospital)
    if not hospital:
        reasons["hospital"] = REQUIRED
    if diagnosed_on is None:
        reasons["diagnosed_on"] = REQUIRED
    elif diagnosed_on > today_for(patient):
        reasons["diagnosed_on"] = _l("The diagnosis date cannot be in the future.")
    elif diagnosed_on < profile.date_of_birth:
        reasons["diagnosed_on"] = _l("The diagnosis date cannot be before your date of birth.")
    elif diagnosed_on < EARLIEST_DATE:
        reasons["diagnosed_on"] = _l("Enter a date after 1 January 1900.")
    if reasons:
        raise DomainError(reasons)

    upload = save_upload(proof_file, patient=patient, uploaded_by=uploaded_by,
                         purpose=UploadPurpose.CONDITION_PROOF, field="proof")
    try:
        condition = Condition(patient_id=patient.id, icd10_code=entry.code, name=entry.name_en,
                              hospital=hospital[:255], diagnosed_on=diagnosed_on,
                              proof_upload_id=upload.id, status=ConditionStatus.PENDING)
        db.session.add(condition)
        db.session.flush()
        record("condition.added", obj=condition, patient=patient, detail=entry.code)
    except Exception:
        discard_file(upload)
        raise
    return condition


def discard_file(upload: Upload) -> None:
    """Remove a stored file whose database rows are being rolled back."""
    upload_path(upload).unlink(missing_ok=True)


def review_condition(condition: Condition, reviewer: User, *, verify: bool, note: str) -> Condition:
    note = (note or "").strip()
    if not verify and not note:
        raise DomainError({"note": _l("Give the reason for rejecting, so the patient can act on it.")})
    status = ConditionStatus.VERIFIED if verify else ConditionStatus.REJECTED
    # A guarded UPDATE, so two reviewers deciding at once cannot both win (no row lock needed).
    result = db.session.execute(condition_states.MACHINE.guarded_update(
        Condition, condition.id, status, reviewed_by_id=reviewer.id, reviewed_at=utcnow(),
        review_note=note[:255] or None))
    if result.rowcount != 1:
        raise InvalidTransition(_l("This condition has already been reviewed."))
    db.session.refresh(condition)
    record(f"condition.{status.value}", obj=condition, patient=condition.patient_id,
           actor=reviewer, detail=condition.icd10_code)
    return condition


