"""Security findings 1, 3, 4 and 6 of the review, tried the way an attacker would."""

import os
import re
import subprocess
import sys
import uuid
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

import config
from app.accounts import auth
from app.accounts.models import Role, User
from app.database import utcnow
from app.notifications.models import OutboundSms
from app.prescribing.models import Prescription
from app.prescribing.states import PrescriptionStatus
from tests.accounts.pages import (
    NEW_PASSWORD,
    NOT_CREATED,
    WRONG_CODE,
    Browser,
    registration,
    reset_code_for,
    saved,
    signed_in,
    text,
)
from tests.consultations.conftest import flow  # noqa: F401  (fixture)
from tests.factories import PASSWORD, make_patient, make_user
from tests.payments.conftest import deliver, stripe_client  # noqa: F401  (fixtures)
from tests.prescribing.conftest import catalogue_drugs, draft, item, visit  # noqa: F401  (fixtures)

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PHONE = "+8613800138000"


@pytest.fixture
def web(app, db):
    return Browser(app)


def lands_on(response) -> str:
    return urlsplit(response.location).path


# --- finding 1: open redirect --------------------------------------------------------------------

HOSTILE_NEXT = [
    "////evil.example",
    "///evil.example",
    "//evil.example/steal",
    "/\\evil.example",
    "/\\/evil.example",
    "\\\\evil.example",
    "\\/evil.example",
    "http://evil.example/",
    "HTTPS://evil.example",
    "https:evil.example",
    "//evil.example@example.test",
    "%2F%2Fevil.example",
    "/%2F%2Fevil.example",
    "/%2f/evil.example",
    "%252F%252Fevil.example",
    "/%5Cevil.example",
    "/%5C%5Cevil.example",
    "/%09/evil.example",
    "/\t/evil.example",
    " //evil.example",
    "/%0d%0aSet-Cookie:x=1",
    "/\r\nSet-Cookie: x=1",
    "/%00evil.example",
    "/\u202e/evil.example",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "evil.example",
    "/" + "a" * 5000,
]


def assert_stays_home(response) -> None:
    assert response.status_code in (302, 303), response.status_code
    assert "evil" not in response.location.lower()
    assert "Set-Cookie" not in response.location and "\n" not in response.location
    assert not any("x=1" in cookie for cookie in response.headers.getlist("Set-Cookie"))
    parts = urlsplit(response.location)
    assert parts.netloc in ("", "localhost") and parts.path == "/"


@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_finding_1_sign_in_never_follows_next_off_the_site(db, web, target):
    user = saved(make_patient())
    response = web.post("/accounts/login", {"identifier": user.email, "password": PASSWORD},
                        query_string={"next": target})
    assert_stays_home(response)
    assert web.get("/accounts/profile").status_code == 200  # signed in all the same


@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_finding_1_switching_language_never_follows_next_off_the_site(db, web, target):
    assert_stays_home(web.post("/language", {"language": "zh", "next": target}))


@pytest.mark.parametrize("target", ["/accounts/profile", "/prescriptions/?page=2", "/drugs/?q=%E9%98%BF",
                                    "/consultations/3#messages"])
def test_finding_1_a_path_on_this_site_is_still_followed(db, web, target):
    user = saved(make_patient())
    signed = web.post("/accounts/login", {"identifier": user.email, "password": PASSWORD},
                      query_string={"next": target})
    assert signed.location == target
    assert web.post("/language", {"language": "en", "next": target}).location == target


# --- finding 3: signing out ends the session -----------------------------------------------------


def saved_cookie(browser) -> str:
    return browser.client.get_cookie("session").value


def replayed(app, cookie: str) -> Browser:
    """Another browser presenting a copy of a saved session cookie."""
    thief = Browser(app)
    thief.client.set_cookie("session", cookie)
    return thief


def assert_anonymous(response) -> None:
    assert response.status_code == 302 and lands_on(response) == "/accounts/login"


