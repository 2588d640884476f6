"""What the account tests share: a browser per person, the messages users read, small helpers."""

import re

from sqlalchemy import func, select

from app.accounts.models import User, VerificationCode
from app.audit.models import AuditEvent
from app.extensions import db as database
from app.worker import run_once
from tests.factories import PASSWORD

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


def csrf_token_in(page: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


def reset_code_for(app, web, sms_sent, identifier: str) -> str:
    assert web.post("/accounts/forgot-password", {"identifier": identifier}).status_code == 302
    run_worker(app)
    [(_, body)] = [message for message in sms_sent if "password reset code" in message[1]]
    return six_digits(body)
