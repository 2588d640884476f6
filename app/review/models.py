"""What the automatic checks found on a signed prescription, and the pharmacist's review of it."""

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.checks.knowledge import Kind, Severity
from app.database import UTCDateTime, enum_column, utcnow
from app.extensions import db
from app.review.states import ReviewStatus


class CheckFinding(db.Model):
    """One finding, stored when the prescription is signed: the record of what the pharmacist was shown."""

    __tablename__ = "check_findings"

    id: Mapped[int] = mapped_column(primary_key=True)
    prescription_id: Mapped[int] = mapped_column(sa.ForeignKey("prescriptions.id"), index=True)
    severity: Mapped[Severity] = mapped_column(enum_column(Severity, "finding_severity"))
    kind: Mapped[Kind] = mapped_column(enum_column(Kind, "finding_kind"))
    rule_id: Mapped[str] = mapped_column(sa.String(80))
    drug_code: Mapped[str] = mapped_column(sa.String(60))
    line: Mapped[int] = mapped_column()
    other_code: Mapped[str | None] = mapped_column(sa.String(60))
    # "prescription" (another line of it) or an active medication's source.
    other_on: Mapped[str | None] = mapped_column(sa.String(20))
    message_en: Mapped[str] = mapped_column(sa.Text)
    message_zh: Mapped[str] = mapped_column(sa.Text)
    source: Mapped[str] = mapped_column(sa.Text)
    knowledge_base_version: Mapped[str] = mapped_column(sa.String(80))
    # Why the doctor signed anyway: required for a major or contraindicated finding, shown to the
    # pharmacist with it.
    prescriber_reason: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    prescription = relationship("Prescription",
                                backref=sa.orm.backref("findings", order_by="CheckFinding.id"))

    def message(self, language: str) -> str:
        return self.message_zh if language == "zh" else self.message_en


class Decision(StrEnum):
    APPROVED = "approved"
    RETURNED = "returned"


class PrescriptionReview(db.Model):
    """One per signed version: the queue entry, the claim on it, and the decision."""

    __tablename__ = "prescription_reviews"
    __table_args__ = (
        sa.CheckConstraint("(claimed_by_id IS NULL) = (claimed_at IS NULL)", name="claim_complete"),
        sa.CheckConstraint("(decision IS NULL) = (decided_at IS NULL) AND (decision IS NULL) = "
                           "(decided_by_id IS NULL)", name="decision_complete"),
        sa.CheckConstraint("decision IS NULL OR turnaround_seconds >= 0", name="turnaround_known"),
        sa.CheckConstraint("decision <> 'returned' OR reason_codes <> ''", name="return_has_reason"),
        # The status tells the lifecycle; a decided review's status is its decision.
        sa.CheckConstraint("(decision IS NULL AND status IN ('open', 'withdrawn')) OR status = decision",
                           name="status_matches_decision"),
        # The review queue and the pharmacists' badge: open reviews only, oldest first, so the index
        # stays the size of today's work however many decided reviews accumulate; PostgreSQL also
        # carries the claim, so the badge's summary never visits the table.
        sa.Index("ix_prescription_reviews_open", "queued_at", "id",
                 sqlite_where=sa.text("status = 'open'"), postgresql_where=sa.text("status = 'open'"),
                 postgresql_include=["claimed_by_id", "claimed_at"]),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    prescription_id: Mapped[int] = mapped_column(sa.ForeignKey("prescriptions.id"), unique=True)
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime())  # the signing time
    findings_count: Mapped[int] = mapped_column(default=0)
    status: Mapped[ReviewStatus] = mapped_column(enum_column(ReviewStatus, "review_status"),
                                                 default=ReviewStatus.OPEN)
    worst_severity: Mapped[Severity | None] = mapped_column(enum_column(Severity, "finding_severity"))
    knowledge_base_version: Mapped[str] = mapped_column(sa.String(80))
    claimed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decision: Mapped[Decision | None] = mapped_column(enum_column(Decision, "review_decision"))
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Comma-separated codes from app.review.reasons; required for a return.
    reason_codes: Mapped[str] = mapped_column(sa.String(255), default="")
    note: Mapped[str] = mapped_column(sa.Text, default="")
    # Why a major finding was accepted; required to approve one.
    justification: Mapped[str] = mapped_column(sa.Text, default="")
    turnaround_seconds: Mapped[int | None] = mapped_column()

    prescription = relationship("Prescription", backref=sa.orm.backref("review", uselist=False))
    claimed_by = relationship("User", foreign_keys=[claimed_by_id])
    decided_by = relationship("User", foreign_keys=[decided_by_id])

    @property
    def reasons(self) -> list[str]:
        return [code for code in self.reason_codes.split(",") if code]
