"""Security headers, session cookies, and pages free of inline script, inline style and CDN assets."""

import re
from html.parser import HTMLParser

import pytest
from sqlalchemy import select

from app import create_app
from app.accounts.models import Role
from app.audit.models import AuditEvent
from tests import factories
from tests.consultations.conftest import Flow

EXTERNAL_URL = re.compile(r"^\s*(https?:)?//", re.IGNORECASE)
ANONYMOUS_PAGES = [
    "/",
    "/accounts/login",
    "/accounts/register",
    "/accounts/forgot-password",
    "/accounts/reset-password?identifier=someone%40example.test",
    "/no-such-page",
]
ADMIN_PAGES = ["/admin/", "/admin/users", "/admin/users?role=doctor&q=test", "/admin/users/new",
               "/admin/stores", "/audit/"]


class PageAudit(HTMLParser):
    """Collects what a strict Content-Security-Policy would block, plus every asset URL."""

    def __init__(self):
        super().__init__()
        self.problems: list[str] = []
        self.scripts: list[str] = []
        self.stylesheets: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        for name, value in attrs:
            if name == "style":
                self.problems.append(f"<{tag}> has a style= attribute")
            if name.startswith("on"):
                self.problems.append(f"<{tag}> has an inline {name}= handler")
            if name in ("href", "src", "action") and (value or "").strip().lower().startswith("javascript:"):
                self.problems.append(f"<{tag}> has a javascript: URL")
        if tag == "style":
            self.problems.append("<style> element in the page")
        if tag == "script":
            self._in_script = True
            src = values.get("src") or ""
            if not src:
                self.problems.append("<script> without src (inline script)")
            else:
                self.scripts.append(src)
                if EXTERNAL_URL.match(src):
                    self.problems.append(f"<script> loads {src} from another site")
        if tag == "link":
            href = values.get("href") or ""
            if "stylesheet" in (values.get("rel") or "").lower():
                self.stylesheets.append(href)
            if EXTERNAL_URL.match(href):
                self.problems.append(f"<link> loads {href} from another site")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.problems.append(f"inline script body: {data.strip()[:60]!r}")


def audit(html: str) -> PageAudit:
    parser = PageAudit()
    parser.feed(html)
    parser.close()
    return parser


def test_pages_carry_a_strict_content_security_policy(client):
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    directives = {part.split()[0]: part.split()[1:] for part in csp.split(";") if part.strip()}
    assert directives["script-src"] == ["'self'"]
    assert directives["style-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert "unsafe-inline" not in csp
    assert "unsafe-eval" not in csp


@pytest.mark.parametrize("path", ["/", "/accounts/login", "/no-such-page", "/healthz"])
def test_every_response_forbids_framing_and_content_sniffing(client, path):
    headers = client.get(path).headers
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] in ("same-origin", "no-referrer", "strict-origin-when-cross-origin")
    assert "Content-Security-Policy" in headers


def test_html_pages_with_patient_data_are_never_cached(client, login_as):
    login_as(Role.PATIENT)
    for path in ("/", "/accounts/profile", "/no-such-page"):
        response = client.get(path)
        assert response.mimetype == "text/html"
        assert "no-store" in response.headers["Cache-Control"], path


def test_session_cookie_is_http_only_and_same_site_lax(client, db):
    user = factories.make_patient()
    db.session.commit()
    response = client.post("/accounts/login",
                           data={"identifier": user.login_name, "password": factories.PASSWORD})
    assert response.status_code == 302
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert cookies, "signing in set no session cookie"
    attributes = [a.strip().lower() for a in cookies[-1].split(";")[1:]]
    assert "httponly" in attributes
    assert "samesite=lax" in attributes


@pytest.fixture
def production_app(monkeypatch, tmp_path):
    monkeypatch.setenv("SECRET_KEY", "a-real-secret-for-this-test-only-3f9a")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'production.sqlite3'}")
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    monkeypatch.delenv("RATELIMIT_STORAGE_URI", raising=False)
    for name, value in {"STRIPE_SECRET_KEY": "sk_live_example", "STRIPE_PUBLISHABLE_KEY": "pk_live_example",
                        "STRIPE_WEBHOOK_SECRET": "whsec_example"}.items():
        monkeypatch.setenv(name, value)
    # The limiter object is shared by every app in this process: once the production checks have
    # passed, keep it off Redis.
    return create_app("production", {"RATELIMIT_STORAGE_URI": "memory://"})


def test_production_session_cookie_is_only_sent_over_https(production_app):
    response = production_app.test_client().get("/accounts/login")
    assert response.status_code == 200
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert cookies, "the sign-in page set no session cookie (CSRF token)"
    attributes = [a.strip().lower() for a in cookies[-1].split(";")[1:]]
    assert {"secure", "httponly", "samesite=lax"} <= set(attributes)
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def _check_pages(client, paths, language: str) -> list[str]:
    problems = []
    html_lang = {"en": '<html lang="en">', "zh": '<html lang="zh-Hans-CN">'}[language]
    for path in paths:
        response = client.get(path)
        if response.status_code not in (200, 404) or response.mimetype != "text/html":
            problems.append(f"{path}: status {response.status_code} {response.mimetype}")
            continue
        html = response.get_data(as_text=True)
        if html_lang not in html:
            problems.append(f"{path}: not rendered in {language}")
        page = audit(html)
        problems += [f"{path}: {problem}" for problem in page.problems]
        if not page.scripts or not page.stylesheets:
            problems.append(f"{path}: no script or stylesheet found; the page layout is missing")
    return problems


