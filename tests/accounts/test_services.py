"""Account verbs on their own: registration rules, sign-in, one-time codes, password reset, expiry."""

import re
from datetime import timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from app.accounts import services as accounts
from app.accounts.models import CodePurpose, CodeStatus, Role, User, VerificationCode
from app.accounts.passwords import password_problem, verify_password
from app.accounts.states import MACHINE as CODE_MACHINE
from app.audit.models import AuditEvent
from app.database import utcnow
from app.errors import DomainError, InvalidTransition
from app.notifications.models import OutboundSms, SmsStatus
from app.notifications.services import REDACTED, send_due_sms
from app.worker import run_once
from tests.factories import PASSWORD, make_patient, make_user

NEW_PASSWORD = "Amber-Lantern-7395"
PHONE = "+8613800138000"
WRONG_CODE = "The code is wrong or has expired. Request a new one if needed."
NOT_CREATED = ("An account cannot be created with these details. If you already have an account, "
               "sign in or reset your password.")


@pytest.fixture(autouse=True)
def web_request(app, db):
    """The verbs run inside a request, as the views call them (messages need a language)."""
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        yield


def register(**fields) -> User:
    values = dict(email="li.wei@example.com", phone="138 0013 8000", password=PASSWORD,
                  display_name="Li Wei", locale="en")
    values.update(fields)
    return accounts.register_patient(**values)


def actions(db, **where) -> list[str]:
    rows = db.session.scalars(select(AuditEvent).filter_by(**where).order_by(AuditEvent.id))
    return [row.action for row in rows]


