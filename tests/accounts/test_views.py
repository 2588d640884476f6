"""Signing in and out, limits, form tokens, idle sessions, password reset and the account page."""

import re
import time
from types import SimpleNamespace
from urllib.parse import unquote, urlsplit

import itsdangerous.timed
import limits.storage.memory
import pytest
from sqlalchemy import select

from app.accounts.models import Role
from app.database import utcnow
from app.notifications.models import OutboundSms
from tests.accounts.pages import (
    CSRF_EXPIRED,
    LOGIN_FAILED,
    NEW_PASSWORD,
    RESET_SENT,
    WRONG_CODE,
    ZH,
    Browser,
    audit_rows,
    csrf_token_in,
    other_code,
    reset_code_for,
    saved,
    signed_in,
    text,
)
from tests.factories import PASSWORD, make_patient, make_user


@pytest.mark.parametrize("typed", ["138 0013 8000", "+86 138-0013-8000", "13800138000", "PAT@Example.test"])
def test_patient_signs_in_by_email_or_by_phone_typed_any_way(db, web, typed):
    user = saved(make_patient(email="pat@example.test", phone="+8613800138000"))
    response = web.sign_in(typed)
    assert response.status_code == 302 and urlsplit(response.location).path == "/"
    assert user.display_name in text(web.get("/accounts/profile"))
    [row] = audit_rows(db, "login.succeeded")
    assert row.actor_id == row.patient_id == user.id


def page_without(response, typed: str) -> str:
    """The page minus what the user typed and the per-second form token."""
    return re.sub(r'name="csrf_token" value="[^"]*"', "", text(response).replace(typed, ""))


def test_wrong_password_and_unknown_account_get_the_same_answer(db, web):
    user = saved(make_patient(email="pat@example.test"))
    wrong = web.sign_in("pat@example.test", "Not-The-Password-1")
    unknown = web.sign_in("nobody@example.test", "Not-The-Password-1")
    assert wrong.status_code == unknown.status_code == 200
    assert LOGIN_FAILED in text(wrong)
    assert page_without(wrong, "pat@example.test") == page_without(unknown, "nobody@example.test")
    failed = sorted(audit_rows(db, "login.failed"), key=lambda row: row.id)
    assert [(r.actor_id, r.object_id) for r in failed] == [(None, str(user.id)), (None, None)]
    assert audit_rows(db, "login.succeeded") == []
    assert "邮箱/手机号或密码不正确。" in text(web.sign_in("pat@example.test", "Wrong-1234", headers=ZH))


def test_deactivated_account_cannot_sign_in_even_with_the_right_password(db, web):
    user = saved(make_patient(is_active=False))
    response = web.sign_in(user.email)
    assert response.status_code == 200 and LOGIN_FAILED in text(response)
    assert web.get("/accounts/profile").status_code == 302
    assert audit_rows(db, "login.succeeded") == []
    assert len(audit_rows(db, "login.failed")) == 1


@pytest.mark.parametrize(("next_page", "lands_on"), [
    ("/accounts/profile", "/accounts/profile"),
    ("https://evil.example/", "/"),
    ("//evil.example/steal", "/"),
    ("/\\evil.example", "/"),
])
def test_after_sign_in_only_pages_of_this_site_are_followed(db, web, next_page, lands_on):
    user = saved(make_patient())
    response = web.post("/accounts/login", {"identifier": user.email, "password": PASSWORD},
                        query_string={"next": next_page})
    assert response.status_code == 302
    assert "evil.example" not in response.location
    assert urlsplit(response.location).path == lands_on



def test_eleventh_sign_in_within_a_minute_is_refused_until_the_minute_has_passed(db, web, monkeypatch):
    user = saved(make_patient())
    for _ in range(10):
        assert web.sign_in(user.email, "Not-The-Password-1").status_code == 200
    blocked = web.sign_in(user.email)
    assert blocked.status_code == 429
    assert "Too many attempts" in text(blocked) and "You have tried too many times." in text(blocked)
    blocked_zh = web.sign_in(user.email, headers=ZH)
    assert blocked_zh.status_code == 429 and "尝试次数过多" in text(blocked_zh)
    assert web.get("/accounts/profile").status_code == 302
    assert audit_rows(db, "login.succeeded") == []

    real_time = time.time
    monkeypatch.setattr(limits.storage.memory, "time", SimpleNamespace(time=lambda: real_time() + 61))
    assert web.sign_in(user.email).status_code == 302
    assert web.get("/accounts/profile").status_code == 200



