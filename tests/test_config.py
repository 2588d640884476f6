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
REDIS_URL = "redis://127.0.0.1:6379/0"
DEPLOYMENT_VARIABLES = ("APP_CONFIG", "SECRET_KEY", "DATABASE_URL", "RATELIMIT_STORAGE_URI", "REDIS_URL",
                        "STRIPE_SECRET_KEY", "STRIPE_PUBLISHABLE_KEY", "STRIPE_WEBHOOK_SECRET",
                        "TRUSTED_PROXY_COUNT", "SMS_BACKEND", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN",
                        "TWILIO_MESSAGING_SERVICE_SID", "TWILIO_FROM_NUMBER", "TWILIO_API_BASE",
                        "PUBLIC_BASE_URL", "PLATFORM_PUSH_URL", "PLATFORM_PUSH_SECRET",
                        "PLATFORM_LINKAGE_KEY", "PLATFORM_BATCH_SIZE")
# Shaped like Stripe's live values; never used to call anything.
STRIPE_ENV = {"STRIPE_SECRET_KEY": "sk_live_51Hexample0000000000000000",
              "STRIPE_PUBLISHABLE_KEY": "pk_live_51Hexample0000000000000000",
              "STRIPE_WEBHOOK_SECRET": "whsec_example0000000000000000000"}


@pytest.fixture
def clean_env(monkeypatch):
    """No deployment variables leak in from the developer's shell."""
    for name in DEPLOYMENT_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'production.sqlite3'}"


@pytest.fixture
def production_env(clean_env, sqlite_url):
    """Every production variable set to a good value; a test then spoils one."""
    for name, value in {"SECRET_KEY": REAL_SECRET, "DATABASE_URL": sqlite_url, "REDIS_URL": REDIS_URL,
                        **STRIPE_ENV}.items():
        clean_env.setenv(name, value)
    return clean_env


def production_app():
    # The limiter object is shared by every app in this process: once the production checks have
    # passed, keep this app's counters in memory rather than pointing every later test at Redis.
    return create_app("production", {"RATELIMIT_STORAGE_URI": "memory://"})


def _production_error(monkeypatch) -> str:
    with pytest.raises(ConfigError) as error:
        production_app()
    message = str(error.value)
    assert "\n" not in message, "the operator should get one line, not a wall of text"
    return message


def test_production_refuses_to_start_without_secret_key(production_env):
    production_env.delenv("SECRET_KEY")
    assert "SECRET_KEY" in _production_error(production_env)


def test_production_refuses_to_start_without_database_url(production_env):
    production_env.delenv("DATABASE_URL")
    message = _production_error(production_env)
    assert "DATABASE_URL" in message
    assert "SECRET_KEY" not in message


@pytest.mark.parametrize("secret", ["development-only-secret-key", "change-me", "testing-only-secret-key"])
def test_production_refuses_a_secret_key_copied_from_the_defaults(production_env, secret):
    production_env.setenv("SECRET_KEY", secret)
    message = _production_error(production_env)
    assert "SECRET_KEY" in message
    assert secret not in message, "the error must not echo the secret back into the logs"


@pytest.mark.parametrize(("length", "starts"), [(31, False), (32, True), (33, True)])
def test_finding_10_production_refuses_a_secret_key_shorter_than_32_characters(production_env, length,
                                                                               starts):
    secret = "k7Qx2pL9vR4mZ8tW1nB6yH3cF5jD0sGa"[:length].ljust(length, "e")
    assert len(secret) == length
    production_env.setenv("SECRET_KEY", secret)
    if starts:
        assert production_app().config["SECRET_KEY"] == secret
    else:
        message = _production_error(production_env)
        assert "SECRET_KEY" in message and "32 characters" in message
        assert secret not in message


@pytest.mark.parametrize("name", list(STRIPE_ENV))
@pytest.mark.parametrize("value", [None, "", "  ", "local stand-in"])
def test_finding_10_production_refuses_to_start_without_each_real_stripe_setting(production_env, name,
                                                                                 value):
    if value is None:
        production_env.delenv(name)
    else:
        stand_in = getattr(config.DevelopmentConfig, name)  # what localstripe uses
        production_env.setenv(name, stand_in if value == "local stand-in" else value)
    message = _production_error(production_env)
    assert message.startswith(name)
    assert STRIPE_ENV[name] not in message


