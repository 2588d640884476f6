"""Account pages as people meet them: register, verify, sign in and out, limits, CSRF, expiry, reset."""

import re
import time
from types import SimpleNamespace
from urllib.parse import unquote, urlsplit

import itsdangerous.timed
import limits.storage.memory
import pytest
from sqlalchemy import func, select

from app.accounts.models import CodeStatus, Role, User, VerificationCode
from app.audit.models import AuditEvent
from app.database import utcnow
from app.extensions import db as database
from app.notifications.models import OutboundSms, SmsStatus
from app.worker import run_once
from tests.factories import PASSWORD, make_patient, make_user

EN = {"Accept-Language": "en"}
ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}
NEW_PASSWORD = "Amber-Lantern-7395"
LOGIN_FAILED = "The email/mobile number or password is not correct."
WRONG_CODE = "The code is wrong or has expired. Request a new one if needed."
CSRF_EXPIRED = "This form has expired or was not valid. Please try again."
RESET_SENT = "If this account has a verified mobile number, we sent a code to it."
NOT_CREATED = ("An account cannot be created with these details. If you already have an account, "
               "sign in or reset your password.")
NOT_CREATED_ZH = "无法使用这些信息创建账号。如果您已有账号，请登录或重置密码。"


class Browser:
    """One request per app context, as on a server: the conftest client shares the test's, so `g`
    (Flask-Login's cached user, Flask-Babel's language) would leak from one request to the next."""

    def __init__(self, app):
        self.app, self.client = app, app.test_client()

    def open(self, method, url, *, follow=False, headers=None, **kwargs):
        with self.app.app_context():
            response = self.client.open(url, method=method, headers=headers, **kwargs)
        while follow and response.status_code in (302, 303):
            with self.app.app_context():
                response = self.client.get(response.location, headers=headers)
        return response

    def get(self, url, **kwargs):
        return self.open("GET", url, **kwargs)

    def post(self, url, data=None, **kwargs):
        return self.open("POST", url, data=data, **kwargs)

    def sign_in(self, identifier, password=PASSWORD, **kwargs):
        return self.post("/accounts/login", {"identifier": identifier, "password": password}, **kwargs)


@pytest.fixture
def web(app, db):
    return Browser(app)


@pytest.fixture
def csrf_on(app):
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        yield
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def text(response) -> str:
    return response.get_data(as_text=True)


def registration(**fields) -> dict:
    data = dict(display_name="Li Wei", email="li.wei@example.com", phone="138 0013 8000",
                password=PASSWORD, confirm=PASSWORD, locale="en")
    data.update(fields)
    return data


def saved(user):
    """Commit a factory-made user so the pages, each in its own session, can see it."""
    database.session.commit()
    return user


def signed_in(web, user):
    assert web.sign_in(saved(user).email).status_code == 302
    return user


def count_users(db) -> int:
    return db.session.scalar(select(func.count()).select_from(User))


def audit_rows(db, action: str) -> list[AuditEvent]:
    return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()


def run_worker(app) -> dict:
    with app.app_context():
        return run_once()


def six_digits(body: str) -> str:
    return re.search(r"(?<!\d)\d{6}(?!\d)", body).group()


