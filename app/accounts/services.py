"""Account verbs: register, authenticate, verify a phone, reset a password, create staff."""

import hashlib
import hmac
import secrets
from datetime import timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.accounts.models import (
    CodePurpose,
    CodeStatus,
    CourierProfile,
    DoctorProfile,
    PharmacistProfile,
    Role,
    User,
    VerificationCode,
)
from app.accounts.passwords import hash_password, password_problem, verify_password
from app.accounts.phones import InvalidPhone, to_e164
from app.accounts.states import MACHINE as CODE_MACHINE
from app.audit.services import record
from app.database import claim, utcnow
from app.errors import DomainError
from app.extensions import db
from app.notifications.services import queue_sms, redact_unsent
from app.text import clean_name

INVALID_CODE = _l("The code is wrong or has expired. Request a new one if needed.")
PHONE_NOT_VERIFIED = _l("Please verify your mobile number first: we send your codes and reminders to it.")
# Self-registration names neither field, so it cannot be used to learn who has an account or
# which phone belongs with which email.
ACCOUNT_NOT_CREATED = _l("An account cannot be created with these details. If you already have "
                         "an account, sign in or reset your password.")


def normalise_email(email: str | None) -> str | None:
    email = (email or "").strip().lower()
    return email or None


def parse_phone(raw: str | None, field: str = "phone") -> str | None:
    if not raw or not raw.strip():
        return None
    try:
        return to_e164(raw)
    except InvalidPhone:
        raise DomainError({field: _l("Enter a valid mobile number, e.g. 138 0013 8000.")}) from None


def _as_typed(identifier: str | None) -> str:
    """What was typed, for an audit row: printable characters only (PostgreSQL refuses NUL), short."""
    return "".join(char for char in (identifier or "").strip() if char.isprintable())[:100]


def find_by_login(identifier: str) -> User | None:
    """Find an account by email or phone, as typed on the login form."""
    identifier = (identifier or "").strip()
    # No stored email or phone is longer or holds a control character (PostgreSQL refuses NUL).
    if not identifier or len(identifier) > 254 or not identifier.isprintable():
        return None
    if "@" in identifier:
        return db.session.scalar(select(User).where(User.email == normalise_email(identifier)))
    try:
        phone = to_e164(identifier)
    except InvalidPhone:
        return None
    return db.session.scalar(select(User).where(User.phone == phone))


def _uniqueness_reasons(email: str | None, phone: str | None, *, neutral: bool) -> dict:
    reasons = {}
    if email and db.session.scalar(select(User.id).where(User.email == email)):
        reasons["email"] = _l("An account with this email address already exists.")
    if phone and db.session.scalar(select(User.id).where(User.phone == phone)):
        reasons["phone"] = _l("An account with this mobile number already exists.")
    if reasons and neutral:
        return {"": ACCOUNT_NOT_CREATED}
    return reasons


def _checked_account(email, phone, password, *, neutral: bool) -> tuple[str | None, str | None, dict]:
    """Normalise the email and phone and run every rule, so each field gets its reason at once."""
    reasons = {}
    email = normalise_email(email)
    try:
        phone = parse_phone(phone)
    except DomainError as error:
        reasons.update(error.reasons)
        phone = None
    if not email and not phone and "phone" not in reasons:
        reasons["email"] = _l("Give an email address or a mobile number.")
    problem = password_problem(password, personal=(email or "", phone or ""))
    if problem:
        reasons["password"] = problem
    for field, message in _uniqueness_reasons(email, phone, neutral=neutral).items():
        reasons.setdefault(field, message)
    return email, phone, reasons


def registration_problems(*, email, phone, password) -> dict:
    """What self-registration would refuse, by field, without writing anything (the page shows these
    next to the form's own messages, so a patient fixes every field in one go)."""
    return _checked_account(email, phone, password, neutral=True)[2]


def create_account(*, role, email, phone, password, display_name, locale, neutral=False) -> User:
    email, phone, reasons = _checked_account(email, phone, password, neutral=neutral)
    if reasons:
        raise DomainError(reasons)
    user = User(
        role=role,
        email=email,
        phone=phone,
        password_hash=hash_password(password),
        display_name=clean_name(display_name),
        locale=locale if locale in current_app.config["LANGUAGES"] else "en",
    )
    db.session.add(user)
    db.session.flush()
    return user


def register_patient(*, email, phone, password, display_name, locale) -> User:
    user = create_account(
        role=Role.PATIENT,
        email=email,
        phone=phone,
        password=password,
        display_name=display_name,
        locale=locale,
        neutral=True,
    )
    record("account.registered", obj=user, patient=user, actor=user)
    if user.phone:
        issue_code(user, CodePurpose.PHONE_VERIFICATION)
    return user


