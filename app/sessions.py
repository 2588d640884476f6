"""The session cookie, signed as Flask signs it, but sent again at most once a minute to keep it alive."""

# Flask re-signs and re-sends a permanent session's cookie on every request so that its idle expiry
# (PERMANENT_SESSION_LIFETIME) slides forward. On a list page that was a fifth of the request's own
# work: serialising, compressing and signing the session, and building the serializer twice. Here a
# cookie signed less than REFRESH_AFTER seconds ago is left as it is, so the idle timeout runs from the
# last refresh: a session idle for the lifetime minus at most a minute ends. A changed session is
# always sent at once.

import time

from flask import Flask, Request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from itsdangerous import BadSignature, URLSafeTimedSerializer

REFRESH_AFTER = 60  # seconds


class RefreshedSession(SecureCookieSession):
    """A cookie session that remembers when its cookie was signed (None: a new session)."""

    signed_at: float | None = None


class ThrottledCookieSessions(SecureCookieSessionInterface):
    session_class = RefreshedSession

    def __init__(self):
        self._serializers: dict[tuple, URLSafeTimedSerializer] = {}

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        # Built once per secret rather than twice per request (a key derivation each time).
        secret, fallbacks = app.secret_key, tuple(app.config.get("SECRET_KEY_FALLBACKS") or ())
        if not secret:
            return None
        key = (secret, fallbacks)
        if key not in self._serializers:
            self._serializers[key] = super().get_signing_serializer(app)
        return self._serializers[key]

    @staticmethod
    def now() -> float:
        return time.time()

    def open_session(self, app: Flask, request: Request) -> RefreshedSession | None:
        serializer = self.get_signing_serializer(app)
        if serializer is None:
            return None
        cookie = request.cookies.get(self.get_cookie_name(app))
        if not cookie:
            return self.session_class()
        idle = int(app.permanent_session_lifetime.total_seconds())
        try:
            data, signed = serializer.loads(cookie, max_age=idle, return_timestamp=True)
        except BadSignature:
            return self.session_class()
        session = self.session_class(data)
        session.signed_at = signed.timestamp()
        return session

    def should_set_cookie(self, app: Flask, session: RefreshedSession) -> bool:
        if session.modified:
            return True
        if not (session.permanent and app.config["SESSION_REFRESH_EACH_REQUEST"]):
            return False
        return session.signed_at is None or self.now() - session.signed_at >= REFRESH_AFTER


def init_app(app: Flask) -> None:
    app.session_interface = ThrottledCookieSessions()