@pytest.mark.parametrize("language", ["en", "zh"])
def test_anonymous_pages_have_no_inline_script_or_style_and_no_cdn(client, language):
    client.post("/language", data={"language": language})
    problems = _check_pages(client, ANONYMOUS_PAGES, language)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("language", ["en", "zh"])
@pytest.mark.parametrize("role", list(Role), ids=str)
def test_signed_in_pages_have_no_inline_script_or_style_and_no_cdn(client, db, login_as, role, language):
    paths = ["/", "/accounts/profile"]
    if role == Role.ADMIN:
        patient = factories.make_patient()
        doctor = factories.make_user(Role.DOCTOR)
        pharmacist = factories.make_user(Role.PHARMACIST)  # brings a store for the stores page
        db.session.commit()
        paths += ADMIN_PAGES + [f"/admin/users/{u.id}" for u in (patient, doctor, pharmacist)]
    login_as(role, locale=language)
    problems = _check_pages(client, paths, language)
    assert not problems, "\n".join(problems)


def test_a_user_with_an_unverified_phone_sees_a_clean_verification_page(client, login_as):
    login_as(Role.PATIENT, phone_verified_at=None)
    response = client.get("/accounts/verify-phone")
    assert response.status_code == 200
    page = audit(response.get_data(as_text=True))
    assert not page.problems, "\n".join(page.problems)


def test_bootstrap_and_app_assets_are_served_by_the_app_itself(client):
    page = audit(client.get("/").get_data(as_text=True))
    assert any("bootstrap" in href for href in page.stylesheets), page.stylesheets
    assert any("bootstrap" in src for src in page.scripts), page.scripts
    for url, kind in [(h, "css") for h in page.stylesheets] + [(s, "javascript") for s in page.scripts]:
        assert not EXTERNAL_URL.match(url), url
        response = client.get(url)
        assert response.status_code == 200, url
        assert kind in response.mimetype, (url, response.mimetype)
        assert response.get_data(), url
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        response.close()


# --- JSON is never cached either ------------------------------------------------------------------


def test_json_with_a_patients_messages_is_never_cached(app, db, client, login_as):
    consultation = Flow(None, None).book(reason="Night sweats since Tuesday.")
    login_as(consultation.patient)
    response = client.get(f"/consultations/{consultation.id}/messages")
    assert response.status_code == 200 and response.is_json
    assert "no-store" in response.headers["Cache-Control"]


@pytest.mark.parametrize("path", ["/healthz", "/consultations/1/messages"])
def test_every_json_response_is_never_cached(client, path):
    response = client.get(path, headers={"Accept": "application/json"})
    assert response.is_json, (path, response.status_code, response.mimetype)
    assert "no-store" in response.headers["Cache-Control"], path


# --- the client's address behind trusted proxies ----------------------------------------------------


@pytest.fixture
def behind_proxies(app, database_url, db):
    """An app like the test one, with `count` trusted reverse proxies in front of it."""

    def build(count: int):
        return create_app("testing", {
            "SQLALCHEMY_DATABASE_URI": database_url, "TRUSTED_PROXY_COUNT": count,
            "UPLOAD_FOLDER": app.config["UPLOAD_FOLDER"], "STRIPE_API_BASE": app.config["STRIPE_API_BASE"],
        })

    return build


def _failed_sign_in_address(db, application, identifier: str, forwarded_for: str) -> str | None:
    with application.app_context():
        response = application.test_client().post(
            "/accounts/login", data={"identifier": identifier, "password": "Not-The-Password-1"},
            headers={"X-Forwarded-For": forwarded_for})
    assert response.status_code == 200
    row = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "login.failed")
                             .order_by(AuditEvent.id.desc())).first()
    assert row.detail == f"identifier={identifier}"
    return row.ip


def test_finding_4_behind_one_trusted_proxy_the_audit_row_records_the_client_address(db, behind_proxies):
    application = behind_proxies(1)
    assert _failed_sign_in_address(db, application, "a@example.test", "203.0.113.7") == "203.0.113.7"
    # Only the address our proxy appended counts; one the client wrote itself in front does not.
    assert _failed_sign_in_address(db, application, "b@example.test", "6.6.6.6, 203.0.113.8") == "203.0.113.8"


def test_finding_4_without_trusted_proxies_a_forwarded_for_header_is_not_believed(app, db, behind_proxies):
    assert app.config["TRUSTED_PROXY_COUNT"] == 0
    assert _failed_sign_in_address(db, app, "a@example.test", "203.0.113.7") == "127.0.0.1"
    assert _failed_sign_in_address(db, behind_proxies(0), "b@example.test", "203.0.113.7") == "127.0.0.1"


def test_finding_4_behind_a_trusted_proxy_each_client_has_its_own_sign_in_limit(db, behind_proxies):
    application = behind_proxies(1)
    client = application.test_client()

    def sign_in(n: int, address: str) -> int:
        with application.app_context():
            return client.post("/accounts/login", data={"identifier": f"user{n}@example.test",
                                                        "password": "Not-The-Password-1"},
                               headers={"X-Forwarded-For": address}).status_code

    assert [sign_in(n, "203.0.113.7") for n in range(10)] == [200] * 10
    assert sign_in(10, "203.0.113.7") == 429
    assert sign_in(11, "198.51.100.4") == 200  # another client behind the same proxy is not held up
