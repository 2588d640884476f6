"""The patient record: profile, addresses, allergies, conditions with proof, consents, uploads."""

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from app.database import UTCDateTime, enum_column, utcnow
from app.extensions import db


class Sex(StrEnum):
    FEMALE = "female"
    MALE = "male"
    OTHER = "other"


class PatientProfile(db.Model):
    __tablename__ = "patient_profiles"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), primary_key=True)
    legal_name: Mapped[str] = mapped_column(sa.String(120))
    sex: Mapped[Sex] = mapped_column(enum_column(Sex, "sex"))
    date_of_birth: Mapped[date]
    # Resident ID card or passport number; shown masked to everyone but admins.
    id_document_number: Mapped[str | None] = mapped_column(sa.String(40))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    user = relationship("User", backref=backref("patient_profile", uselist=False))


class Address(db.Model):
    __tablename__ = "addresses"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    recipient: Mapped[str] = mapped_column(sa.String(120))
    phone: Mapped[str] = mapped_column(sa.String(20))
    province: Mapped[str] = mapped_column(sa.String(60))
    city: Mapped[str] = mapped_column(sa.String(60))
    district: Mapped[str] = mapped_column(sa.String(60), default="")
    street: Mapped[str] = mapped_column(sa.String(255))
    postal_code: Mapped[str] = mapped_column(sa.String(10), default="")
    is_default: Mapped[bool] = mapped_column(default=False)
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AllergyKind(StrEnum):
    DRUG = "drug"
    INGREDIENT = "ingredient"
    CLASS = "class"


class Severity(StrEnum):
    MILD = "mild"
    MODERATE = "moderate"
    SEVERE = "severe"
    ANAPHYLAXIS = "anaphylaxis"


class Allergy(db.Model):
    __tablename__ = "allergies"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    kind: Mapped[AllergyKind] = mapped_column(enum_column(AllergyKind, "allergy_kind"))
    # A drug or ingredient name, or an allergy class code such as "penicillins".
    substance: Mapped[str] = mapped_column(sa.String(120))
    reaction: Mapped[str] = mapped_column(sa.String(255), default="")
    severity: Mapped[Severity] = mapped_column(enum_column(Severity, "severity"))
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Clinical rows are never deleted: a withdrawn allergy is marked inactive.
    is_active: Mapped[bool] = mapped_column(default=True)


class UploadPurpose(StrEnum):
    CONDITION_PROOF = "condition_proof"
    CONSULTATION = "consultation"
    MESSAGE = "message"


class Upload(db.Model):
    """A file kept outside static/, served only to the patient and staff allowed to see it."""

    __tablename__ = "uploads"
    __table_args__ = (sa.CheckConstraint("size_bytes > 0", name="size_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    uploaded_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    purpose: Mapped[UploadPurpose] = mapped_column(enum_column(UploadPurpose, "upload_purpose"))
    storage_key: Mapped[str] = mapped_column(sa.String(255), unique=True)
    content_type: Mapped[str] = mapped_column(sa.String(40))
    size_bytes: Mapped[int]
    sha256: Mapped[str] = mapped_column(sa.String(64))
    original_name: Mapped[str] = mapped_column(sa.String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")


class ConditionStatus(StrEnum):
    PENDING = "pending"
    VERIFIED = "verified"
    REJECTED = "rejected"


class Condition(db.Model):
    """A chronic condition diagnosed offline; only verified ones can be consulted on online."""

    __tablename__ = "conditions"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    icd10_code: Mapped[str] = mapped_column(sa.String(10))
    name: Mapped[str] = mapped_column(sa.String(255))
    hospital: Mapped[str] = mapped_column(sa.String(255))
    diagnosed_on: Mapped[date]
    proof_upload_id: Mapped[int] = mapped_column(sa.ForeignKey("uploads.id"))
    status: Mapped[ConditionStatus] = mapped_column(
        enum_column(ConditionStatus, "condition_status"), default=ConditionStatus.PENDING
    )
    reviewed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    review_note: Mapped[str | None] = mapped_column(sa.String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    proof = relationship("Upload")
    patient = relationship("User", foreign_keys=[patient_id])
    reviewed_by = relationship("User", foreign_keys=[reviewed_by_id])


class ConsentKind(StrEnum):
    DATA_SHARING = "data_sharing"
    SMS_REMINDERS = "sms_reminders"
    # On top of data sharing: the platform may join the patient's records with the hospital's, through
    # a keyed hash of the ID number and birth date (never the values themselves).
    RECORD_LINKAGE = "record_linkage"


class Consent(db.Model):
    """One grant of one consent text version; revoking stamps revoked_at, never deletes."""

    __tablename__ = "consents"
    __table_args__ = (sa.Index("ix_consents_patient_kind", "patient_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    kind: Mapped[ConsentKind] = mapped_column(enum_column(ConsentKind, "consent_kind"))
    version: Mapped[str] = mapped_column(sa.String(20))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ip: Mapped[str | None] = mapped_column(sa.String(45))


class FactKind(StrEnum):
    """A measurement the automatic checks use (app/checks/patient_facts.py reads them)."""

    WEIGHT = "weight"  # kg
    HEIGHT = "height"  # cm
    EGFR = "egfr"  # mL/min/1.73 m²
    CRCL = "crcl"  # creatinine clearance, mL/min
    CHILD_PUGH = "child_pugh"  # class A, B or C, in value_text
    PREGNANCY = "pregnancy"  # weeks of gestation on measured_on; 0 = not pregnant
    BREASTFEEDING = "breastfeeding"  # 1 = breastfeeding, 0 = not


class FactSource(StrEnum):
    PATIENT = "patient"  # reported by the patient on the portal
    DOCTOR = "doctor"  # recorded or confirmed by a doctor in a consultation


class PatientFact(db.Model):
    """One dated measurement; rows are never changed, the newest of a kind is the one in force."""

    __tablename__ = "patient_facts"
    __table_args__ = (
        sa.CheckConstraint("(kind = 'child_pugh') = (value_text IS NOT NULL) AND "
                           "(kind = 'child_pugh') = (value IS NULL)", name="one_value"),
        sa.CheckConstraint("value_text IS NULL OR value_text IN ('A', 'B', 'C')", name="child_pugh_class"),
        sa.CheckConstraint("value IS NULL OR value >= 0", name="value_not_negative"),
        sa.CheckConstraint("(source = 'doctor') = (consultation_id IS NOT NULL)",
                           name="doctor_in_consultation"),
        sa.Index("ix_patient_facts_patient_kind", "patient_id", "kind", "measured_on", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    kind: Mapped[FactKind] = mapped_column(enum_column(FactKind, "fact_kind"))
    value: Mapped[Decimal | None] = mapped_column(sa.Numeric(7, 2))
    value_text: Mapped[str | None] = mapped_column(sa.String(1))
    measured_on: Mapped[date]
    source: Mapped[FactSource] = mapped_column(enum_column(FactSource, "fact_source"))
    recorded_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    consultation_id: Mapped[int | None] = mapped_column(sa.ForeignKey("consultations.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    recorded_by = relationship("User", foreign_keys=[recorded_by_id])
