"""Configuration: production refuses to start without real secrets; development works out of the box."""

import os
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

import config
from app import create_app
from config import ConfigError, normalise_database_url

PROJECT_ROOT = Path(__file__).resolve().parent.parent
REAL_SECRET = "d6c1f0a8-real-production-secret-7b2e"


@pytest.fixture
def clean_env(monkeypatch):
    """No deployment variables leak in from the developer's shell."""
    for name in ("APP_CONFIG", "SECRET_KEY", "DATABASE_URL", "RATELIMIT_STORAGE_URI"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'production.sqlite3'}"


def _production_error(monkeypatch) -> str:
    # The limiter object is shared by every app in the process: never point it at Redis here.
    monkeypatch.setenv("RATELIMIT_STORAGE_URI", "memory://")
    with pytest.raises(ConfigError) as error:
        create_app("production")
    message = str(error.value)
    assert "\n" not in message, "the operator should get one line, not a wall of text"
    return message


def test_production_refuses_to_start_without_secret_key(clean_env, sqlite_url):
    clean_env.setenv("DATABASE_URL", sqlite_url)
    assert "SECRET_KEY" in _production_error(clean_env)


def test_production_refuses_to_start_without_database_url(clean_env):
    clean_env.setenv("SECRET_KEY", REAL_SECRET)
    message = _production_error(clean_env)
    assert "DATABASE_URL" in message
    assert "SECRET_KEY" not in message


@pytest.mark.parametrize("secret", ["development-only-secret-key", "change-me", "testing-only-secret-key"])
def test_production_refuses_a_secret_key_copied_from_the_defaults(clean_env, sqlite_url, secret):
    clean_env.setenv("SECRET_KEY", secret)
    clean_env.setenv("DATABASE_URL", sqlite_url)
    message = _production_error(clean_env)
    assert "SECRET_KEY" in message
    assert secret not in message, "the error must not echo the secret back into the logs"


def test_production_starts_with_real_secrets_and_secure_cookies(clean_env, sqlite_url):
    clean_env.setenv("SECRET_KEY", REAL_SECRET)
    clean_env.setenv("DATABASE_URL", sqlite_url)
    clean_env.setenv("RATELIMIT_STORAGE_URI", "memory://")
    app = create_app("production")
    assert app.config["CONFIG_NAME"] == "production"
    assert app.config["SECRET_KEY"] == REAL_SECRET
    assert app.config["SQLALCHEMY_DATABASE_URI"] == sqlite_url
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["REMEMBER_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert not app.debug
    assert not app.testing


def test_production_rate_limits_are_shared_between_processes_by_default(clean_env, sqlite_url):
    clean_env.setenv("SECRET_KEY", REAL_SECRET)
    clean_env.setenv("DATABASE_URL", sqlite_url)
    # Per-process memory counters would let an attacker spread guesses over workers.
    assert config.ProductionConfig.init()["RATELIMIT_STORAGE_URI"].startswith("redis://")


def test_without_app_config_the_app_runs_in_development_on_a_sqlite_file_in_instance(clean_env):
    app = runpy.run_path(str(PROJECT_ROOT / "wsgi.py"))["app"]
    assert app.config["CONFIG_NAME"] == "development"
    assert not app.testing
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    assert uri.startswith("sqlite:///")
    database_file = Path(uri.removeprefix("sqlite:///"))
    assert database_file.parent == PROJECT_ROOT / "instance"
    assert database_file.suffix == ".sqlite3"
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_development_uses_database_url_when_it_is_set(clean_env, tmp_path):
    url = f"sqlite:///{tmp_path / 'chosen.sqlite3'}"
    clean_env.setenv("DATABASE_URL", url)
    app = create_app()
    assert app.config["CONFIG_NAME"] == "development"
    assert app.config["SQLALCHEMY_DATABASE_URI"] == url


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u:p@db.example:5432/hospital", "postgresql+psycopg://u:p@db.example:5432/hospital"),
        ("postgresql://u:p@db.example/hospital", "postgresql+psycopg://u:p@db.example/hospital"),
        ("postgresql+psycopg://u@db.example/hospital", "postgresql+psycopg://u@db.example/hospital"),
        ("sqlite:////var/lib/hospital.sqlite3", "sqlite:////var/lib/hospital.sqlite3"),
    ],
)
def test_postgres_urls_are_pointed_at_psycopg_3(given, expected):
    assert normalise_database_url(given) == expected


def test_a_heroku_style_database_url_reaches_the_app_rewritten(clean_env):
    clean_env.setenv("DATABASE_URL", "postgres://u:p@db.example:5432/hospital")
    app = create_app("development")
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u:p@db.example:5432/hospital"


def test_unknown_configuration_name_is_refused():
    with pytest.raises(ValueError, match="production"):
        create_app("staging")


def _flask_cli(env_changes: dict[str, str]) -> subprocess.CompletedProcess:
    unset = ("SECRET_KEY", "DATABASE_URL", "APP_CONFIG", "RATELIMIT_STORAGE_URI")
    env = {k: v for k, v in os.environ.items() if k not in unset} | env_changes
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi.py", "routes"],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )


def test_flask_command_in_production_without_secret_key_stops_and_names_it(sqlite_url):
    result = _flask_cli({"APP_CONFIG": "production", "DATABASE_URL": sqlite_url})
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr
    # One readable line for the operator, not a traceback.
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("Configuration error: SECRET_KEY")
    assert "admin.dashboard" not in result.stdout


def test_flask_command_in_production_with_real_secrets_lists_the_routes(sqlite_url):
    result = _flask_cli({"APP_CONFIG": "production", "DATABASE_URL": sqlite_url,
                         "SECRET_KEY": REAL_SECRET, "RATELIMIT_STORAGE_URI": "memory://"})
    assert result.returncode == 0, result.stderr
    assert "admin.dashboard" in result.stdout
