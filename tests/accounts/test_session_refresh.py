"""The session cookie is sent again only when the session changed or its cookie is a minute old, and an
idle session still ends after PERMANENT_SESSION_LIFETIME."""

import time

import pytest
from itsdangerous.timed import TimestampSigner

from app.accounts.models import Role
from app.sessions import REFRESH_AFTER, ThrottledCookieSessions


def _session_cookies(response) -> list[str]:
    return [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]


@pytest.fixture
def clock(monkeypatch):
    """Cookies are signed at a fixed second; `later(seconds)` sets the session interface's clock that
    many seconds after it (the signature counts whole seconds, so a real clock would blur the edge)."""
    signed = int(time.time())
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: signed)

    def later(seconds: int) -> None:
        monkeypatch.setattr(ThrottledCookieSessions, "now", staticmethod(lambda: signed + seconds))

    return later


def _signed_in(client, login_as) -> None:
    """Signed in, and a first page seen (it stores the session's CSRF token: a change, sent at once)."""
    login_as(Role.PATIENT)
    assert _session_cookies(client.get("/accounts/profile"))


def test_pages_within_a_minute_send_no_new_cookie(client, login_as):
    _signed_in(client, login_as)
    response = client.get("/accounts/profile")
    assert response.status_code == 200
    assert _session_cookies(response) == []
    assert "Cookie" in response.headers.get("Vary", "")  # the page depends on the session


@pytest.mark.parametrize(("seconds", "sent"), [(REFRESH_AFTER - 1, False), (REFRESH_AFTER, True),
                                               (REFRESH_AFTER + 1, True)])
def test_the_cookie_is_refreshed_once_it_is_a_minute_old(client, login_as, clock, seconds, sent):
    _signed_in(client, login_as)
    clock(seconds)
    response = client.get("/accounts/profile")
    assert response.status_code == 200
    cookies = _session_cookies(response)
    assert bool(cookies) is sent
    if sent:  # the refreshed cookie still holds the sign-in and stays HttpOnly
        assert "httponly" in cookies[0].lower()
        assert client.get("/accounts/profile").status_code == 200


def test_a_changed_session_is_sent_at_once(client, login_as):
    login_as(Role.PATIENT)
    response = client.post("/language", data={"language": "zh", "next": "/accounts/profile"})
    assert response.status_code in (302, 303)
    assert _session_cookies(response)
    assert '<html lang="zh-Hans-CN">' in client.get("/accounts/profile").get_data(as_text=True)


@pytest.mark.parametrize(("idle", "signed_in"), [(-1, True), (1, False)])
def test_an_idle_session_ends_after_the_lifetime(app, client, login_as, monkeypatch, idle, signed_in):
    login_as(Role.PATIENT)
    lifetime = int(app.permanent_session_lifetime.total_seconds())
    real = TimestampSigner.get_timestamp
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: real(self) + lifetime + idle)
    response = client.get("/accounts/profile")
    assert (response.status_code == 200) is signed_in
    if not signed_in:
        assert "/accounts/login" in response.headers["Location"]
