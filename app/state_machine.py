"""StateMachine: one transition table per entity and the only code that writes a status column."""

from collections.abc import Callable, Mapping
from enum import StrEnum

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.errors import InvalidTransition

CHANGED_MEANWHILE = _l("This can no longer be done: it has changed since the page was opened.")
# Every machine built, by name: the tests walk each table.
MACHINES: dict[str, "StateMachine"] = {}


class StateMachine:
    """`move(obj, target)` changes `obj.<attribute>` only along the table, else InvalidTransition.

    `refused` gives the user's message for a refused move (by target, or a callable of the object
    and the target); without one a generic sentence names the two states.
    """

    def __init__(self, name: str, transitions: Mapping[StrEnum, frozenset], *, attribute: str = "status",
                 refused: Mapping | Callable | None = None):
        states = set(transitions)
        for source, targets in transitions.items():
            unknown = set(targets) - states
            if unknown:  # a table that names a state it does not list is a programming error
                raise ValueError(f"{name}: {source} leads to unknown states {sorted(map(str, unknown))}")
        if name in MACHINES:
            raise ValueError(f"state machine {name!r} defined twice")
        self.name, self.transitions = name, dict(transitions)
        self.attribute, self.refused = attribute, refused
        MACHINES[name] = self

    def can_move(self, current, target) -> bool:
        return target in self.transitions[current]

    def sources(self, target) -> frozenset:
        """The states from which `target` may be reached."""
        return frozenset(state for state, targets in self.transitions.items() if target in targets)

    def guarded_update(self, model, ident, target, **values):
        """One conditional UPDATE that moves the row only from a state the table allows: of two
        requests at once, exactly one matches (no row lock needed). Check `rowcount == 1`."""
        column = getattr(model, self.attribute)
        return (sa.update(model).where(model.id == ident, column.in_(self.sources(target)))
                .values({self.attribute: target, **values}).execution_options(synchronize_session=False))

    def guarded_update_many(self, model, condition, target, **values):
        """guarded_update for every row matching `condition` (a bulk withdrawal): rows in a state
        from which `target` may not be reached are left as they are."""
        column = getattr(model, self.attribute)
        return (sa.update(model).where(condition, column.in_(self.sources(target)))
                .values({self.attribute: target, **values}).execution_options(synchronize_session=False))

    def terminal(self) -> frozenset:
        return frozenset(state for state, targets in self.transitions.items() if not targets)

    def _message(self, obj, target):
        if callable(self.refused):
            return self.refused(obj, target)
        if self.refused and target in self.refused:
            return self.refused[target]
        return CHANGED_MEANWHILE

    def move(self, obj, target) -> None:
        current = getattr(obj, self.attribute)
        if not self.can_move(current, target):
            raise InvalidTransition(self._message(obj, target))
        setattr(obj, self.attribute, target)
