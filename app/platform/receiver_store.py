"""The reference receiver's storage: one table of received resources, kept once per event key."""

import contextlib
import threading
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.pool import StaticPool

from config import normalise_database_url

metadata = sa.MetaData()

received_resources = sa.Table(
    "received_resources",
    metadata,
    sa.Column("event_key", sa.String(36), primary_key=True),
    sa.Column("resource_type", sa.String(64), nullable=False),
    # The resource's JSON as it arrived, not a re-serialised model: the platform keeps what was sent.
    sa.Column("resource", sa.Text, nullable=False),
    sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
)

# Milliseconds a SQLite writer waits for another process's lock before giving up.
SQLITE_BUSY_TIMEOUT_MS = 30_000


class ReceiverStore:
    """The received_resources table of one database (SQLite or PostgreSQL), created when missing."""

    def __init__(self, database_url: str):
        url = sa.engine.make_url(normalise_database_url(database_url))
        self.dialect = url.get_backend_name()
        if self.dialect == "sqlite":
            self.engine = _sqlite_engine(url)
            self._insert = sqlite.insert
            # One writer at a time: SQLite has a single write lock anyway, and taking it in Python
            # spares the threads of this server from busy-waiting on it.
            self._lock: contextlib.AbstractContextManager = threading.Lock()
        elif self.dialect == "postgresql":
            # Sized for the threaded server: a burst of concurrent batches waits for a connection
            # rather than failing.
            self.engine = sa.create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)
            self._insert = postgresql.insert
            self._lock = contextlib.nullcontext()  # the unique index serialises inserts of one key
        else:
            raise ValueError(f"The receiver stores into SQLite or PostgreSQL, not {self.dialect!r}.")
        metadata.create_all(self.engine, checkfirst=True)

    def store(self, rows: list[tuple[str, str, str]]) -> tuple[set[str], dict[str, str]]:
        """Insert (event_key, resource_type, resource JSON) rows in one transaction, each key at most
        once. Returns the keys stored now, and the stored resource type of every other key."""
        if not rows:
            return set(), {}
        first = {}
        for key, resource_type, resource in rows:
            first.setdefault(key, (resource_type, resource))
        now = datetime.now(UTC)
        # Key order, so two transactions with overlapping keys lock them in the same order (no deadlock).
        values = [{"event_key": key, "resource_type": resource_type, "resource": resource,
                   "received_at": now} for key, (resource_type, resource) in sorted(first.items())]
        table = received_resources
        # One statement for every batch (an executemany, sent as multi-row INSERTs), so it is compiled
        # once per process rather than once per batch size.
        statement = (self._insert(table).on_conflict_do_nothing(index_elements=[table.c.event_key])
                     .returning(table.c.event_key))
        with self._lock, self.engine.begin() as connection:
            # RETURNING lists only the rows this statement inserted: on PostgreSQL a concurrent insert
            # of the same key waits for the other transaction and then does nothing, so each key is
            # reported new exactly once.
            new = set(connection.execute(statement, values).scalars())
            old = [key for key in first if key not in new]
            existing = dict(connection.execute(
                sa.select(table.c.event_key, table.c.resource_type).where(table.c.event_key.in_(old))
            ).all()) if old else {}
        return new, existing

    def count(self) -> int:
        with self._lock, self.engine.connect() as connection:
            return connection.execute(sa.select(sa.func.count()).select_from(received_resources)).scalar_one()

    def rows(self) -> list[dict]:
        """Every stored row, by key (for tests and the demo)."""
        with self._lock, self.engine.connect() as connection:
            query = sa.select(received_resources).order_by(received_resources.c.event_key)
            return [dict(row) for row in connection.execute(query).mappings()]

    def close(self) -> None:
        self.engine.dispose()


def _sqlite_engine(url: sa.engine.URL) -> sa.engine.Engine:
    database = url.database or ""
    if database in ("", ":memory:"):
        # One shared connection, or every pooled connection would see its own empty database.
        engine = sa.create_engine(url, poolclass=StaticPool, connect_args={"check_same_thread": False})
    else:
        Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})

    @sa.event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        # WAL lets readers (the demo, a test, /stats) look while a batch is being written.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    return engine