@pytest.mark.parametrize(("name", "value"), [
    ("REDIS_URL", None),
    ("REDIS_URL", ""),
    ("REDIS_URL", "memory://"),
    ("REDIS_URL", "127.0.0.1:6379"),
    ("RATELIMIT_STORAGE_URI", "memory://"),  # a store named explicitly must be shared as well
])
def test_finding_4_production_refuses_to_start_without_a_shared_rate_limit_store(production_env, name,
                                                                                 value):
    if value is None:
        production_env.delenv(name)
    else:
        production_env.setenv(name, value)
    message = _production_error(production_env)
    assert message.startswith(name) and "per-process memory" in message


def test_finding_4_production_keeps_rate_limits_in_the_redis_at_redis_url(production_env):
    production_env.setenv("REDIS_URL", "rediss://:s3cret@cache.internal:6380/2")
    assert config.ProductionConfig.init()["RATELIMIT_STORAGE_URI"] == "rediss://:s3cret@cache.internal:6380/2"


def test_production_starts_with_real_secrets_and_secure_cookies(production_env, sqlite_url):
    app = production_app()
    assert app.config["CONFIG_NAME"] == "production"
    assert app.config["SECRET_KEY"] == REAL_SECRET
    assert app.config["SQLALCHEMY_DATABASE_URI"] == sqlite_url
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["REMEMBER_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert not app.debug
    assert not app.testing


@pytest.mark.parametrize("count", ["-1", "one", "1.5", "²", "11"])
def test_a_trusted_proxy_count_that_is_not_a_small_whole_number_is_refused(clean_env, count):
    clean_env.setenv("TRUSTED_PROXY_COUNT", count)
    with pytest.raises(ConfigError, match="TRUSTED_PROXY_COUNT"):
        create_app("development")


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
    env = {k: v for k, v in os.environ.items() if k not in DEPLOYMENT_VARIABLES} | env_changes
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
                         "SECRET_KEY": REAL_SECRET, "REDIS_URL": REDIS_URL, **STRIPE_ENV})
    assert result.returncode == 0, result.stderr
    assert "admin.dashboard" in result.stdout


# --- `make run`: Redis when one answers, per-process memory otherwise ------------------------------

CLOSED_PORT_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1