def create_staff(*, role, email, phone, password, display_name, locale, licence_number=None,
                 department=None, home_store=None) -> User:
    role = Role(role)
    if role == Role.PATIENT:
        raise DomainError({"role": _l("Patients register themselves.")})
    reasons = {}
    if role in (Role.DOCTOR, Role.PHARMACIST) and not (licence_number or "").strip():
        reasons["licence_number"] = _l("A licence number is required for this role.")
    if role == Role.DOCTOR and not (department or "").strip():
        reasons["department"] = _l("A department is required for a doctor.")
    if role == Role.PHARMACIST and home_store is None:
        reasons["home_store_id"] = _l("A pharmacist needs a home store.")
    if reasons:
        raise DomainError(reasons)
    licence_number = (licence_number or "").strip()
    for profile in (DoctorProfile, PharmacistProfile):
        if licence_number and db.session.scalar(
            select(profile.user_id).where(profile.licence_number == licence_number)
        ):
            raise DomainError({"licence_number": _l("This licence number is already registered.")})
    user = create_account(role=role, email=email, phone=phone, password=password,
                     display_name=display_name, locale=locale)
    if role == Role.DOCTOR:
        db.session.add(DoctorProfile(user=user, licence_number=licence_number,
                                     department=department.strip()))
    elif role == Role.PHARMACIST:
        db.session.add(PharmacistProfile(user=user, licence_number=licence_number,
                                         home_store_id=home_store.id))
    elif role == Role.COURIER:
        db.session.add(CourierProfile(user=user, home_store_id=getattr(home_store, "id", None)))
    db.session.flush()
    record("staff.created", obj=user, detail=f"role={role}")
    return user


def authenticate(identifier: str, password: str) -> User | None:
    """Return the user for a right password on an active account; audit either way."""
    user = find_by_login(identifier)
    ok = verify_password(user.password_hash if user else None, password)
    if not ok or user is None or not user.is_active:
        record("login.failed", obj=user, object_type="users",
               detail=f"identifier={_as_typed(identifier)}")
        return None
    user.last_login_at = utcnow()
    record("login.succeeded", obj=user, actor=user,
           patient=user if user.role == Role.PATIENT else None)
    return user


def _hash_code(code: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, code.encode(), hashlib.sha256).hexdigest()


