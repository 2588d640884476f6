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


# The development stand-ins for Stripe; production must be given the real values.
LOCAL_STRIPE_VALUES = {
    "",
    "sk_test_localstripe",
    "pk_test_localstripe",
    "whsec_localstripe_development",
    "whsec_testing_only",
}
STRIPE_SETTINGS = ("STRIPE_SECRET_KEY", "STRIPE_PUBLISHABLE_KEY", "STRIPE_WEBHOOK_SECRET")
TWILIO_SETTINGS = ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_MESSAGING_SERVICE_SID",
                   "TWILIO_FROM_NUMBER", "TWILIO_API_BASE")
# The local Twilio stand-in's account (devtools/twilio_fake.py), which production must not use.
PLATFORM_SETTINGS = ("PLATFORM_PUSH_URL", "PLATFORM_PUSH_SECRET", "PLATFORM_LINKAGE_KEY")
LOCAL_PLATFORM_VALUES = {"development-only-platform-push-secret", "development-only-platform-linkage-key"}
LOCAL_TWILIO_VALUES = {"AC" + "0" * 30 + "fa", "fake-twilio-auth-token-for-development"}
MIN_SECRET_KEY_LENGTH = 32
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
# Limiter stores that every worker process on every host sees alike.
SHARED_LIMITER_SCHEMES = ("redis://", "rediss://", "redis+unix://", "redis+sentinel://", "redis+cluster://")


