"""Reminder plans: each medicine a patient received, their dose times, and each dose reminder sent."""

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.database import UTCDateTime, enum_column, utcnow
from app.extensions import db


class DoseAnswer(StrEnum):
    TAKEN = "taken"
    SKIPPED = "skipped"


class ReminderPreference(db.Model):
    """The patient's own dose times per frequency ({"BID": ["07:30", "19:30"]}); a frequency not
    listed uses the defaults in schedule.DEFAULT_DOSE_TIMES."""

    __tablename__ = "reminder_preferences"

    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), primary_key=True)
    dose_times: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class ReminderLine(db.Model):
    """One medicine the patient received (an order line, once the order was handed over or
    delivered): what the plan is built from whenever it is rebuilt."""

    __tablename__ = "reminder_lines"
    __table_args__ = (
        sa.CheckConstraint("days_supply >= 0", name="days_supply_non_negative"),
        sa.Index("ix_reminder_lines_patient", "patient_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    order_line_id: Mapped[int] = mapped_column(sa.ForeignKey("order_lines.id"), unique=True)
    drug_id: Mapped[int] = mapped_column(sa.ForeignKey("drugs.id"))
    frequency: Mapped[str] = mapped_column(sa.String(10))
    doses_per_day: Mapped[int] = mapped_column()
    days_supply: Mapped[int] = mapped_column()
    # When the patient had the medicine in hand: the handover or the delivery.
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The patient's switch on the reminders page.
    enabled: Mapped[bool] = mapped_column(default=True)
    # The medicine came back or its order was refunded: no more reminders for it.
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    drug = relationship("Drug")


class DoseReminder(db.Model):
    """One line's dose in one reminder message (a message may name several lines due at the same
    minute), and the patient's answer to it by SMS."""

    __tablename__ = "dose_reminders"
    __table_args__ = (
        sa.UniqueConstraint("outbound_sms_id", "reminder_line_id"),
        sa.Index("ix_dose_reminders_patient_due", "patient_id", "due_at"),
        sa.Index("ix_dose_reminders_line", "reminder_line_id", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    outbound_sms_id: Mapped[int] = mapped_column(sa.ForeignKey("outbound_sms.id"))
    reminder_line_id: Mapped[int] = mapped_column(sa.ForeignKey("reminder_lines.id"))
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    answer: Mapped[DoseAnswer | None] = mapped_column(enum_column(DoseAnswer, "dose_answer"))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