def test_finding_4_make_run_falls_back_to_per_process_memory_and_says_so_when_no_redis_answers():
    result = subprocess.run([sys.executable, "config.py", "limiter-store"], cwd=PROJECT_ROOT,
                            env=os.environ | {"REDIS_URL": "redis://:s3cret@127.0.0.1:1/0"},
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "memory://"
    assert "no Redis answers at redis://:***@127.0.0.1:1/0" in result.stderr
    assert "per-process memory" in result.stderr
    assert "s3cret" not in result.stderr + result.stdout


def test_finding_4_make_run_uses_redis_when_one_answers():
    if not config.redis_answers(REDIS_URL):
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI must provide Redis at {REDIS_URL}")
        pytest.skip(f"no Redis at {REDIS_URL}")
    uri, message = config.development_limiter_store({"REDIS_URL": REDIS_URL})
    assert uri == REDIS_URL and "shared by every worker" in message
    assert config.development_limiter_store({"REDIS_URL": CLOSED_PORT_URL})[0] == "memory://"


def test_make_run_hands_the_chosen_store_to_the_web_workers():
    recipe = (PROJECT_ROOT / "Makefile").read_text(encoding="utf-8").split("\nrun:", 1)[1].split("\n\n", 1)[0]
    assert "config.py limiter-store" in recipe
    assert 'RATELIMIT_STORAGE_URI="$$store" $(BIN)/gunicorn' in recipe


TWILIO_ENV = {"TWILIO_ACCOUNT_SID": "AC" + "1" * 32, "TWILIO_AUTH_TOKEN": "0123456789abcdef0123456789abcdef"}


@pytest.mark.parametrize("name", list(TWILIO_ENV))
@pytest.mark.parametrize("value", [None, "", "local stand-in"])
def test_production_with_twilio_refuses_the_stand_ins_account(production_env, name, value):
    production_env.setenv("SMS_BACKEND", "twilio")
    production_env.setenv("TWILIO_MESSAGING_SERVICE_SID", "MG" + "2" * 32)
    for key, good in TWILIO_ENV.items():
        production_env.setenv(key, good)
    if value is None:
        production_env.delenv(name)
    else:
        stand_in = getattr(config.DevelopmentConfig, name)  # what devtools/twilio_fake.py uses
        production_env.setenv(name, stand_in if value == "local stand-in" else value)
    message = _production_error(production_env)
    assert message.startswith(name) and TWILIO_ENV[name] not in message


def test_production_sends_through_twilio_with_a_real_account(production_env):
    production_env.setenv("SMS_BACKEND", "twilio")
    production_env.setenv("TWILIO_MESSAGING_SERVICE_SID", "MG" + "2" * 32)
    production_env.setenv("PUBLIC_BASE_URL", "https://hospital.example")
    for key, good in TWILIO_ENV.items():
        production_env.setenv(key, good)
    application = production_app()
    backend = application.extensions["sms"]
    assert type(backend).__name__ == "TwilioSmsBackend"
    assert backend.status_callback == "https://hospital.example/sms/status"
    assert application.config["TWILIO_API_BASE"] == ""  # Twilio itself


PLATFORM_ENV = {"PLATFORM_PUSH_URL": "https://platform.hospital.example/fhir",
                "PLATFORM_PUSH_SECRET": "agreed-push-secret-0123456789abcdef",
                "PLATFORM_LINKAGE_KEY": "agreed-linkage-key-0123456789abcdef"}


def _platform(env, **changes):
    for key, value in {**PLATFORM_ENV, **changes}.items():
        if value is None:
            env.delenv(key, raising=False)
        else:
            env.setenv(key, value)


def test_production_pushes_to_the_platform_over_https_with_the_agreed_keys(production_env):
    _platform(production_env)
    settings = production_app().config
    assert settings["PLATFORM_PUSH_URL"] == PLATFORM_ENV["PLATFORM_PUSH_URL"]
    assert settings["PLATFORM_LINKAGE_KEY"] == PLATFORM_ENV["PLATFORM_LINKAGE_KEY"] != settings["SECRET_KEY"]


def test_production_without_a_platform_address_pushes_nothing(production_env):
    assert production_app().config["PLATFORM_PUSH_URL"] == ""


@pytest.mark.parametrize("url", ["http://platform.hospital.example/fhir", "ftp://platform.example",
                                 "platform"])
def test_production_refuses_a_platform_address_that_is_not_https(production_env, url):
    _platform(production_env, PLATFORM_PUSH_URL=url)
    assert _production_error(production_env).startswith("PLATFORM_PUSH_URL must be an https://")


@pytest.mark.parametrize("name", ["PLATFORM_PUSH_SECRET", "PLATFORM_LINKAGE_KEY"])
@pytest.mark.parametrize("value", [None, "", "development default"])
def test_production_refuses_to_push_without_the_agreed_keys(production_env, name, value):
    stand_in = getattr(config.DevelopmentConfig, name)
    _platform(production_env, **{name: stand_in if value == "development default" else value})
    message = _production_error(production_env)
    assert message.startswith(name) and stand_in not in message


def test_production_refuses_the_flask_secret_as_the_linkage_key(production_env):
    _platform(production_env, PLATFORM_LINKAGE_KEY=REAL_SECRET)
    assert _production_error(production_env) == "PLATFORM_LINKAGE_KEY must not be the SECRET_KEY."


@pytest.mark.parametrize(("size", "accepted"), [("1", True), ("1000", True), ("0", False), ("1001", False),
                                                ("ten", False), ("-5", False)])
def test_the_batch_size_is_a_whole_number_from_1_to_1000(clean_env, size, accepted):
    clean_env.setenv("PLATFORM_BATCH_SIZE", size)
    if accepted:
        assert config.DevelopmentConfig.init()["PLATFORM_BATCH_SIZE"] == int(size)
    else:
        with pytest.raises(ConfigError, match="PLATFORM_BATCH_SIZE must be a whole number from 1 to 1000"):
            config.DevelopmentConfig.init()
