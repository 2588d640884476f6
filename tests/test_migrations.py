"""The migrations build the whole schema from an empty database and match the models exactly."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

PROJECT_ROOT = Path(__file__).resolve().parent.parent
NO_DRIFT = "No new upgrade operations detected"


def flask_db(database_url: str, *args: str) -> subprocess.CompletedProcess:
    """Run `flask db …` exactly as an operator would, against `database_url`."""
    env = {key: value for key, value in os.environ.items() if key not in ("TEST_DATABASE_URL", "FLASK_APP")}
    env.update(APP_CONFIG="development", DATABASE_URL=database_url)
    result = subprocess.run(  # noqa: S603  (a fixed argv, no shell)
        [sys.executable, "-m", "flask", "--app", "wsgi.py", "db", *args],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=180, check=False,
    )
    result.output = result.stdout + result.stderr
    return result


def assert_ok(result: subprocess.CompletedProcess) -> None:
    assert result.returncode == 0, result.output


def table_names(database_url: str) -> set[str]:
    engine = sa.create_engine(database_url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_builds_the_schema_from_empty_and_check_finds_no_drift(tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    assert_ok(flask_db(url, "upgrade"))
    assert {"users", "audit_events", "outbound_sms", "stores", "alembic_version"} <= table_names(url)
    check = flask_db(url, "check")
    assert_ok(check)
    assert NO_DRIFT in check.output


def test_downgrade_to_base_and_upgrade_again(tmp_path):
    url = f"sqlite:///{tmp_path / 'roundtrip.sqlite3'}"
    assert_ok(flask_db(url, "upgrade"))
    assert_ok(flask_db(url, "downgrade", "base"))
    assert table_names(url) <= {"alembic_version"}
    assert_ok(flask_db(url, "upgrade"))
    assert "users" in table_names(url)
    check = flask_db(url, "check")
    assert_ok(check)
    assert NO_DRIFT in check.output


def test_check_reports_drift_when_the_database_lags_the_models(tmp_path):
    url = f"sqlite:///{tmp_path / 'behind.sqlite3'}"
    assert_ok(flask_db(url, "upgrade"))
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text("DROP INDEX ix_outbound_sms_due"))
    engine.dispose()
    check = flask_db(url, "check")
    assert check.returncode != 0
    assert NO_DRIFT not in check.output


@pytest.mark.postgres_only
def test_upgrade_and_check_on_a_fresh_postgresql_database(database_url):
    server = sa.make_url(database_url)
    scratch = f"scratch_migrations_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{scratch}"'))
        url = server.set(database=scratch).render_as_string(hide_password=False)
        try:
            assert_ok(flask_db(url, "upgrade"))
            assert {"users", "audit_events", "outbound_sms"} <= table_names(url)
            check = flask_db(url, "check")
            assert_ok(check)
            assert NO_DRIFT in check.output
            engine = sa.create_engine(url)
            try:
                with engine.connect() as connection:
                    triggers = connection.execute(sa.text(
                        "SELECT tgname FROM pg_trigger WHERE tgrelid = 'audit_events'::regclass "
                        "AND NOT tgisinternal")).scalars().all()
            finally:
                engine.dispose()
            assert triggers == ["audit_events_append_only"]
        finally:
            with admin.connect() as connection:
                connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)'))
    finally:
        admin.dispose()
