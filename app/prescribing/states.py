"""Prescription statuses and the only transitions allowed between them."""

from enum import StrEnum


class PrescriptionStatus(StrEnum):
    DRAFT = "draft"
    SIGNED = "signed"  # e-signed; passes straight on to awaiting_review in the same step
    AWAITING_REVIEW = "awaiting_review"  # automatic checks and pharmacist review (next issue)
    SUPERSEDED = "superseded"  # a newer signed version replaced it; kept for the record


TRANSITIONS: dict[PrescriptionStatus, frozenset[PrescriptionStatus]] = {
    PrescriptionStatus.DRAFT: frozenset({PrescriptionStatus.SIGNED}),
    PrescriptionStatus.SIGNED: frozenset({PrescriptionStatus.AWAITING_REVIEW, PrescriptionStatus.SUPERSEDED}),
    PrescriptionStatus.AWAITING_REVIEW: frozenset({PrescriptionStatus.SUPERSEDED}),
    PrescriptionStatus.SUPERSEDED: frozenset(),
}

# Signed versions a doctor may revise into a new draft.
REVISABLE = frozenset({PrescriptionStatus.SIGNED, PrescriptionStatus.AWAITING_REVIEW})


def can_move(current: PrescriptionStatus, target: PrescriptionStatus) -> bool:
    return target in TRANSITIONS[current]