@pytest.mark.parametrize("token", ["tampered", "missing"])
def test_sign_in_with_a_bad_form_token_signs_nobody_in_and_asks_to_try_again(db, web, csrf_on, token):
    user = saved(make_patient())
    good = csrf_token_in(text(web.get("/accounts/login")))
    data = {"identifier": user.email, "password": PASSWORD}
    if token == "tampered":
        data["csrf_token"] = good + "x"
    response = web.post("/accounts/login", data)
    assert response.status_code == 303
    assert CSRF_EXPIRED in text(web.get(response.location))
    assert web.get("/accounts/profile").status_code == 302
    assert audit_rows(db, "login.succeeded") == []

    data["csrf_token"] = csrf_token_in(text(web.get("/accounts/login")))
    assert web.post("/accounts/login", data).status_code == 302  # a fresh form works


def test_session_idle_for_over_30_minutes_expires_and_asks_to_sign_in_again(db, web, monkeypatch):
    signed_in(web, make_patient())
    real_time = time.time

    def later(minutes):  # the clock that signs and checks the session cookie
        clock = SimpleNamespace(time=lambda: real_time() + 60 * minutes)
        monkeypatch.setattr(itsdangerous.timed, "time", clock)

    later(29)
    assert web.get("/accounts/profile").status_code == 200  # each visit renews the 30-minute session
    later(29 + 31)
    response = web.get("/accounts/profile")
    assert response.status_code == 302
    assert urlsplit(response.location).path == "/accounts/login"
    assert "next=/accounts/profile" in unquote(response.location)
    assert ("Please sign in to open this page. If you were signed in, your session has expired."
            in text(web.get(response.location)))



@pytest.mark.parametrize(("who", "sms_expected"), [
    ("verified", 1), ("unknown", 0), ("unverified", 0), ("inactive", 0)])
def test_forgot_password_sends_a_code_only_to_a_verified_phone_but_always_says_the_same(
        db, web, who, sms_expected):
    if who != "unknown":
        saved(make_patient(phone="+8613800138000", is_active=who != "inactive",
                           phone_verified_at=None if who == "unverified" else utcnow()))
    response = web.post("/accounts/forgot-password", {"identifier": "138 0013 8000"})
    assert response.status_code == 302
    assert urlsplit(response.location).path == "/accounts/reset-password"
    assert RESET_SENT in text(web.get(response.location))
    queued = db.session.scalars(select(OutboundSms).where(OutboundSms.purpose == "password_reset")).all()
    assert len(queued) == sms_expected


def test_password_reset_changes_the_password_and_signs_out_other_sessions(app, db, web, sms_sent):
    user = signed_in(web, make_patient(phone="+8613800138000"))
    assert web.get("/accounts/profile").status_code == 200

    phone = Browser(app)
    code = reset_code_for(app, phone, sms_sent, "138 0013 8000")
    response = phone.post("/accounts/reset-password", {"identifier": "138 0013 8000", "code": code,
                                                       "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302 and urlsplit(response.location).path == "/accounts/login"
    assert "Your password has been changed. Please sign in." in text(phone.get(response.location))

    assert web.get("/accounts/profile").status_code == 302  # the old session has ended
    assert LOGIN_FAILED in text(web.sign_in(user.email, PASSWORD))
    assert web.sign_in(user.email, NEW_PASSWORD).status_code == 302


def test_password_reset_with_a_wrong_code_changes_nothing(app, db, web, sms_sent):
    user = saved(make_patient(phone="+8613800138000"))
    code = reset_code_for(app, web, sms_sent, user.email)
    response = web.post("/accounts/reset-password", {"identifier": user.email, "code": other_code(code),
                                                     "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 200 and WRONG_CODE in text(response)
    assert LOGIN_FAILED in text(web.sign_in(user.email, NEW_PASSWORD))
    assert web.sign_in(user.email, PASSWORD).status_code == 302



def test_signing_out_ends_the_session(db, web):
    user = signed_in(web, make_patient())
    assert web.get("/accounts/profile").status_code == 200
    response = web.post("/accounts/logout")
    assert response.status_code == 302 and urlsplit(response.location).path == "/accounts/login"
    assert "You have signed out." in text(web.get(response.location))
    assert urlsplit(web.get("/accounts/profile").location).path == "/accounts/login"
    assert [row.actor_id for row in audit_rows(db, "logout")] == [user.id]


def test_opening_my_profile_is_audited_under_my_patient_record(db, web):
    user = signed_in(web, make_patient(phone="+8613800138000"))
    page = text(web.get("/accounts/profile"))
    assert user.display_name in page and "+86138****8000" in page
    [row] = audit_rows(db, "account.viewed")
    assert (row.actor_id, row.patient_id, row.object_id) == (user.id, user.id, str(user.id))


def test_staff_profile_view_is_audited_without_a_patient(db, web):
    doctor = signed_in(web, make_user(Role.DOCTOR))
    assert web.get("/accounts/profile").status_code == 200
    [row] = audit_rows(db, "account.viewed")
    assert (row.actor_id, row.actor_role, row.patient_id) == (doctor.id, "doctor", None)
