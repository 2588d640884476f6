"""Engine tuning per database and the row-claiming helper the worker and services share."""

import sqlite3
from datetime import UTC, datetime

import sqlalchemy as sa
from flask import Flask
from sqlalchemy import DateTime, Select, event
from sqlalchemy.engine import Engine
from sqlalchemy.types import TypeDecorator

_listeners_installed = False


def utcnow() -> datetime:
    """Timezone-aware now in UTC; used as the column default everywhere."""
    return datetime.now(UTC)


def enum_column(enum_cls, name: str) -> sa.Enum:
    """A portable enum: VARCHAR plus a CHECK constraint, storing the values."""
    return sa.Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=20,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


def _on_connect(dbapi_connection, _record) -> None:
    if isinstance(dbapi_connection, sqlite3.Connection):
        # pysqlite's own transaction handling breaks SAVEPOINT; SQLAlchemy issues BEGIN instead.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.close()


def _on_begin(connection) -> None:
    if connection.dialect.name == "sqlite":
        # IMMEDIATE takes the write lock up front, so concurrent writers queue instead of
        # failing with "database is locked" when a read transaction later writes.
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def configure_engines(app: Flask) -> None:
    global _listeners_installed
    if not _listeners_installed:
        event.listen(Engine, "connect", _on_connect)
        event.listen(Engine, "begin", _on_begin)
        _listeners_installed = True


def claim(statement: Select, dialect_name: str) -> Select:
    """Lock the selected rows for this transaction; other workers skip them on PostgreSQL.

    SQLite has no row locks; its writes are serialized by BEGIN IMMEDIATE instead.
    """
    if dialect_name == "postgresql":
        return statement.with_for_update(skip_locked=True)
    return statement


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes on both databases (SQLite would otherwise hand back naive ones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: store timezone-aware UTC values")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value
