"""Verification code statuses and the only transitions allowed between them."""

from flask_babel import lazy_gettext as _l

from app.accounts.models import CodeStatus
from app.state_machine import StateMachine

TRANSITIONS: dict[CodeStatus, frozenset[CodeStatus]] = {
    # A live code is used once, or expires: by time, by a newer code, or after too many wrong guesses.
    CodeStatus.ACTIVE: frozenset({CodeStatus.CONSUMED, CodeStatus.EXPIRED}),
    CodeStatus.CONSUMED: frozenset(),
    CodeStatus.EXPIRED: frozenset(),
}

# Whatever the code's state, the user hears only that it is wrong or expired.
MACHINE = StateMachine("verification_code", TRANSITIONS,
                       refused=lambda _code, _target: _l(
                           "The code is wrong or has expired. Request a new one if needed."))