def normalise_database_url(url: str) -> str:
    """Point PostgreSQL URLs at psycopg 3, whatever scheme the operator wrote."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


class ConfigError(RuntimeError):
    """A configuration value the application cannot start without."""


def _without_password(url: str) -> str:
    """The URL as it may appear in a log line: any password replaced by ***."""
    scheme, sep, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not sep or not at or ":" not in credentials:
        return url
    return f"{scheme}://{credentials.split(':', 1)[0]}:***@{host}"


def redis_answers(url: str, timeout: float = 0.5) -> bool:
    """True when a Redis server at `url` answers PING within `timeout` seconds."""
    import redis  # only needed where a shared limiter store is wanted

    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except (redis.RedisError, OSError, ValueError):
        return False


def development_limiter_store(environ=os.environ) -> tuple[str, str]:
    """(store URI, a line for the developer): Redis at REDIS_URL when it answers, else memory."""
    url = environ.get("REDIS_URL") or DEFAULT_REDIS_URL
    if redis_answers(url):
        return url, f"Rate limits: shared by every worker through Redis at {_without_password(url)}."
    return "memory://", (
        f"Rate limits: no Redis answers at {_without_password(url)}, so they fall back to "
        "per-process memory (each worker counts on its own). Start Redis to share them."
    )


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
    # ... and this many hours after signing in, however active it is.
    SESSION_ABSOLUTE_HOURS = 12

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
    # SMS codes (password reset and phone verification together) per account, whatever the address.
    CODE_RATE_LIMIT = "5 per hour"
    REGISTER_RATE_LIMIT = "10 per hour"
    # Refused signing attempts (a wrong password among them) per doctor.
    SIGN_RATE_LIMIT = "10 per 15 minutes"
    # Reverse proxies in front of the app that append to X-Forwarded-For; 0 trusts no header.
    TRUSTED_PROXY_COUNT = 0

    # log (development: messages in the log), file (crash rehearsals), twilio (production, and
    # `make run` against the local stand-in devtools/twilio_fake.py).
    SMS_BACKEND = "log"
    SMS_MAX_ATTEMPTS = 5
    # Development's values are the local stand-in's (devtools/twilio_fake.py); production sets its own.
    TWILIO_ACCOUNT_SID = "AC" + "0" * 30 + "fa"
    TWILIO_AUTH_TOKEN = "fake-twilio-auth-token-for-development"  # noqa: S105  (the local stand-in's)
    TWILIO_MESSAGING_SERVICE_SID = ""
    TWILIO_FROM_NUMBER = ""
    TWILIO_API_BASE = ""  # empty: Twilio itself
    TWILIO_TIMEOUT_SECONDS = 10
    # The address patients' phones and Twilio reach the app at: status callbacks and inbound
    # messages are signed against it, and SMS links point to it.
    PUBLIC_BASE_URL = "http://127.0.0.1:5000"
    # Messages each worker hands to the provider per second (0: as fast as it answers). The account's
    # rate is this times the number of workers; Twilio queues what exceeds the sender's own limit.
    SMS_SEND_RATE = 50
    # No reminder or notice goes out in these local hours unless the patient chose that dose time;
    # one-time codes are never held.
    SMS_QUIET_START = "21:00"
    SMS_QUIET_END = "08:00"
    # The refill reminder goes this many days before a supply's last day (and another on it).
    REMINDER_REFILL_DAYS = 5
    # A reply of 1 / 2 answers the latest dose reminder sent within this many hours.
    DOSE_REPLY_HOURS = 12
    # The development phone page (/sms/phone: a number's texts, and replies played through the signed
    # inbound endpoint) works only with the log backend or the local stand-in; patients may use it for
    # their own number only where this is on.
    SMS_PHONE_PAGE_FOR_PATIENTS = True
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
    # The payment page offers offline test cards, confirmed at once, instead of Stripe's Payment Element.
    STRIPE_TEST_CARDS = True
    PAYMENT_CURRENCY = "CNY"

    # How often an open queue page (doctor's, pharmacist's) asks whether anything changed, in seconds.
    LIVE_POLL_SECONDS = 12

    # Consultations: an unpaid booking lapses after this many minutes, a paid one that no
    # doctor accepted after this many hours (the worker expires both and releases the money).
    CONSULTATION_PAYMENT_MINUTES = 30
    CONSULTATION_ACCEPT_HOURS = 24

    # Goods received must have at least this many days of shelf life left.
    INVENTORY_MIN_SHELF_DAYS = 90
    # Stock reserved for an order and not dispensed within this many hours is released by the worker,
    # and the order cancelled with its money given back.
    RESERVATION_HOLD_HOURS = 48
    # Medication orders: an order nobody paid within this many hours is cancelled by the worker (so
    # is one whose prescription's last valid day has passed). Delivery fees in fen, per order; a
    # cold-chain parcel travels in a cold box with ice packs.
    ORDER_PAYMENT_HOURS = 24
    ORDER_DELIVERY_FEE_FEN = 1000
    ORDER_COLD_CHAIN_DELIVERY_FEE_FEN = 2500

    WORKER_POLL_SECONDS = 5
    WORKER_BATCH_SIZE = 50

    PREFERRED_URL_SCHEME = "http"

    # Payment operations (capture, cancel, refund) are rows performed after the commit; one that
    # Stripe did not answer is retried with growing delays, then left for operations staff.
    STRIPE_TIMEOUT_SECONDS = 20
    STRIPE_MAX_NETWORK_RETRIES = 1
    PAYMENT_OPERATION_MAX_ATTEMPTS = 10
    PAYMENT_OPERATION_LEASE_SECONDS = 120  # a claimed operation whose performer died is retried after this
    # `flask payments reconcile` (and the worker) asks Stripe about payments still pending after this.
    PAYMENT_RECONCILE_MINUTES = 10
    PAYMENT_RECONCILE_EVERY_SECONDS = 120  # how often the worker runs it
    # Unpaid bookings: how many may be open at once, and how much they may hold in attachments.
    CONSULTATION_MAX_UNPAID = 3
    UNPAID_BOOKING_UPLOAD_COUNT = 10
    UNPAID_BOOKING_UPLOAD_BYTES = 30 * 1024 * 1024

    # SMS outbox: the worker claims a batch under a lease and sends with no transaction open; a
    # message whose lease ran out (the worker died) is claimed again, so the lease must outlast
    # one provider call. The "file" backend appends to SMS_FILE_PATH; SMS_FILE_GATE (a file
    # holding a number) holds its replies, for rehearsing a worker killed mid-batch.
    SMS_SEND_LEASE_SECONDS = 120

    # The clinical data platform. Empty URL: events wait in the outbox and nothing is sent. The push
    # is signed with PLATFORM_PUSH_SECRET; PLATFORM_LINKAGE_KEY keys the hash the platform joins
    # hospital records by (shared with the platform, and never the Flask secret).
    PLATFORM_PUSH_URL = ""
    PLATFORM_PUSH_SECRET = "development-only-platform-push-secret"  # noqa: S105  (refused in production)
    PLATFORM_LINKAGE_KEY = "development-only-platform-linkage-key"
    PLATFORM_BATCH_SIZE = 100  # events per FHIR batch Bundle
    PLATFORM_TIMEOUT_SECONDS = 10
    PLATFORM_LEASE_SECONDS = 120  # must outlast one push; a lapsed lease lets another worker retry
    PLATFORM_RETRY_BASE_SECONDS = 2.0  # the first retry after 1–2 s, doubling up to the maximum
    PLATFORM_MAX_BACKOFF_SECONDS = 3600
    SMS_FILE_PATH = str(INSTANCE_DIR / "sms-outbox.jsonl")
    SMS_FILE_GATE = ""

    # How many days a patient fact may be old before the checks call it stale (still used, but every
    # finding built on it says so). Keys and defaults: app/checks/patient_facts.py MAX_AGE_DAYS.
    CHECKS_FACT_MAX_AGE_DAYS: dict = {}

    @classmethod
    def init(cls) -> dict:
        """Return the settings as a dict, applying environment overrides."""
        settings = {key: getattr(cls, key) for key in dir(cls) if key.isupper()}
        if os.environ.get("DATABASE_URL"):
            settings["SQLALCHEMY_DATABASE_URI"] = os.environ["DATABASE_URL"]
        if os.environ.get("SECRET_KEY"):
            settings["SECRET_KEY"] = os.environ["SECRET_KEY"]
        for name in ("STRIPE_SECRET_KEY", "STRIPE_PUBLISHABLE_KEY", "STRIPE_WEBHOOK_SECRET",
                     "STRIPE_API_BASE", "UPLOAD_FOLDER", "SMS_BACKEND", *TWILIO_SETTINGS, "PUBLIC_BASE_URL",
                     *PLATFORM_SETTINGS):
            if name in os.environ:
                settings[name] = os.environ[name]
        if os.environ.get("RATELIMIT_STORAGE_URI"):
            settings["RATELIMIT_STORAGE_URI"] = os.environ["RATELIMIT_STORAGE_URI"]
        if os.environ.get("SMS_SEND_RATE"):
            try:
                settings["SMS_SEND_RATE"] = float(os.environ["SMS_SEND_RATE"])
            except ValueError:
                raise ConfigError("SMS_SEND_RATE must be a number of messages per second.") from None
        if os.environ.get("PLATFORM_BATCH_SIZE"):
            size = os.environ["PLATFORM_BATCH_SIZE"].strip()
            if not (size.isascii() and size.isdigit() and 1 <= int(size) <= 1000):
                raise ConfigError("PLATFORM_BATCH_SIZE must be a whole number from 1 to 1000.")
            settings["PLATFORM_BATCH_SIZE"] = int(size)
        if os.environ.get("TRUSTED_PROXY_COUNT"):
            count = os.environ["TRUSTED_PROXY_COUNT"].strip()
            if not (count.isascii() and count.isdigit() and int(count) <= 10):
                raise ConfigError("TRUSTED_PROXY_COUNT must be a whole number from 0 to 10.")
            settings["TRUSTED_PROXY_COUNT"] = int(count)
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
    # No quiet hours (start == end), so a notice queued by a test is due whatever the time of day
    # the suite runs; the tests of quiet hours set them.
    SMS_QUIET_START = SMS_QUIET_END = "00:00"

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
    TWILIO_ACCOUNT_SID = ""
    TWILIO_AUTH_TOKEN = ""
    SMS_PHONE_PAGE_FOR_PATIENTS = False
    STRIPE_SECRET_KEY = ""
    STRIPE_PUBLISHABLE_KEY = ""
    STRIPE_WEBHOOK_SECRET = ""
    STRIPE_API_BASE = ""  # Stripe itself
    STRIPE_TEST_CARDS = False
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    PREFERRED_URL_SCHEME = "https"

    @classmethod
    def init(cls) -> dict:
        # One check at a time, in this order, each naming only its variable and never its value.
        for name in ("SECRET_KEY", "DATABASE_URL"):
            value = os.environ.get(name, "")
            if not value or value in KNOWN_DEFAULT_SECRETS:
                raise ConfigError(
                    f"{name} must be set to a real value in the environment for production."
                )
            if name == "SECRET_KEY" and len(value) < MIN_SECRET_KEY_LENGTH:
                raise ConfigError(
                    f"SECRET_KEY must be at least {MIN_SECRET_KEY_LENGTH} characters long in production."
                )
        for name in STRIPE_SETTINGS:
            if os.environ.get(name, "").strip() in LOCAL_STRIPE_VALUES:
                raise ConfigError(f"{name} must be set to the real Stripe value for production.")
        if os.environ.get("SMS_BACKEND") == "twilio":
            for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN"):
                if os.environ.get(name, "").strip() in (LOCAL_TWILIO_VALUES | {""}):
                    raise ConfigError(f"{name} must be set to the real Twilio value for production.")
        cls._check_platform()
        # RATELIMIT_STORAGE_URI, when given, overrides REDIS_URL for the limiter; either must be shared.
        name = "RATELIMIT_STORAGE_URI" if os.environ.get("RATELIMIT_STORAGE_URI") else "REDIS_URL"
        store = os.environ.get(name, "").strip()
        if not store.startswith(SHARED_LIMITER_SCHEMES):
            raise ConfigError(
                f"{name} must name the Redis server (redis://...) that keeps rate limits for every "
                "worker; per-process memory would let guesses spread over the workers."
            )
        settings = super().init()
        settings["RATELIMIT_STORAGE_URI"] = store
        return settings

    @staticmethod
    def _check_platform() -> None:
        """Pushing to the platform needs HTTPS and real keys; the linkage key is never the Flask secret."""
        url = os.environ.get("PLATFORM_PUSH_URL", "").strip()
        if not url:
            return
        if not url.lower().startswith("https://"):
            raise ConfigError("PLATFORM_PUSH_URL must be an https:// address in production.")
        for name in ("PLATFORM_PUSH_SECRET", "PLATFORM_LINKAGE_KEY"):
            value = os.environ.get(name, "").strip()
            if not value or value in LOCAL_PLATFORM_VALUES:
                raise ConfigError(f"{name} must be set to the value agreed with the data platform.")
        if os.environ["PLATFORM_LINKAGE_KEY"].strip() == os.environ.get("SECRET_KEY", "").strip():
            raise ConfigError("PLATFORM_LINKAGE_KEY must not be the SECRET_KEY.")


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


if __name__ == "__main__":
    # `make run` asks once which limiter store to use: the URI on stdout, the reason on stderr.
    import sys

    if sys.argv[1:] != ["limiter-store"]:
        sys.exit("usage: python config.py limiter-store")
    uri, message = development_limiter_store()
    print(message, file=sys.stderr)
    print(uri)
