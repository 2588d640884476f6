"""Prescription versions and their structured items; signed rows are frozen at flush time."""

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from app.database import UTCDateTime, enum_column, utcnow
from app.drugs.models import Route
from app.extensions import db
from app.prescribing.rules import SupplyCategory
from app.prescribing.states import PrescriptionStatus


class Frequency(StrEnum):
    QD = "QD"
    BID = "BID"
    TID = "TID"
    QID = "QID"
    Q8H = "Q8H"
    Q12H = "Q12H"
    QN = "QN"
    QW = "QW"
    BIW = "BIW"
    PRN = "PRN"


class PrescribedUnit(StrEnum):
    """What a dose is written in: an amount of the active substance, a volume, or whole units."""

    MG = "mg"
    MICROGRAM = "µg"
    G = "g"
    IU = "IU"
    ML = "mL"
    TABLET = "tablet"
    CAPSULE = "capsule"
    DOSE = "dose"  # one actuation of an inhaler
    PATCH = "patch"


class Prescription(db.Model):
    __tablename__ = "prescriptions"
    __table_args__ = (
        sa.CheckConstraint("version >= 1", name="version_positive"),
        sa.CheckConstraint("(version = 1) = (previous_version_id IS NULL)", name="version_chain"),
        sa.CheckConstraint("(signed_at IS NULL) = (signed_by_id IS NULL) AND "
                           "(signed_at IS NULL) = (content_sha256 IS NULL) AND "
                           "(signed_at IS NULL) = (valid_until IS NULL)", name="signature_complete"),
        sa.CheckConstraint("status IN ('draft', 'cancelled') OR signed_at IS NOT NULL",
                           name="signed_unless_draft"),
        sa.Index("ix_prescriptions_patient_status", "patient_id", "status"),
        sa.Index("ix_prescriptions_status", "status"),  # the queues and their badges count by status alone
        # The patient's list, newest first, a page at a time (the id is the cursor's tie-break).
        sa.Index("ix_prescriptions_patient_created", "patient_id", "created_at", "id"),
        # A doctor's returned prescriptions: the badge's count and the list, oldest signed first.
        sa.Index("ix_prescriptions_doctor_status", "doctor_id", "status", "signed_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(sa.ForeignKey("consultations.id"), index=True)
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    doctor_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    condition_id: Mapped[int] = mapped_column(sa.ForeignKey("conditions.id"))
    status: Mapped[PrescriptionStatus] = mapped_column(
        enum_column(PrescriptionStatus, "prescription_status"), default=PrescriptionStatus.DRAFT)
    supply_category: Mapped[SupplyCategory] = mapped_column(
        enum_column(SupplyCategory, "supply_category"), default=SupplyCategory.NORMAL)
    chronic_reason: Mapped[str | None] = mapped_column(sa.Text)
    long_assessment: Mapped[str | None] = mapped_column(sa.Text)
    patient_confirmed_long_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(default=1)
    # Unique: a signed version is revised at most once, so the versions form one chain.
    previous_version_id: Mapped[int | None] = mapped_column(sa.ForeignKey("prescriptions.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    signed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    content_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    # Last calendar day (prescribing time zone) on which it may be reviewed, paid or filled.
    valid_until: Mapped[date | None] = mapped_column(sa.Date)

    consultation = relationship("Consultation")
    patient = relationship("User", foreign_keys=[patient_id])
    doctor = relationship("User", foreign_keys=[doctor_id])
    signed_by = relationship("User", foreign_keys=[signed_by_id])
    condition = relationship("Condition")
    previous_version = relationship("Prescription", remote_side=[id])
    items: Mapped[list["PrescriptionItem"]] = relationship(
        back_populates="prescription", order_by="PrescriptionItem.position", cascade="all, delete-orphan")

    @property
    def is_signed(self) -> bool:
        return self.signed_at is not None

    def __repr__(self) -> str:
        return f"<Prescription {self.id} v{self.version} {self.status}>"


class PrescriptionItem(db.Model):
    __tablename__ = "prescription_items"
    __table_args__ = (
        sa.UniqueConstraint("prescription_id", "position"),
        sa.CheckConstraint("dose > 0", name="dose_positive"),
        sa.CheckConstraint("duration_days >= 1 AND duration_days <= 84", name="duration_range"),
        sa.CheckConstraint("(frequency = 'PRN') = (max_doses_per_day IS NOT NULL)", name="prn_has_maximum"),
        sa.CheckConstraint("max_doses_per_day IS NULL OR max_doses_per_day BETWEEN 1 AND 24",
                           name="max_doses_range"),
        sa.CheckConstraint("quantity_packs >= 1", name="quantity_positive"),
        sa.CheckConstraint("days_supply >= 0", name="days_supply_non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    prescription_id: Mapped[int] = mapped_column(sa.ForeignKey("prescriptions.id"), index=True)
    position: Mapped[int] = mapped_column()
    drug_id: Mapped[int] = mapped_column(sa.ForeignKey("drugs.id"), index=True)
    dose: Mapped[Decimal] = mapped_column(sa.Numeric(12, 4))
    dose_unit: Mapped[PrescribedUnit] = mapped_column(enum_column(PrescribedUnit, "prescribed_unit"))
    route: Mapped[Route] = mapped_column(enum_column(Route, "route"))
    frequency: Mapped[Frequency] = mapped_column(enum_column(Frequency, "frequency"))
    max_doses_per_day: Mapped[int | None] = mapped_column()
    # Comma-separated HH:MM in the patient's zone ("08:00,20:00"); may be empty.
    times_of_day: Mapped[str] = mapped_column(sa.String(60), default="")
    duration_days: Mapped[int] = mapped_column()
    instructions: Mapped[str] = mapped_column(sa.String(255), default="")
    # Computed from the sig and the pack, never typed (see quantity.py).
    quantity_packs: Mapped[int] = mapped_column()
    days_supply: Mapped[int] = mapped_column()

    prescription: Mapped[Prescription] = relationship(back_populates="items")
    drug = relationship("Drug")


# What the signature covers on the prescription row; status and valid_until may still change.
FROZEN_COLUMNS = ("consultation_id", "patient_id", "doctor_id", "condition_id", "supply_category",
                  "chronic_reason", "long_assessment", "patient_confirmed_long_at", "version",
                  "previous_version_id", "signed_at", "signed_by_id", "content_sha256")


class FrozenPrescriptionError(RuntimeError):
    """Code tried to change signed content; the services refuse first, this is the backstop."""


def _was_signed(prescription: Prescription) -> bool:
    history = sa.inspect(prescription).attrs.signed_at.history
    return any(value is not None for value in (*history.unchanged, *history.deleted))


@event.listens_for(Session, "before_flush")
def _refuse_changes_to_signed(session: Session, _context, _instances) -> None:
    """A signed version is a legal record: any change must be a new version instead."""
    for obj in (*session.dirty, *session.deleted):
        if isinstance(obj, Prescription) and _was_signed(obj):
            state = sa.inspect(obj)
            changed = [name for name in FROZEN_COLUMNS if state.attrs[name].history.has_changes()]
            if changed or obj in session.deleted:
                raise FrozenPrescriptionError(f"prescription {obj.id} is signed: {changed or 'delete'}")
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, PrescriptionItem) and (obj in session.new or session.is_modified(obj)
                                                  or obj in session.deleted):
            parent = obj.prescription or session.get(Prescription, obj.prescription_id)
            if parent is not None and _was_signed(parent):
                raise FrozenPrescriptionError(f"prescription {parent.id} is signed: items")
