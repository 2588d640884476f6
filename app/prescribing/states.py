"""Prescription statuses and the only transitions allowed between them."""

from enum import StrEnum


class PrescriptionStatus(StrEnum):
    DRAFT = "draft"
    SIGNED = "signed"  # e-signed; passes straight on to awaiting_review in the same step
    AWAITING_REVIEW = "awaiting_review"  # automatic checks done; in the pharmacists' review queue
    APPROVED = "approved"  # a pharmacist approved it: it may now be paid for and filled
    RETURNED = "returned"  # a pharmacist sent it back to the doctor with reasons
    SUPERSEDED = "superseded"  # a newer signed version replaced it; kept for the record
    CANCELLED = "cancelled"  # the doctor withdrew it (a draft, or a returned one not worth revising)


S = PrescriptionStatus
TRANSITIONS: dict[PrescriptionStatus, frozenset[PrescriptionStatus]] = {
    S.DRAFT: frozenset({S.SIGNED, S.CANCELLED}),
    S.SIGNED: frozenset({S.AWAITING_REVIEW, S.SUPERSEDED}),
    S.AWAITING_REVIEW: frozenset({S.APPROVED, S.RETURNED, S.SUPERSEDED}),
    S.RETURNED: frozenset({S.SUPERSEDED, S.CANCELLED}),
    S.APPROVED: frozenset(),
    S.SUPERSEDED: frozenset(),
    S.CANCELLED: frozenset(),
}

# Signed versions a doctor may revise into a new draft. An approved one is final: a change after
# approval is a new prescription, reviewed from the start.
REVISABLE = frozenset({S.SIGNED, S.AWAITING_REVIEW, S.RETURNED})
CANCELLABLE = frozenset({S.DRAFT, S.RETURNED})


def can_move(current: PrescriptionStatus, target: PrescriptionStatus) -> bool:
    return target in TRANSITIONS[current]
