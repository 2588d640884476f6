"""One user action, one transaction: the helper every view, CLI command and form handler uses.

A view calls `perform(action, …)`: the action's services flush; on success everything commits at
once; on a `DomainError` everything the action wrote is rolled back, the refusal itself is kept
(the `refused` callback writes its audit row, committed alone), and the reasons go onto the form's
fields or, for reasons without a field, into a flash in the user's language.
"""

from collections.abc import Callable

from flask import flash

from app.errors import DomainError
from app.extensions import db


def perform(action: Callable[[], object], *, success: str | None = None, form=None,
            refused: Callable[[DomainError], object] | None = None) -> bool:
    """Run `action()` as one transaction; True when it was committed, False when it was refused."""
    try:
        action()
    except DomainError as error:
        db.session.rollback()
        if refused is not None:
            refused(error)
        db.session.commit()
        error.apply_to(form)
        return False
    except BaseException:
        db.session.rollback()
        raise
    db.session.commit()
    if success:
        flash(success, "success")
    return True