def count(db, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def queued_code(db, user, purpose=CodePurpose.PHONE_VERIFICATION) -> str:
    body = db.session.scalars(select(OutboundSms.body).where(
        OutboundSms.user_id == user.id, OutboundSms.purpose == str(purpose)
    ).order_by(OutboundSms.id.desc())).first()
    return re.search(r"(?<!\d)\d{6}(?!\d)", body).group()


def live_code(db, user, purpose=CodePurpose.PHONE_VERIFICATION) -> VerificationCode:
    return db.session.scalars(select(VerificationCode).where(
        VerificationCode.user_id == user.id, VerificationCode.purpose == purpose
    ).order_by(VerificationCode.id.desc())).first()


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def reasons_of(excinfo) -> dict[str, str]:
    return {field: str(message) for field, message in excinfo.value.reasons.items()}


# --- registration -----------------------------------------------------------------------------


def test_registration_keeps_the_phone_in_e164_and_only_an_argon2_hash_of_the_password(db, sms_sent):
    user = register(email=" Li.Wei@Example.COM ", display_name="  Li Wei ", locale="fr")
    assert (user.email, user.phone, user.display_name) == ("li.wei@example.com", PHONE, "Li Wei")
    assert user.role == Role.PATIENT and user.locale == "en"  # an unsupported language falls back
    assert user.password_hash.startswith("$argon2id$") and PASSWORD not in user.password_hash
    assert verify_password(user.password_hash, PASSWORD)
    assert not verify_password(user.password_hash, NEW_PASSWORD)
    assert actions(db, patient_id=user.id) == ["account.registered", "code.issued"]

    code = live_code(db, user)
    assert code.status == CodeStatus.ACTIVE and code.attempts == 0
    assert timedelta(minutes=9) < code.expires_at - utcnow() <= timedelta(minutes=10)
    assert queued_code(db, user) not in code.code_hash  # only a keyed hash is stored
    [message] = db.session.scalars(select(OutboundSms)).all()
    assert (message.to_phone, message.status, message.is_sensitive) == (PHONE, SmsStatus.QUEUED, True)
    assert "your verification code is" in message.body and "expires in 10 minutes" in message.body
    assert list(sms_sent) == []


def test_registration_with_email_only_sends_no_code(db):
    user = register(phone="")
    assert user.phone is None
    assert count(db, VerificationCode) == count(db, OutboundSms) == 0


def test_verification_sms_is_written_in_the_patients_language(db):
    register(locale="zh")
    body = db.session.scalar(select(OutboundSms.body))
    assert body.startswith("【互联网医院】您的验证码为 ") and "10 分钟内有效" in body


@pytest.mark.parametrize(("existing", "fields", "field", "message"), [
    ({"email": "li.wei@example.com"}, {"email": "LI.WEI@example.com "}, "", NOT_CREATED),
    ({"phone": PHONE}, {"phone": "+86 138-0013-8000"}, "", NOT_CREATED),
    ({}, {"phone": "12345"}, "phone", "Enter a valid mobile number, e.g. 138 0013 8000."),
    ({}, {"email": " ", "phone": ""}, "email", "Give an email address or a mobile number."),
    ({}, {"password": "password123"}, "password",
     "This password is too common. Choose one that is harder to guess."),
    ({}, {"password": "call-13800138000"}, "password",
     "Do not use your email address or phone number in the password."),
])
def test_refused_registration_names_the_field_and_stores_nothing(db, sms_sent, existing, fields, field,
                                                                 message):
    if existing:
        make_patient(**existing)
    users = count(db, User)
    with pytest.raises(DomainError) as excinfo:
        register(**fields)
    assert reasons_of(excinfo) == {field: message}
    assert count(db, User) == users
    assert count(db, OutboundSms) == 0 and actions(db, action="account.registered") == []


def test_refusal_reasons_come_in_chinese_for_a_chinese_user(db):
    make_patient(phone=PHONE)
    with force_locale("zh"), pytest.raises(DomainError) as duplicate:
        register(email="other@example.com")
    with force_locale("zh"):
        assert reasons_of(duplicate) == {"": "无法使用这些信息创建账号。如果您已有账号，请登录或重置密码。"}
        assert password_problem("short") == "密码至少需要 10 个字符。"


PERSONAL = ("li.wei@example.com", PHONE)


@pytest.mark.parametrize(("password", "problem"), [
    ("Short-1x", "Use at least 10 characters."),
    ("x" * 129, "Use at most 128 characters."),
    ("PASSWORD123", "This password is too common. Choose one that is harder to guess."),
    ("1234567890", "This password is too common. Choose one that is harder to guess."),
    ("abcdefghijk", "This password is too common. Choose one that is harder to guess."),
    ("zzzzzzzzzzzz", "This password is too common. Choose one that is harder to guess."),
    ("13800138000!!", "Do not use your email address or phone number in the password."),
    ("my+8613800138000", "Do not use your email address or phone number in the password."),
    ("Li.Wei@Example.com!", "Do not use your email address or phone number in the password."),
    ("Quiet-Harbour-4821", None),
    ("x" * 3 + "-River-2024", None),
])
def test_password_rules_users_see(password, problem):
    assert password_problem(password, personal=PERSONAL) == problem


# --- signing in -------------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["138 0013 8000", "+86 13800138000", " PAT@example.com "])
def test_right_password_signs_in_by_email_or_phone_and_is_audited(db, typed):
    user = make_patient(email="pat@example.com", phone=PHONE)
    assert accounts.authenticate(typed, PASSWORD) is user
    assert user.last_login_at is not None
    [row] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "login.succeeded")).all()
    assert (row.actor_id, row.patient_id) == (user.id, user.id)


@pytest.mark.parametrize("case", ["wrong password", "unknown account", "inactive account", "not a phone"])
def test_failed_sign_in_returns_nobody_and_is_audited_without_an_actor(db, case):
    user = make_patient(email="pat@example.com", is_active=case != "inactive account")
    identifier, password = {
        "wrong password": ("pat@example.com", NEW_PASSWORD),
        "unknown account": ("nobody@example.com", PASSWORD),
        "inactive account": ("pat@example.com", PASSWORD),
        "not a phone": ("12345", PASSWORD),
    }[case]
    assert accounts.authenticate(identifier, password) is None
    assert user.last_login_at is None
    [row] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "login.failed")).all()
    assert row.actor_id is None and row.detail == f"identifier={identifier}"
    assert actions(db, action="login.succeeded") == []


def test_staff_sign_in_is_not_filed_under_a_patient(db):
    doctor = make_user(Role.DOCTOR)
    assert accounts.authenticate(doctor.email, PASSWORD) is doctor
    [row] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "login.succeeded")).all()
    assert (row.actor_id, row.actor_role, row.patient_id) == (doctor.id, "doctor", None)


