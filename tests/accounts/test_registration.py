"""Registration and phone verification as a new patient meets them, in English and Chinese."""

from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from app.accounts.models import CodeStatus, User
from app.database import utcnow
from app.notifications.models import OutboundSms, SmsStatus
from tests.accounts.pages import (
    EN,
    NOT_CREATED,
    NOT_CREATED_ZH,
    PASSWORD,
    WRONG_CODE,
    ZH,
    audit_rows,
    count_users,
    current_code,
    other_code,
    register_and_get_code,
    registration,
    run_worker,
    saved,
    six_digits,
    text,
)
from tests.factories import make_patient


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





def test_registration_without_a_form_token_creates_nothing(db, web, csrf_on):
    before = count_users(db)
    response = web.post("/accounts/register", registration(), headers=ZH)
    assert response.status_code == 303
    assert "表单已过期或无效，请重试。" in text(web.get(response.location, headers=ZH))
    assert count_users(db) == before


def test_every_bad_field_is_named_in_one_answer(db, web):
    """Name missing, email malformed, phone malformed, password too short, confirmation different:
    the patient reads all five reasons at once instead of fixing one field per try."""
    response = web.post("/accounts/register", registration(
        display_name="", email="not-an-email", phone="12345", password="Short-1x", confirm="Short-2x"))
    assert response.status_code == 200
    page = text(response)
    for message in ("This field is required.", "Enter a valid email address.",
                    "Enter a valid mobile number, e.g. 138 0013 8000.", "Use at least 10 characters.",
                    "The two passwords do not match."):
        assert message in page, message
    assert count_users(db) == 0


def test_the_account_rules_are_all_checked_even_when_the_form_itself_is_fine(db, web):
    response = web.post("/accounts/register", registration(
        phone="12345", password="password123", confirm="password123"), headers=ZH)
    page = text(response)
    assert "请输入有效的手机号，例如 138 0013 8000。" in page
    assert "该密码过于常见，请选择更难猜到的密码。" in page
    assert count_users(db) == 0


def test_a_taken_email_is_answered_neutrally_next_to_the_other_fields_reasons(db, web):
    saved(make_patient(email="taken@example.com"))
    page = text(web.post("/accounts/register", registration(
        email="Taken@Example.com", display_name="", password="password123", confirm="password123")))
    assert NOT_CREATED in page and "This field is required." in page
    assert "This password is too common." in page
    assert "already exists" not in page  # which field is taken is never said


def test_a_field_keeps_one_message_when_the_form_and_the_rules_both_object(db, web):
    page = text(web.post("/accounts/register", registration(password="", confirm="", email="", phone="")))
    assert page.count("This field is required.") == 2  # password and confirmation, once each
    assert "Use at least 10 characters." not in page
    assert page.count("Give an email address or a mobile number.") == 1


def test_after_verifying_the_patient_returns_to_the_step_that_asked_for_it(app, db, web, sms_sent):
    _, code = register_and_get_code(app, db, web, sms_sent)
    response = web.post("/accounts/verify-phone", {"code": code},
                        query_string={"next": "/patients/conditions"})
    assert response.status_code == 302 and urlsplit(response.location).path == "/patients/conditions"
    other = web.post("/accounts/verify-phone", {"code": code}, query_string={"next": "https://evil.example/"})
    assert "evil.example" not in other.location  # already verified: the account page, never elsewhere


def test_a_form_with_fields_missing_altogether_is_answered_not_broken(db, web):
    response = web.post("/accounts/register", {"display_name": "Li Wei", "phone": "x" * 40})
    assert response.status_code == 200
    page = text(response)
    assert page.count("This field is required.") == 2  # password and confirmation
    assert "Give an email address or a mobile number." not in page  # the phone has its own message
    assert count_users(db) == 0