def _live_codes(user: User, purpose: CodePurpose):
    """The user's active codes for `purpose`, newest first, locked so that two requests cannot
    both use one code or both count the same guess."""
    return db.session.scalars(
        select(VerificationCode)
        .where(VerificationCode.user_id == user.id, VerificationCode.purpose == purpose,
               VerificationCode.status == CodeStatus.ACTIVE)
        .order_by(VerificationCode.id.desc())
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()


def issue_code(user: User, purpose: CodePurpose) -> VerificationCode:
    """Replace any live code for this purpose with a new one and queue it by SMS."""
    for old in _live_codes(user, purpose):
        CODE_MACHINE.move(old, CodeStatus.EXPIRED)
    redact_unsent(user_id=user.id, purpose=str(purpose))  # the replaced code, if not sent yet, never leaves
    code = f"{secrets.randbelow(1_000_000):06d}"
    ttl = current_app.config["VERIFICATION_CODE_TTL_SECONDS"]
    row = VerificationCode(user_id=user.id, purpose=purpose, code_hash=_hash_code(code),
                           expires_at=utcnow() + timedelta(seconds=ttl))
    db.session.add(row)
    queue_sms(to_phone=user.phone, template=str(purpose), locale=user.locale, user=user,
              sensitive=True, code=code, minutes=ttl // 60)
    record("code.issued", obj=row, actor=user,
           patient=user if user.role == Role.PATIENT else None, detail=str(purpose))
    return row


def match_code(user: User, purpose: CodePurpose, code: str) -> VerificationCode:
    """Return the live code if `code` matches it, without using it up.

    Raises DomainError on a wrong, expired or exhausted code. A wrong guess is counted and
    flushed, and the caller commits it, so guesses are limited across requests; the fifth
    wrong guess expires the code.
    """
    live = _live_codes(user, purpose)
    row = live[0] if live else None
    max_attempts = current_app.config["VERIFICATION_CODE_MAX_ATTEMPTS"]
    if row is None or row.expires_at <= utcnow() or row.attempts >= max_attempts:
        raise DomainError({"code": INVALID_CODE})
    if not hmac.compare_digest(row.code_hash, _hash_code((code or "").strip())):
        row.attempts += 1
        if row.attempts >= max_attempts:
            CODE_MACHINE.move(row, CodeStatus.EXPIRED)
            redact_unsent(user_id=user.id, purpose=str(purpose))
        db.session.flush()
        raise DomainError({"code": INVALID_CODE})
    return row


def consume_code(row: VerificationCode) -> None:
    CODE_MACHINE.move(row, CodeStatus.CONSUMED)
    row.consumed_at = utcnow()
    db.session.flush()


def check_code(user: User, purpose: CodePurpose, code: str) -> None:
    """Use up the live code if `code` matches; DomainError (and a counted guess) otherwise."""
    consume_code(match_code(user, purpose, code))


def require_verified_phone(user: User) -> None:
    """Refuse a step that needs a verified mobile number (new conditions, booking, payment)."""
    if not user.has_verified_phone:
        raise DomainError(PHONE_NOT_VERIFIED)


def set_phone(user: User, raw: str | None) -> None:
    """Give an account without a verified number its mobile number, and send it a code.

    An email-only patient could otherwise never verify a phone, and so never book. A verified
    number is not replaced here: it is where the codes of a password reset go.
    """
    if user.has_verified_phone:
        raise DomainError({"phone": _l("Your mobile number is already verified.")})
    phone = parse_phone(raw)
    if not phone:
        raise DomainError({"phone": _l("Enter your mobile number.")})
    if phone != user.phone and db.session.scalar(select(User.id).where(User.phone == phone)):
        raise DomainError({"phone": _l("This mobile number cannot be used for your account.")})
    user.phone = phone
    user.phone_verified_at = None
    db.session.flush()
    record("phone.set", obj=user, patient=user if user.role == Role.PATIENT else None)
    issue_code(user, CodePurpose.PHONE_VERIFICATION)


def verify_phone(user: User, code: str) -> None:
    check_code(user, CodePurpose.PHONE_VERIFICATION, code)
    user.phone_verified_at = utcnow()
    record("phone.verified", obj=user, patient=user if user.role == Role.PATIENT else None)


def request_password_reset(identifier: str) -> None:
    """Send a reset code to the account's verified phone; silent when there is none."""
    user = find_by_login(identifier)
    if user is None or not user.is_active or not user.phone or not user.phone_verified_at:
        record("password_reset.requested_unknown",
               detail=f"identifier={_as_typed(identifier)}")
        return
    issue_code(user, CodePurpose.PASSWORD_RESET)
    record("password_reset.requested", obj=user, actor=user,
           patient=user if user.role == Role.PATIENT else None)


def reset_password(identifier: str, code: str, new_password: str) -> User:
    """The code is checked before anything else, so without it an unknown account, a known one
    and a phone typed for an email all get the same answer; the password rules (which know the
    account's email and phone) speak only to someone holding the code."""
    user = find_by_login(identifier)
    if user is None or not user.is_active:
        raise DomainError({"code": INVALID_CODE})
    row = match_code(user, CodePurpose.PASSWORD_RESET, code)
    problem = password_problem(new_password, personal=(user.email or "", user.phone or ""))
    if problem:
        raise DomainError({"password": problem})  # the code stays usable for a better password
    consume_code(row)
    user.password_hash = hash_password(new_password)
    end_sessions(user)
    record("password.reset", obj=user, actor=user,
           patient=user if user.role == Role.PATIENT else None)
    return user


def end_sessions(user: User) -> None:
    """Sign the user out everywhere: every session cookie carries the version it was issued
    under (see User.get_id), and the user loader refuses any other."""
    user.auth_version += 1
    db.session.flush()


def sign_out(user: User) -> None:
    """Sign-out ends every session of the user, so a copied cookie is worthless afterwards."""
    end_sessions(user)
    record("logout", obj=user, actor=user, patient=user if user.role == Role.PATIENT else None)


def set_language(user: User, locale: str) -> None:
    user.locale = locale
    db.session.flush()


def set_active(user: User, active: bool) -> None:
    user.is_active = active
    end_sessions(user)  # a deactivated user is signed out everywhere at once
    record("account.activated" if active else "account.deactivated", obj=user,
           patient=user if user.role == Role.PATIENT else None)


def verify_doctor(user: User) -> None:
    if user.doctor_profile is None:
        raise DomainError(_l("Only a doctor's licence can be verified."))
    user.doctor_profile.is_verified = True
    user.doctor_profile.verified_at = utcnow()
    record("doctor.verified", obj=user)


def expire_codes(limit: int) -> int:
    """Worker job: mark codes past their expiry so they can never be used."""
    statement = (
        select(VerificationCode)
        .where(VerificationCode.status == CodeStatus.ACTIVE, VerificationCode.expires_at <= utcnow())
        .order_by(VerificationCode.id)
        .limit(limit)
    )
    rows = db.session.scalars(claim(statement, db.engine.dialect.name)).all()
    for row in rows:
        CODE_MACHINE.move(row, CodeStatus.EXPIRED)
        redact_unsent(user_id=row.user_id, purpose=str(row.purpose))  # a dead code never leaves
    db.session.flush()
    return len(rows)
