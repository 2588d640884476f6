"""Bulk writes: ids handed out here, rows sent by COPY on PostgreSQL and executemany on SQLite."""

from collections import Counter, defaultdict
from datetime import UTC, datetime

import sqlalchemy as sa

from app.benchdata.tables import COLUMNS, ORDER
from app.extensions import db

# Rows per executemany on SQLite (the tests' scales are tiny; this bounds memory, not speed).
SQLITE_BATCH = 2_000


def moment(epoch: int | None) -> datetime | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC)


class Batch:
    """Rows of several tables built together (a parent and its children), written in FK order."""

    def __init__(self):
        self.rows: dict[str, list[tuple]] = defaultdict(list)

    def add(self, table: str, row: tuple) -> None:
        self.rows[table].append(row)

    def __len__(self) -> int:
        return sum(len(rows) for rows in self.rows.values())


class BulkWriter:
    """Writes through one SQLAlchemy connection, inside its transaction (the caller commits)."""

    def __init__(self, connection: sa.Connection, progress=None):
        self.connection = connection
        self.is_postgres = connection.dialect.name == "postgresql"
        self.counts: Counter = Counter()
        self.progress = progress or (lambda _rows: None)
        self._next_id: dict[str, int] = {}
        self._first_id: dict[str, int] = {}
        self._types: dict[str, list[str]] = {}
        self._dropped: list[str] = []
        self._replica = False

    def ids(self, table: str, count: int) -> int:
        """The first of `count` fresh primary keys of `table`: known before writing, so children can
        point at parents without RETURNING."""
        if table not in self._next_id:
            highest = self.connection.execute(sa.text(f"SELECT MAX(id) FROM {table}")).scalar()  # noqa: S608
            self._next_id[table] = self._first_id[table] = (highest or 0) + 1
        first = self._next_id[table]
        self._next_id[table] += count
        return first

    def id_range(self, table: str) -> tuple[int, int]:
        """The first and last id handed out for `table` in this run."""
        return self._first_id[table], self._next_id[table] - 1

    def write(self, table: str, rows) -> int:
        columns = COLUMNS[table]
        written = self._copy(table, columns, rows) if self.is_postgres else self._insert(table, columns, rows)
        self.counts[table] += written
        self.progress(written)
        return written

    def _copy(self, table: str, columns: tuple[str, ...], rows) -> int:
        # Binary COPY with the column types given up front: the driver then encodes each value
        # without looking its type up, about three times faster than text COPY (measured).
        types = self._column_types(table, columns)
        driver = self.connection.connection.driver_connection
        written = 0
        statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)"
        with driver.cursor() as cursor, cursor.copy(statement) as copy:
            copy.set_types(types)
            write_row = copy.write_row
            for row in rows:
                write_row(row)
                written += 1
        return written

    def _column_types(self, table: str, columns: tuple[str, ...]) -> list[str]:
        if table not in self._types:
            found = dict(self.connection.execute(sa.text(
                "SELECT a.attname, t.typname FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid "
                "WHERE a.attrelid = CAST(:table AS regclass) AND a.attnum > 0 AND NOT a.attisdropped"),
                dict(table=table)).all())
            self._types[table] = [found[column] for column in columns]
        return self._types[table]

    def start(self) -> None:
        """On PostgreSQL, for this transaction only: build the secondary indexes of the tables written
        here once at the end instead of row by row, and skip the per-row foreign-key triggers when the
        role may (a superuser). The rows are written parents first, so every key already points at a
        written row; the tests check each foreign key."""
        if not self.is_postgres:
            return
        self.connection.execute(sa.text("SET LOCAL maintenance_work_mem = '256MB'"))
        superuser = sa.text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        if self.connection.execute(superuser).scalar():
            self.connection.execute(sa.text("SET LOCAL session_replication_role = replica"))
            self._replica = True
        rows = self.connection.execute(sa.text(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = current_schema() "
            "AND i.tablename = ANY(:tables) AND i.indexname NOT IN (SELECT c.conname FROM pg_constraint c "
            "JOIN pg_class r ON r.oid = c.conrelid WHERE r.relname = ANY(:tables))"),
            dict(tables=list(COLUMNS))).all()
        for name, definition in rows:
            self.connection.execute(sa.text(f'DROP INDEX "{name}"'))
            self._dropped.append(definition)

    def _insert(self, table: str, columns: tuple[str, ...], rows) -> int:
        statement = sa.insert(db.metadata.tables[table])
        written, chunk = 0, []
        for row in rows:
            chunk.append(dict(zip(columns, row, strict=True)))
            if len(chunk) >= SQLITE_BATCH:
                self.connection.execute(statement, chunk)
                written, chunk = written + len(chunk), []
        if chunk:
            self.connection.execute(statement, chunk)
            written += len(chunk)
        return written

    def flush(self, batch: Batch) -> None:
        for table in ORDER:
            rows = batch.rows.pop(table, None)
            if rows:
                self.write(table, rows)
        if batch.rows:
            raise RuntimeError(f"no write order for {sorted(batch.rows)}")

    def finish(self) -> None:
        """Rebuild the indexes start() set aside, point every sequence past the ids handed out here,
        and refresh the planner's statistics (the pages are measured right after a seed)."""
        if not self.is_postgres:
            return
        if self._replica:
            self.connection.execute(sa.text("SET LOCAL session_replication_role = DEFAULT"))
        for definition in self._dropped:
            self.connection.execute(sa.text(definition))
        self._dropped.clear()
        for table, next_id in self._next_id.items():
            self.connection.execute(sa.text(
                "SELECT setval(pg_get_serial_sequence(:table, 'id'), :value, :called)"),
                dict(table=table, value=max(next_id - 1, 1), called=next_id > 1))
        for table in self.counts:
            self.connection.execute(sa.text(f"ANALYZE {table}"))
