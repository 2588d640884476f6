"""Review statuses: a review is open until a pharmacist decides it or a newer version withdraws it."""

from enum import StrEnum

from flask_babel import lazy_gettext as _l

from app.state_machine import StateMachine


class ReviewStatus(StrEnum):
    OPEN = "open"  # in the review queue (claimed or not)
    APPROVED = "approved"
    RETURNED = "returned"
    WITHDRAWN = "withdrawn"  # the doctor signed a newer version before anyone decided this one


TRANSITIONS = {
    ReviewStatus.OPEN: frozenset({ReviewStatus.APPROVED, ReviewStatus.RETURNED, ReviewStatus.WITHDRAWN}),
    ReviewStatus.APPROVED: frozenset(),
    ReviewStatus.RETURNED: frozenset(),
    ReviewStatus.WITHDRAWN: frozenset(),
}

NO_LONGER_WAITING = _l("This prescription is no longer waiting for review.")
MACHINE = StateMachine("prescription_review", TRANSITIONS, refused=lambda _review, _target: NO_LONGER_WAITING)
