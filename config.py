"""Configuration classes, read from the environment; production fails fast on missing secrets."""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"

# Values that must never reach production; they appear in this file and in the README.
KNOWN_DEFAULT_SECRETS = {
    "",
    "dev",
    "change-me",
    "development-only-secret-key",
    "testing-only-secret-key",
}


def normalise_database_url(url: str) -> str:
    """Point PostgreSQL URLs at psycopg 3, whatever scheme the operator wrote."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


class ConfigError(RuntimeError):
    """A configuration value the application cannot start without."""


class Config:
    SECRET_KEY = "development-only-secret-key"  # noqa: S105  (refused in production)
    SQLALCHEMY_DATABASE_URI = f"sqlite:///{INSTANCE_DIR / 'hospital.sqlite3'}"
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}

    # Cookies: HttpOnly and SameSite everywhere; Secure where HTTPS is guaranteed.
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = False
    REMEMBER_COOKIE_DURATION = 60 * 60 * 24 * 7
    # A signed-in session ends after this much idle time (seconds).
    PERMANENT_SESSION_LIFETIME = 60 * 30

    WTF_CSRF_ENABLED = True
    WTF_CSRF_TIME_LIMIT = 60 * 60 * 2

    BABEL_DEFAULT_LOCALE = "en"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    BABEL_TRANSLATION_DIRECTORIES = str(BASE_DIR / "translations")
    LANGUAGES = ("en", "zh")

    BOOTSTRAP_SERVE_LOCAL = True

    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_HEADERS_ENABLED = True
    LOGIN_RATE_LIMIT = "10 per minute"

    SMS_BACKEND = "log"
    SMS_MAX_ATTEMPTS = 5
    VERIFICATION_CODE_TTL_SECONDS = 10 * 60
    VERIFICATION_CODE_MAX_ATTEMPTS = 5
    PHONE_DEFAULT_REGION = "CN"

    # Uploads (proof of diagnosis, attachments) live outside static/, under the instance folder.
    UPLOAD_FOLDER = str(INSTANCE_DIR / "uploads")
    MAX_UPLOAD_BYTES = 10 * 1024 * 1024
    # Whole request: a form with a few files; each file is checked against MAX_UPLOAD_BYTES.
    MAX_CONTENT_LENGTH = 32 * 1024 * 1024

    # Stripe. Development talks to localstripe (started by `make run`); production to Stripe.
    STRIPE_SECRET_KEY = "sk_test_localstripe"  # noqa: S105  (local stand-in only)
    STRIPE_PUBLISHABLE_KEY = "pk_test_localstripe"
    STRIPE_WEBHOOK_SECRET = "whsec_localstripe_development"  # noqa: S105  (local stand-in only)
    STRIPE_API_BASE = "http://127.0.0.1:8420"
    PAYMENT_METHOD_TYPES = ("card", "alipay", "wechat_pay")
    PAYMENT_CURRENCY = "CNY"

    # Consultations: an unpaid booking lapses after this many minutes, a paid one that no
    # doctor accepted after this many hours (the worker expires both and releases the money).
    CONSULTATION_PAYMENT_MINUTES = 30
    CONSULTATION_ACCEPT_HOURS = 24

    # Goods received must have at least this many days of shelf life left.
    INVENTORY_MIN_SHELF_DAYS = 90
    # Stock reserved for an order and not dispensed within this many hours is released by the worker.
    RESERVATION_HOLD_HOURS = 48

    WORKER_POLL_SECONDS = 5
    WORKER_BATCH_SIZE = 50

    PREFERRED_URL_SCHEME = "http"

    @classmethod
    def init(cls) -> dict:
        """Return the settings as a dict, applying environment overrides."""
        settings = {key: getattr(cls, key) for key in dir(cls) if key.isupper()}
        if os.environ.get("DATABASE_URL"):
            settings["SQLALCHEMY_DATABASE_URI"] = os.environ["DATABASE_URL"]
        if os.environ.get("SECRET_KEY"):
            settings["SECRET_KEY"] = os.environ["SECRET_KEY"]
        for name in ("STRIPE_SECRET_KEY", "STRIPE_PUBLISHABLE_KEY", "STRIPE_WEBHOOK_SECRET",
                     "STRIPE_API_BASE", "UPLOAD_FOLDER"):
            if name in os.environ:
                settings[name] = os.environ[name]
        if os.environ.get("RATELIMIT_STORAGE_URI"):
            settings["RATELIMIT_STORAGE_URI"] = os.environ["RATELIMIT_STORAGE_URI"]
        settings["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(
            settings["SQLALCHEMY_DATABASE_URI"]
        )
        return settings


class DevelopmentConfig(Config):
    DEBUG = False


class TestingConfig(Config):
    TESTING = True
    SECRET_KEY = "testing-only-secret-key"  # noqa: S105
    SQLALCHEMY_DATABASE_URI = "sqlite://"
    # Most tests post forms directly; the CSRF tests switch protection back on.
    WTF_CSRF_ENABLED = False
    STRIPE_WEBHOOK_SECRET = "whsec_testing_only"  # noqa: S105
    # The tests start their own localstripe and set STRIPE_API_BASE to it.
    STRIPE_API_BASE = "http://127.0.0.1:9"

    @classmethod
    def init(cls) -> dict:
        settings = super().init()
        # Tests choose their own database; never the developer's DATABASE_URL.
        settings["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(
            os.environ.get("TEST_DATABASE_URL") or cls.SQLALCHEMY_DATABASE_URI
        )
        settings["SECRET_KEY"] = cls.SECRET_KEY
        settings["RATELIMIT_STORAGE_URI"] = "memory://"
        settings["STRIPE_WEBHOOK_SECRET"] = cls.STRIPE_WEBHOOK_SECRET
        return settings


class ProductionConfig(Config):
    STRIPE_SECRET_KEY = ""
    STRIPE_PUBLISHABLE_KEY = ""
    STRIPE_WEBHOOK_SECRET = ""
    STRIPE_API_BASE = ""  # Stripe itself
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    PREFERRED_URL_SCHEME = "https"

    @classmethod
    def init(cls) -> dict:
        for name in ("SECRET_KEY", "DATABASE_URL"):
            value = os.environ.get(name, "")
            if not value or value in KNOWN_DEFAULT_SECRETS:
                raise ConfigError(
                    f"{name} must be set to a real value in the environment for production."
                )
        settings = super().init()
        settings["RATELIMIT_STORAGE_URI"] = os.environ.get(
            "RATELIMIT_STORAGE_URI", "redis://127.0.0.1:6379/0"
        )
        return settings


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}