def other_code(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def register_and_get_code(app, db, web, sms_sent):
    """Register through the form, let the worker send the SMS, return (user, code)."""
    assert web.post("/accounts/register", registration()).status_code == 302
    run_worker(app)
    user = db.session.scalar(select(User).where(User.email == "li.wei@example.com"))
    return user, six_digits(sms_sent[-1][1])


def current_code(db, user) -> VerificationCode:
    db.session.expire_all()
    return db.session.scalar(select(VerificationCode).where(VerificationCode.user_id == user.id)
                             .order_by(VerificationCode.id.desc()))



def test_registration_stores_e164_phone_and_sends_a_chinese_code_only_when_the_worker_runs(
        app, db, web, sms_sent):
    response = web.post("/accounts/register", registration(locale="zh"))
    assert response.status_code == 302 and response.location.endswith("/accounts/verify-phone")
    assert "欢迎！我们已向 +86138****8000 发送了 6 位验证码。" in text(web.get(response.location))

    user = db.session.scalar(select(User).where(User.email == "li.wei@example.com"))
    assert user.phone == "+8613800138000" and user.locale == "zh" and user.phone_verified_at is None
    assert user.password_hash.startswith("$argon2") and PASSWORD not in user.password_hash
    [registered] = audit_rows(db, "account.registered")
    assert registered.actor_id == registered.patient_id == user.id
    [queued] = db.session.scalars(select(OutboundSms).where(OutboundSms.user_id == user.id)).all()
    assert (queued.to_phone, queued.status) == ("+8613800138000", SmsStatus.QUEUED)
    assert "您的验证码为" in queued.body
    assert list(sms_sent) == []  # nothing leaves from the request itself

    run_worker(app)
    [(to_phone, body)] = list(sms_sent)
    assert to_phone == "+8613800138000" and "您的验证码为" in body
    code = six_digits(body)
    db.session.expire_all()
    assert queued.status == SmsStatus.SENT and code not in queued.body

    page = text(web.post("/accounts/verify-phone", {"code": code}, follow=True))
    assert "手机号验证成功。" in page
    db.session.expire_all()
    assert user.phone_verified_at is not None
    assert len(audit_rows(db, "phone.verified")) == 1


def test_wrong_code_is_refused_and_after_five_guesses_even_the_right_code_is(app, db, web, sms_sent):
    user, code = register_and_get_code(app, db, web, sms_sent)
    response = web.post("/accounts/verify-phone", {"code": other_code(code)})
    assert response.status_code == 200 and WRONG_CODE in text(response)
    assert current_code(db, user).attempts == 1

    for _ in range(4):
        assert WRONG_CODE in text(web.post("/accounts/verify-phone", {"code": other_code(code)}))
    refused = web.post("/accounts/verify-phone", {"code": code})
    assert refused.status_code == 200 and WRONG_CODE in text(refused)
    assert current_code(db, user).status == CodeStatus.EXPIRED
    assert user.phone_verified_at is None


def test_expired_code_is_refused_and_the_worker_marks_it_expired(app, db, web, sms_sent):
    user, code = register_and_get_code(app, db, web, sms_sent)
    row = current_code(db, user)
    row.expires_at = utcnow().replace(year=2000)
    db.session.commit()

    response = web.post("/accounts/verify-phone", {"code": code}, headers=ZH)
    assert WRONG_CODE in text(response)  # in English, the language the user chose, whatever the browser
    assert run_worker(app)["expire-verification-codes"] == 1
    assert current_code(db, user).status == CodeStatus.EXPIRED
    assert user.phone_verified_at is None


BAD_REGISTRATIONS = {
    "duplicate email": ({"email": "taken@example.com"}, {"email": "Taken@Example.com"},
                        NOT_CREATED, NOT_CREATED_ZH),
    "duplicate phone": ({"phone": "+8613800138000"}, {"phone": "+86 138-0013-8000"},
                        NOT_CREATED, NOT_CREATED_ZH),
    "short password": ({}, {"password": "Short-1x", "confirm": "Short-1x"},
                       "Use at least 10 characters.", "密码至少需要 10 个字符。"),
    "common password": ({}, {"password": "password123", "confirm": "password123"},
                        "This password is too common. Choose one that is harder to guess.",
                        "该密码过于常见，请选择更难猜到的密码。"),
    "phone in password": ({}, {"password": "13800138000-mine", "confirm": "13800138000-mine"},
                          "Do not use your email address or phone number in the password.",
                          "密码中请勿包含您的邮箱或手机号。"),
    "malformed phone": ({}, {"phone": "12345"}, "Enter a valid mobile number, e.g. 138 0013 8000.",
                        "请输入有效的手机号，例如 138 0013 8000。"),
    "mismatched confirmation": ({}, {"confirm": PASSWORD + "!"}, "The two passwords do not match.",
                                "两次输入的密码不一致。"),
    "neither email nor phone": ({}, {"email": "", "phone": ""},
                                "Give an email address or a mobile number.", "请填写邮箱或手机号。"),
}


@pytest.mark.parametrize("language", ["en", "zh"])
@pytest.mark.parametrize("case", BAD_REGISTRATIONS)
def test_bad_registration_shows_the_reason_in_the_users_language_and_creates_nothing(db, web, case, language):
    existing, fields, english, chinese = BAD_REGISTRATIONS[case]
    if existing:
        saved(make_patient(**existing))
    before = count_users(db)
    response = web.post("/accounts/register", registration(**fields), headers=ZH if language == "zh" else EN)
    assert response.status_code == 200
    page = text(response)
    assert (chinese if language == "zh" else english) in page
    assert (english if language == "zh" else chinese) not in page
    assert count_users(db) == before
    assert audit_rows(db, "account.registered") == []
    assert db.session.scalar(select(func.count()).select_from(OutboundSms)) == 0
    assert web.get("/accounts/profile").status_code == 302  # nobody was signed in



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



def csrf_token_in(page: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


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


def test_registration_without_a_form_token_creates_nothing(db, web, csrf_on):
    before = count_users(db)
    response = web.post("/accounts/register", registration(), headers=ZH)
    assert response.status_code == 303
    assert "表单已过期或无效，请重试。" in text(web.get(response.location, headers=ZH))
    assert count_users(db) == before


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


def reset_code_for(app, web, sms_sent, identifier: str) -> str:
    assert web.post("/accounts/forgot-password", {"identifier": identifier}).status_code == 302
    run_worker(app)
    [(_, body)] = [message for message in sms_sent if "password reset code" in message[1]]
    return six_digits(body)


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
