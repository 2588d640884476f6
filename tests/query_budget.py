"""count_statements(db): the SQL statements the engine runs inside a `with` block (one request)."""

from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import event


@dataclass
class Statements:
    """What ran: `.statements` in order, `.count` of them, `.inserts` the INSERTs among them."""

    statements: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.statements)

    @property
    def inserts(self) -> int:
        return sum(1 for sql in self.statements if sql.lstrip().upper().startswith("INSERT"))

    def __str__(self) -> str:
        return "\n".join(f"{n:3d}. {sql}" for n, sql in enumerate(self.statements, 1))


@contextmanager
def count_statements(db):
    """Count every statement sent to the database while the block runs (savepoints included: a
    commit in a test is a SAVEPOINT release, a round trip like any other)."""
    found = Statements()

    def seen(_conn, _cursor, statement, _parameters, _context, _executemany):
        found.statements.append(" ".join(statement.split()))

    engine = db.engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        yield found
    finally:
        event.remove(engine, "before_cursor_execute", seen)
