"""Patient-record reads: addresses, consents, allergies, conditions, the review queue, who may see a file."""

from sqlalchemy import select

from app.accounts.models import Role, User
from app.extensions import db
from app.patients.models import (
    Address,
    Allergy,
    Condition,
    ConditionStatus,
    Consent,
    ConsentKind,
    Upload,
    UploadPurpose,
)
from app.policy import can_access_patient, upload_access_rules


def active_addresses(patient: User) -> list[Address]:
    return db.session.scalars(
        select(Address).where(Address.patient_id == patient.id, Address.is_active)
        .order_by(Address.is_default.desc(), Address.created_at.desc(), Address.id.desc())).all()


def active_consent(patient, kind: ConsentKind | str) -> Consent | None:
    """The grant in force, if any; other features (SMS, data platform) ask this before acting."""
    patient_id = getattr(patient, "id", patient)
    return db.session.scalar(
        select(Consent).where(Consent.patient_id == patient_id, Consent.kind == ConsentKind(kind),
                              Consent.revoked_at.is_(None))
        .order_by(Consent.granted_at.desc(), Consent.id.desc()).limit(1))


def consent_history(patient: User) -> list[Consent]:
    return db.session.scalars(select(Consent).where(Consent.patient_id == patient.id)
                              .order_by(Consent.granted_at.desc(), Consent.id.desc())).all()


def active_allergies(patient) -> list[Allergy]:
    patient_id = getattr(patient, "id", patient)
    return db.session.scalars(select(Allergy).where(Allergy.patient_id == patient_id, Allergy.is_active)
                              .order_by(Allergy.created_at.desc(), Allergy.id.desc())).all()


def patient_conditions(patient: User) -> list[Condition]:
    return db.session.scalars(select(Condition).where(Condition.patient_id == patient.id)
                              .order_by(Condition.created_at.desc(), Condition.id.desc())).all()


def verified_conditions(patient) -> list[Condition]:
    """What a consultation may be about: only conditions staff have verified."""
    patient_id = getattr(patient, "id", patient)
    return db.session.scalars(select(Condition).where(
        Condition.patient_id == patient_id, Condition.status == ConditionStatus.VERIFIED)
        .order_by(Condition.icd10_code)).all()


def can_review_conditions(user) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    if user.role == Role.ADMIN:
        return True
    return user.role == Role.DOCTOR and bool(user.doctor_profile and user.doctor_profile.is_verified)


def pending_conditions(limit: int = 50) -> list[Condition]:
    """Oldest first: patients waiting longest are seen first."""
    return db.session.scalars(select(Condition).where(Condition.status == ConditionStatus.PENDING)
                              .order_by(Condition.created_at, Condition.id).limit(limit)).all()


def can_view_upload(user, upload: Upload) -> bool:
    """The patient and admins; anyone else only through the rule of the feature whose object the file
    is attached to (a proof follows the condition, a consultation's file follows the consultation)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if user.role == Role.ADMIN or (user.role == Role.PATIENT and user.id == upload.patient_id):
        return True
    rule = upload_access_rules.get(str(upload.purpose))
    return rule is not None and bool(rule(user, upload))


def proof_visible(user, upload: Upload) -> bool:
    """Upload rule for a proof of diagnosis: the doctors and admins who verify it while it waits, then
    the doctors who may read the patient's record (it lists the condition with its proof). Pharmacists
    review with the verified diagnosis, never the document."""
    condition = db.session.scalar(select(Condition).where(Condition.proof_upload_id == upload.id).limit(1))
    if condition is None:
        return False
    if condition.status == ConditionStatus.PENDING and can_review_conditions(user):
        return True
    return user.role == Role.DOCTOR and can_access_patient(user, upload.patient_id)


upload_access_rules[UploadPurpose.CONDITION_PROOF.value] = proof_visible