# --- one-time codes ---------------------------------------------------------------------------


def test_right_code_verifies_the_phone_once(db):
    user = register()
    code = queued_code(db, user)
    accounts.verify_phone(user, f" {code} ")
    assert user.phone_verified_at is not None
    row = live_code(db, user)
    assert row.status == CodeStatus.CONSUMED and row.consumed_at is not None
    assert "phone.verified" in actions(db, patient_id=user.id)
    with pytest.raises(DomainError):
        accounts.check_code(user, CodePurpose.PHONE_VERIFICATION, code)


def test_five_wrong_guesses_use_up_the_code(db):
    user = register()
    code = queued_code(db, user)
    for attempt in range(1, 6):
        with pytest.raises(DomainError) as excinfo:
            accounts.verify_phone(user, wrong(code))
        assert reasons_of(excinfo) == {"code": WRONG_CODE}
        assert live_code(db, user).attempts == attempt
    assert live_code(db, user).status == CodeStatus.EXPIRED
    with pytest.raises(DomainError):
        accounts.verify_phone(user, code)
    assert user.phone_verified_at is None


def test_expired_code_is_refused_without_counting_an_attempt(db):
    user = register()
    code = queued_code(db, user)
    live_code(db, user).expires_at = utcnow() - timedelta(seconds=1)
    with pytest.raises(DomainError):
        accounts.verify_phone(user, code)
    assert live_code(db, user).attempts == 0 and user.phone_verified_at is None


def test_a_new_code_replaces_the_old_one(db):
    user = register()
    first = queued_code(db, user)
    accounts.issue_code(user, CodePurpose.PHONE_VERIFICATION)
    second = queued_code(db, user)
    statuses = db.session.scalars(select(VerificationCode.status).order_by(VerificationCode.id)).all()
    assert statuses == [CodeStatus.EXPIRED, CodeStatus.ACTIVE]
    if first != second:
        with pytest.raises(DomainError):
            accounts.verify_phone(user, first)
    accounts.verify_phone(user, second)
    assert user.phone_verified_at is not None


def test_phone_code_cannot_reset_the_password(db):
    user = register()
    code = queued_code(db, user)
    with pytest.raises(DomainError) as excinfo:
        accounts.reset_password(user.email, code, NEW_PASSWORD)
    assert set(excinfo.value.reasons) == {"code"}
    assert verify_password(user.password_hash, PASSWORD)


def test_expiry_job_marks_only_codes_past_their_time(db):
    stale, fresh = register(), register(email="fresh@example.com", phone="150 1234 5678")
    live_code(db, stale).expires_at = utcnow() - timedelta(minutes=1)
    db.session.flush()
    assert accounts.expire_codes(50) == 1
    assert live_code(db, stale).status == CodeStatus.EXPIRED
    assert live_code(db, fresh).status == CodeStatus.ACTIVE
    assert accounts.expire_codes(50) == 0


# --- the outbox -------------------------------------------------------------------------------


def test_queued_code_is_sent_once_by_the_worker_and_then_blanked(db, sms_sent):
    user = register()
    code = queued_code(db, user)
    assert send_due_sms(50) == 1
    assert list(sms_sent) == [(PHONE, f"Internet Hospital: your verification code is {code}. "
                                      "It expires in 10 minutes. Never share it. Reply STOP to opt out.")]
    message = db.session.scalar(select(OutboundSms))
    assert message.status == SmsStatus.SENT and message.body == REDACTED and message.sent_at
    assert send_due_sms(50) == 0 and len(sms_sent) == 1


def test_worker_run_sends_sms_and_expires_codes_in_one_sweep(app, db, sms_sent):
    user = register()
    live_code(db, user).expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    with app.app_context():  # the worker runs outside any request, with its own session
        handled = run_once()
    # Other features add their own jobs; these two are the ones this sweep had work for.
    assert {name: handled[name] for name in ("send-sms", "expire-verification-codes")} == {
        "send-sms": 1, "expire-verification-codes": 1}
    db.session.expire_all()
    assert live_code(db, user).status == CodeStatus.EXPIRED and len(sms_sent) == 1


