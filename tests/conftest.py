"""Fixtures: one app per database (SQLite always, PostgreSQL when TEST_DATABASE_URL is set),
a rolled-back transaction per test, a client, login_as(), and the SMS log backend."""

import os

import pytest
import sqlalchemy as sa
from flask import g, request_started
from flask_sqlalchemy.session import _app_ctx_id
from sqlalchemy.orm import scoped_session, sessionmaker

from app import create_app
from app.extensions import db as _db
from app.extensions import limiter
from app.schema import upgrade
from config import normalise_database_url
from devtools.localstripe_runner import LocalStripe
from tests import factories

IN_CI = os.environ.get("CI", "").lower() == "true"
PG_URL = os.environ.get("TEST_DATABASE_URL", "")


def pytest_configure(config):
    if IN_CI and not PG_URL:
        raise pytest.UsageError("CI=true needs TEST_DATABASE_URL: the PostgreSQL tests may not be skipped.")


def backends() -> list[str]:
    return ["sqlite", "postgresql"] if PG_URL else ["sqlite"]


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    """postgres_only tests (row locks, triggers) run only with the postgresql app; browser tests
    run last, after every other test (their live server lives until the end of the run)."""
    keep, dropped = [], []
    for item in items:
        backend = getattr(item, "callspec", None) and item.callspec.params.get("database_url")
        if item.get_closest_marker("postgres_only") and backend != "postgresql":
            dropped.append(item)
        else:
            keep.append(item)
    if IN_CI and any(item.get_closest_marker("postgres_only") for item in dropped) and not any(
        item.get_closest_marker("postgres_only") for item in keep
    ):
        raise pytest.UsageError("postgres_only tests would not run")
    if dropped:
        config.hook.pytest_deselected(items=dropped)
    items[:] = [item for item in keep if "e2e" not in item.keywords] + [
        item for item in keep if "e2e" in item.keywords]


@pytest.fixture(scope="session", params=backends())
def database_url(request, tmp_path_factory):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'test.sqlite3'}"
    return normalise_database_url(PG_URL)


def reset_postgres_schema(engine) -> None:
    with engine.begin() as connection:
        connection.execute(sa.text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(sa.text("CREATE SCHEMA public"))


@pytest.fixture(scope="session")
def localstripe():
    """The offline Stripe stand-in on 127.0.0.1, for the whole run; state in memory only."""
    server = LocalStripe().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def app(database_url, tmp_path_factory, localstripe):
    application = create_app("testing", {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "UPLOAD_FOLDER": str(tmp_path_factory.mktemp("uploads")),
        "STRIPE_API_BASE": localstripe.url,
    })
    with application.app_context():
        if _db.engine.dialect.name == "postgresql":
            reset_postgres_schema(_db.engine)
        upgrade()  # the schema comes from the migrations, exactly as in production
        _db.engine.dispose()
    yield application
    with application.app_context():
        _db.engine.dispose()


@pytest.fixture
def committed_postgres_app(database_url, tmp_path, localstripe):
    """An app on a new PostgreSQL database of its own, for tests whose transactions must really
    commit because several connections work at once (row locks, concurrent claims); dropped after."""
    base = sa.engine.make_url(database_url)
    name = f"test_committed_{os.getpid()}"
    server = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    application = create_app("testing", {
        "SQLALCHEMY_DATABASE_URI": base.set(database=name).render_as_string(hide_password=False),
        "UPLOAD_FOLDER": str(tmp_path),
        "STRIPE_API_BASE": localstripe.url,
    })
    with application.app_context():
        upgrade()
    try:
        yield application
    finally:
        with application.app_context():
            _db.session.remove()
            _db.engine.dispose()
        with server.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


@pytest.fixture
def db(app):
    """Each test runs in a transaction rolled back at the end; commits become savepoints."""
    with app.app_context():
        connection = _db.engine.connect()
        outer = connection.begin()
        original = _db.session
        factory = sessionmaker(bind=connection, join_transaction_mode="create_savepoint")
        _db.session = scoped_session(factory, scopefunc=_app_ctx_id)
        try:
            yield _db
        finally:
            _db.session.remove()
            _db.session = original
            outer.rollback()
            connection.close()


@pytest.fixture(autouse=True)
def _fresh_limits_and_outbox(request):
    if "app" in request.fixturenames:
        application = request.getfixturevalue("app")
        with application.app_context():
            limiter.reset()
        application.extensions["sms"].sent.clear()
    yield


def _fresh_request_globals(_sender, **_extra):
    """Tests keep one app context open, which Flask reuses for every request in the test;
    production gets a new one (and a new `g`) per request, so clear `g` to match."""
    g.__dict__.clear()


@pytest.fixture
def client(app, db):
    request_started.connect(_fresh_request_globals, app)
    try:
        # Not `with`: a preserved request context would outlive the request it belongs to.
        yield app.test_client()
    finally:
        request_started.disconnect(_fresh_request_globals, app)


@pytest.fixture
def sms_sent(app):
    """Messages the log backend 'sent', as (phone, body) pairs."""
    return app.extensions["sms"].sent


@pytest.fixture
def login_as(client, db):
    """Sign in through the login form as a new user of `role` (or as a given user)."""

    def sign_in(role_or_user, **fields):
        user = role_or_user if hasattr(role_or_user, "id") else factories.make_user(role_or_user, **fields)
        _db.session.commit()
        response = client.post(
            "/accounts/login",
            data={"identifier": user.login_name, "password": factories.PASSWORD},
        )
        assert response.status_code == 302, response.get_data(as_text=True)
        return user

    return sign_in