def test_finding_3_a_cookie_saved_before_signing_out_is_worthless_after_it(app, db, web):
    user = signed_in(web, make_patient())
    cookie = saved_cookie(web)
    assert user.display_name in text(replayed(app, cookie).get("/accounts/profile"))  # the copy works...
    assert web.post("/accounts/logout").status_code == 302
    assert_anonymous(replayed(app, cookie).get("/accounts/profile"))  # ...until the user signs out
    assert_anonymous(web.get("/accounts/profile"))
    assert web.sign_in(user.email).status_code == 302  # signing in again works


def test_finding_3_signing_in_sets_no_long_lived_remember_cookie(db, web):
    response = web.sign_in(saved(make_patient()).email)
    assert not [c for c in response.headers.getlist("Set-Cookie") if c.startswith("remember_token=")]


def test_finding_3_a_saved_cookie_is_worthless_after_a_password_change(app, db, web, sms_sent):
    user = signed_in(web, make_patient(phone=PHONE))
    cookie = saved_cookie(web)
    phone = Browser(app)
    code = reset_code_for(app, phone, sms_sent, user.email)
    changed = phone.post("/accounts/reset-password", {"identifier": user.email, "code": code,
                                                      "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert changed.status_code == 302
    assert_anonymous(replayed(app, cookie).get("/accounts/profile"))


def test_finding_3_a_saved_cookie_is_worthless_after_deactivation(app, db, web):
    user = signed_in(web, make_user(Role.DOCTOR))
    cookie = saved_cookie(web)
    admin_browser = Browser(app)
    signed_in(admin_browser, make_user(Role.ADMIN))
    assert admin_browser.post(f"/admin/users/{user.id}/active").status_code == 302
    assert_anonymous(replayed(app, cookie).get("/accounts/profile"))
    # Reactivation does not bring the old session back either.
    assert admin_browser.post(f"/admin/users/{user.id}/active").status_code == 302
    assert_anonymous(replayed(app, cookie).get("/accounts/profile"))


def test_finding_3_a_session_ends_12_hours_after_signing_in_however_active_it_is(app, db, web, monkeypatch):
    assert app.config["SESSION_ABSOLUTE_HOURS"] == 12
    user = signed_in(web, make_patient())
    signed_in_at = utcnow()

    def hours_later(hours: float):  # the clock the session check reads
        monkeypatch.setattr(auth, "utcnow", lambda: signed_in_at + timedelta(hours=hours))

    for hours in (1, 6, 11.5):  # in use all day: each visit well inside the 30 idle minutes
        hours_later(hours)
        assert web.get("/accounts/profile").status_code == 200
    hours_later(12 - 1 / 60)
    assert web.get("/accounts/profile").status_code == 200
    hours_later(12 + 1 / 60)
    expired = web.get("/accounts/profile")
    assert_anonymous(expired)
    assert "your session has expired" in text(web.get(expired.location))

    assert web.sign_in(user.email).status_code == 302  # a new sign-in starts a new 12 hours
    hours_later(23)
    assert web.get("/accounts/profile").status_code == 200


# --- finding 4: limits per account, per address, per doctor; shared between processes -------------


def from_address(n: int) -> dict:
    return {"environ_base": {"REMOTE_ADDR": f"198.51.100.{n}"}}


def sms_queued(db, purpose: str) -> int:
    return db.session.scalar(select(func.count()).select_from(OutboundSms)
                             .where(OutboundSms.purpose == purpose))


@pytest.mark.parametrize("who", ["an account", "no account"])
def test_finding_4_reset_codes_are_limited_per_account_whatever_the_address(db, web, who):
    if who == "an account":
        saved(make_patient(email="pat@example.test", phone=PHONE))
        typed = ["138 0013 8000", "+86 138-0013-8000", "pat@example.test", "PAT@example.test", "13800138000"]
    else:
        typed = ["nobody@example.test"] * 5
    for n, identifier in enumerate(typed):  # five addresses: the per-address limit never trips
        answer = web.post("/accounts/forgot-password", {"identifier": identifier}, **from_address(n))
        assert answer.status_code == 302
    blocked = web.post("/accounts/forgot-password", {"identifier": typed[0]}, **from_address(99))
    assert blocked.status_code == 429 and "Too many attempts" in text(blocked)
    assert sms_queued(db, "password_reset") == (5 if who == "an account" else 0)


def test_finding_4_reset_codes_and_new_verification_codes_share_one_budget_per_account(app, db, web):
    user = signed_in(web, make_patient(phone=PHONE, phone_verified_at=None))
    elsewhere = Browser(app)
    for n in range(4):
        assert elsewhere.post("/accounts/forgot-password", {"identifier": user.email},
                              **from_address(n)).status_code == 302
    assert web.post("/accounts/verify-phone/resend").status_code == 302
    assert web.post("/accounts/verify-phone/resend").status_code == 429
    assert sms_queued(db, "phone_verification") == 1


def test_finding_4_registration_is_limited_per_address(db, web):
    for n in range(10):
        page = web.post("/accounts/register", registration(email=f"p{n}@example.com", phone="",
                                                           password="short", confirm="short"),
                        **from_address(1))
        assert page.status_code == 200
    assert web.post("/accounts/register", registration(phone=""), **from_address(1)).status_code == 429
    assert db.session.scalar(select(User).where(User.email == "li.wei@example.com")) is None
    assert web.post("/accounts/register", registration(phone=""), **from_address(2)).status_code == 302


def test_finding_4_signing_attempts_are_limited_per_doctor_whatever_the_address(app, db, visit, draft):  # noqa: F811
    item(draft, visit.doctor, visit.drugs)
    db.session.commit()
    doctor = Browser(app)
    assert doctor.sign_in(visit.doctor.email).status_code == 302
    for n in range(10):
        refused = doctor.post(f"/prescriptions/{draft.id}/sign", {"password": f"Guess-{n}-x"},
                              **from_address(n))
        assert refused.status_code == 400
    blocked = doctor.post(f"/prescriptions/{draft.id}/sign", {"password": PASSWORD}, **from_address(50))
    assert blocked.status_code == 429
    db.session.expire_all()
    assert db.session.get(Prescription, draft.id).status == PrescriptionStatus.DRAFT


# Two separate processes, as two gunicorn workers are: each builds the production app with its own
# limiter, and both keep their counters in the Redis at REDIS_URL.
WORKER = """
import sys
from app import create_app
from app.extensions import db

app = create_app("production", {"WTF_CSRF_ENABLED": False, "RATELIMIT_KEY_PREFIX": sys.argv[1]})
with app.app_context():
    db.create_all()
client = app.test_client()
for _ in range(int(sys.argv[2])):
    with app.app_context():
        response = client.post("/accounts/login", data={"identifier": "guess@example.test",
                                                       "password": "Not-The-Password-1"})
    print(response.status_code)
"""


def run_worker(env: dict, prefix: str, attempts: int) -> list[int]:
    result = subprocess.run([sys.executable, "-c", WORKER, prefix, str(attempts)],  # noqa: S603
                            cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120,
                            check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    return [int(line) for line in result.stdout.split()]


def test_finding_4_two_workers_share_the_sign_in_limit_through_redis(tmp_path):
    redis_url = config.DEFAULT_REDIS_URL
    if not config.redis_answers(redis_url):
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI must provide Redis at {redis_url}")
        pytest.skip(f"no Redis answers at {redis_url}")
    env = {k: v for k, v in os.environ.items() if k not in ("RATELIMIT_STORAGE_URI", "APP_CONFIG")} | {
        "SECRET_KEY": "k7Qx2pL9vR4mZ8tW1nB6yH3cF5jD0sGa-two-workers", "REDIS_URL": redis_url,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'workers.sqlite3'}",
        "STRIPE_SECRET_KEY": "sk_live_example", "STRIPE_PUBLISHABLE_KEY": "pk_live_example",
        "STRIPE_WEBHOOK_SECRET": "whsec_example"}
    prefix = f"test-{uuid.uuid4().hex}"  # counters of this test only, whoever else uses the Redis
    try:
        assert run_worker(env, prefix, 10) == [200] * 10  # the first worker takes ten guesses
        assert run_worker(env, prefix, 1) == [429]  # the second one knows
    finally:
        import redis

        client = redis.Redis.from_url(redis_url)
        keys = list(client.scan_iter(match=f"*{prefix}*"))
        if keys:
            client.delete(*keys)
        client.close()


# --- finding 6: no answer tells whether an account exists ----------------------------------------


def page_without(response, *typed: str) -> str:
    """The page minus what the user typed and the per-request form token."""
    page = text(response)
    for value in typed:
        page = page.replace(value, "")
    return re.sub(r'name="csrf_token" value="[^"]*"', "", page)


@pytest.mark.parametrize("password", [
    "13800138000-mine",  # names the phone: the rules would link it to the email typed
    "pat@example.test!",  # names the email
    "short",
    NEW_PASSWORD,
])
@pytest.mark.parametrize("code_requested", [True, False])
def test_finding_6_reset_password_answers_the_same_for_an_account_and_for_nobody(
        app, db, web, sms_sent, password, code_requested):
    user = saved(make_patient(email="pat@example.test", phone=PHONE))
    if code_requested:
        reset_code_for(app, Browser(app), sms_sent, user.email)
    answers = {}
    for identifier in ("pat@example.test", "nobody@example.test", "138 0013 8000", "139 0013 9000"):
        response = Browser(app).post("/accounts/reset-password", {
            "identifier": identifier, "code": "000000", "password": password, "confirm": password})
        answers[identifier] = (response.status_code, page_without(response, identifier, password))
    assert len(set(answers.values())) == 1, "the answer differs between an account and nobody"
    [(status, page)] = set(answers.values())
    assert status == 200 and WRONG_CODE in page
    assert "Do not use your email" not in page and "at least 10 characters" not in page
    db.session.expire_all()
    assert user.password_hash == db.session.get(User, user.id).password_hash


def test_finding_6_with_the_right_code_the_password_rules_speak_and_the_code_stays_usable(
        app, db, web, sms_sent):
    user = saved(make_patient(email="pat@example.test", phone=PHONE))
    code = reset_code_for(app, web, sms_sent, user.email)
    weak_password = "13800138000-mine"
    weak = web.post("/accounts/reset-password", {"identifier": user.email, "code": code,
                                                 "password": weak_password, "confirm": weak_password})
    assert weak.status_code == 200
    assert "Do not use your email address or phone number in the password." in text(weak)
    done = web.post("/accounts/reset-password", {"identifier": user.email, "code": code,
                                                 "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert done.status_code == 302 and lands_on(done) == "/accounts/login"
    assert web.sign_in(user.email, NEW_PASSWORD).status_code == 302


def test_finding_6_registration_does_not_say_which_detail_belongs_to_an_account(db, web):
    saved(make_patient(email="taken@example.com", phone=PHONE))
    tries = {
        "email taken": registration(email="taken@example.com", phone="139 0013 9000"),
        "phone taken": registration(email="free@example.com", phone="138 0013 8000"),
        "both taken": registration(email="taken@example.com", phone="138 0013 8000"),
    }
    before = db.session.scalar(select(func.count()).select_from(User))
    answers = set()
    for fields in tries.values():
        response = web.post("/accounts/register", fields)
        page = page_without(response, fields["email"], fields["phone"])
        assert response.status_code == 200 and NOT_CREATED in page
        assert "already exists" not in page and "已注册" not in page
        answers.add((response.status_code, page))
    assert len(answers) == 1
    assert db.session.scalar(select(func.count()).select_from(User)) == before
    assert web.get("/accounts/profile").status_code == 302  # nobody was signed in


@pytest.mark.parametrize("typed", ["pat@example.test\x00", "\x00", "a" * 100_000, "١٣٨٠٠١٣٨٠٠٠", "pat\r\n@x"])
@pytest.mark.parametrize("page", ["/accounts/login", "/accounts/forgot-password", "/accounts/reset-password"])
def test_hostile_identifiers_are_answered_like_any_unknown_account(db, web, typed, page):
    response = web.post(page, {"identifier": typed, "password": "Not-The-Password-1", "code": "000000",
                               "confirm": "Not-The-Password-1"})
    assert response.status_code in (200, 302), response.status_code
