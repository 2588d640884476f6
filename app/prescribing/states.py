"""Prescription statuses and the only transitions allowed between them."""

from enum import StrEnum

from flask_babel import lazy_gettext as _l

from app.state_machine import StateMachine


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
# Signed, but not reaching the patient: replaced by a newer version, sent back by a pharmacist, or
# withdrawn by the doctor. (Here, not in the checks: the review page reads it too, and importing the
# checks from there closed an import cycle through the prescribing package.)
NOT_TAKEN = (S.SUPERSEDED, S.RETURNED, S.CANCELLED)
REVISABLE = frozenset({S.SIGNED, S.AWAITING_REVIEW, S.RETURNED})
CANCELLABLE = frozenset({S.DRAFT, S.RETURNED})


STATUS_CHANGE_REFUSED = {
    S.SIGNED: _l("Only a draft can be signed."),
    S.AWAITING_REVIEW: _l("Only a just-signed prescription can be sent for review."),
    S.APPROVED: _l("This prescription is no longer waiting for review."),
    S.RETURNED: _l("This prescription is no longer waiting for review."),
    S.SUPERSEDED: _l("This version can no longer be replaced: a pharmacist has already approved it or it was "
                     "withdrawn."),
    S.CANCELLED: _l("Only a draft or a returned prescription can be cancelled."),
}

MACHINE = StateMachine("prescription", TRANSITIONS, refused=STATUS_CHANGE_REFUSED)


def can_move(current: PrescriptionStatus, target: PrescriptionStatus) -> bool:
    return MACHINE.can_move(current, target)
