"""Online follow-up consultations, their attachments and message threads."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.consultations.states import ConsultationStatus
from app.database import UTCDateTime, enum_column, utcnow
from app.extensions import db

# The payable_type of a consultation's payments (app/payments knows payables only by this name).
PAYABLE = "consultation"


class Consultation(db.Model):
    __tablename__ = "consultations"
    __table_args__ = (
        sa.CheckConstraint("fee_fen > 0", name="fee_positive"),
        sa.CheckConstraint("rating IS NULL OR (rating >= 1 AND rating <= 5)", name="rating_range"),
        # The doctor's queue filters on doctor and status and sorts by payment time (oldest first).
        sa.Index("ix_consultations_doctor_queue", "doctor_id", "status", "paid_at"),
        sa.Index("ix_consultations_status_expires", "status", "expires_at"),
        # The patient's list, newest first, a page at a time (the id is the cursor's tie-break).
        sa.Index("ix_consultations_patient_created", "patient_id", "created_at", "id"),
        # The doctor's queue page: in progress and recently ended, latest accepted first.
        sa.Index("ix_consultations_doctor_accepted", "doctor_id", "accepted_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    doctor_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    condition_id: Mapped[int] = mapped_column(sa.ForeignKey("conditions.id"))
    reason: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[ConsultationStatus] = mapped_column(
        enum_column(ConsultationStatus, "consultation_status"),
        default=ConsultationStatus.AWAITING_PAYMENT,
    )
    fee_fen: Mapped[int]
    currency: Mapped[str] = mapped_column(sa.String(3), default="CNY")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Unpaid or unaccepted consultations lapse at this time; the worker expires them.
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    end_reason: Mapped[str | None] = mapped_column(sa.Text)
    # The doctor's structured note.
    complaint: Mapped[str | None] = mapped_column(sa.Text)
    findings: Mapped[str | None] = mapped_column(sa.Text)
    assessment: Mapped[str | None] = mapped_column(sa.Text)
    plan: Mapped[str | None] = mapped_column(sa.Text)
    rating: Mapped[int | None]
    rating_comment: Mapped[str | None] = mapped_column(sa.String(500))
    rated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    patient = relationship("User", foreign_keys=[patient_id])
    doctor = relationship("User", foreign_keys=[doctor_id])
    condition = relationship("Condition")
    attachments = relationship("ConsultationAttachment", order_by="ConsultationAttachment.id")
    messages = relationship("ConsultationMessage", order_by="ConsultationMessage.id",
                            back_populates="consultation")


class ConsultationAttachment(db.Model):
    __tablename__ = "consultation_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(sa.ForeignKey("consultations.id"), index=True)
    upload_id: Mapped[int] = mapped_column(sa.ForeignKey("uploads.id"))

    upload = relationship("Upload")


class ConsultationMessage(db.Model):
    __tablename__ = "consultation_messages"
    __table_args__ = (
        # A thread's latest messages, its earlier pages and the poll all walk one thread by id.
        sa.Index("ix_consultation_messages_thread", "consultation_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(sa.ForeignKey("consultations.id"))
    sender_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(sa.Text, default="")
    upload_id: Mapped[int | None] = mapped_column(sa.ForeignKey("uploads.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    consultation = relationship("Consultation", back_populates="messages")
    sender = relationship("User")
    upload = relationship("Upload")