# --- password reset ---------------------------------------------------------------------------


@pytest.mark.parametrize(("who", "sent"), [
    ("verified", 1), ("unknown", 0), ("unverified", 0), ("inactive", 0), ("email only", 0)])
def test_reset_code_goes_only_to_a_verified_phone_of_an_active_account(db, who, sent):
    if who != "unknown":
        make_patient(email="pat@example.com", phone=None if who == "email only" else PHONE,
                     phone_verified_at=None if who == "unverified" else utcnow(),
                     is_active=who != "inactive")
    accounts.request_password_reset("pat@example.com")
    queued = db.session.scalars(select(OutboundSms).where(OutboundSms.purpose == "password_reset")).all()
    assert len(queued) == sent
    expected = "password_reset.requested" if sent else "password_reset.requested_unknown"
    assert expected in actions(db)
    if sent:
        assert queued[0].to_phone == PHONE and "password reset code" in queued[0].body


def test_reset_with_the_right_code_changes_the_password_and_ends_other_sessions(db):
    user = make_patient(phone=PHONE)
    session_id = user.get_id()
    accounts.request_password_reset("138 0013 8000")
    accounts.reset_password("13800138000", queued_code(db, user, CodePurpose.PASSWORD_RESET), NEW_PASSWORD)
    assert verify_password(user.password_hash, NEW_PASSWORD)
    assert not verify_password(user.password_hash, PASSWORD)
    assert user.get_id() != session_id and user.auth_version == 2
    assert "password.reset" in actions(db, patient_id=user.id)
    assert accounts.authenticate(user.email, PASSWORD) is None
    assert accounts.authenticate(user.email, NEW_PASSWORD) is user


def test_reset_with_a_wrong_code_or_weak_password_changes_nothing(db):
    user = make_patient(phone=PHONE)
    accounts.request_password_reset(user.email)
    code = queued_code(db, user, CodePurpose.PASSWORD_RESET)
    with pytest.raises(DomainError) as weak:
        accounts.reset_password(user.email, code, "password123")
    assert set(weak.value.reasons) == {"password"}
    with pytest.raises(DomainError) as bad_code:
        accounts.reset_password(user.email, wrong(code), NEW_PASSWORD)
    assert set(bad_code.value.reasons) == {"code"}
    with pytest.raises(DomainError):
        accounts.reset_password("nobody@example.com", code, NEW_PASSWORD)
    assert verify_password(user.password_hash, PASSWORD) and user.auth_version == 1
    assert live_code(db, user, CodePurpose.PASSWORD_RESET).attempts == 1  # only the wrong code counted


def test_deactivating_an_account_signs_it_out_everywhere(db):
    user = make_patient()
    session_id = user.get_id()
    accounts.set_active(user, False)
    assert user.get_id() != session_id
    assert "account.deactivated" in actions(db, patient_id=user.id)
    assert accounts.authenticate(user.email, PASSWORD) is None


def test_rule_messages_work_outside_a_request_for_commands_and_jobs(app):
    with app.app_context():
        assert password_problem("short") == "Use at least 10 characters."


def test_a_verification_code_moves_only_along_its_state_table(db):
    user = make_patient(phone=PHONE, phone_verified_at=None)
    row = accounts.issue_code(user, CodePurpose.PHONE_VERIFICATION)
    accounts.verify_phone(user, queued_code(db, user))
    assert row.status == CodeStatus.CONSUMED and row.consumed_at is not None
    for target in (CodeStatus.ACTIVE, CodeStatus.EXPIRED, CodeStatus.CONSUMED):
        with pytest.raises(InvalidTransition) as refused:
            CODE_MACHINE.move(row, target)
        assert str(refused.value) == WRONG_CODE
    with pytest.raises(DomainError):  # used once, never again
        accounts.check_code(user, CodePurpose.PHONE_VERIFICATION, queued_code(db, user))
    assert CODE_MACHINE.terminal() == {CodeStatus.CONSUMED, CodeStatus.EXPIRED}
