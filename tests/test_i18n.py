"""Every message has a Chinese translation, and each visitor sees the language they chose."""

import os
import re
from collections import Counter
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from sqlalchemy import select

from app.accounts.models import Role, User
from app.drugs.models import Drug
from app.extensions import db as _db
from tests import factories, latin_text
from tests.consultations.conftest import flow  # noqa: F401  (fixture)
from tests.payments.conftest import deliver, stripe_client  # noqa: F401  (fixtures)
from tests.test_fuzz_routes import ANONYMOUS, PLAN, world  # noqa: F401  (fixture)
from tests.test_fuzz_routes import _path as fuzz_path

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "translations" / "zh" / "LC_MESSAGES" / "messages.po"
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None, "lazy_ngettext": (1, 2)}
PLACEHOLDER = re.compile(r"%(?:\((\w+)\))?[#0\- +]*\d*(?:\.\d+)?([diouxXeEfFgGcrs])")


def _walk_filter(path: str) -> bool:
    # Babel's default filter also skips "_"-prefixed folders, which would lose templates/_macros.
    return not os.path.basename(path).startswith(".") and os.path.basename(path) != "__pycache__"


def extracted_messages() -> list[tuple[str, int, str | tuple, str | None]]:
    with open(ROOT / "babel.cfg", encoding="utf-8") as config:
        method_map, options_map = parse_mapping_cfg(config, "babel.cfg")
    found = extract_from_dir(str(ROOT), method_map, options_map, keywords=KEYWORDS,
                             directory_filter=_walk_filter)
    return [(filename, lineno, message, context) for filename, lineno, message, _, context in found]


def catalogue():
    with open(CATALOGUE, "rb") as po:
        return read_po(po, locale="zh")


def placeholders(text: str) -> Counter:
    return Counter(PLACEHOLDER.findall(text.replace("%%", "")))


@pytest.fixture(scope="module")
def messages():
    found = extracted_messages()
    files = {filename for filename, *_ in found}
    # Guard against the extraction silently missing whole parts of the project.
    assert any(name.startswith("templates/_macros/") for name in files), sorted(files)
    assert any(name.startswith("templates/sms/") for name in files), sorted(files)
    assert any(name.startswith("app/") for name in files), sorted(files)
    return found


def test_every_message_in_templates_and_code_has_a_chinese_translation(messages):
    translations = catalogue()
    problems = []
    for filename, lineno, message, context in messages:
        msgid = message[0] if isinstance(message, tuple) else message
        entry = translations.get(msgid, context=context)
        strings = entry.string if entry is not None and isinstance(entry.string, tuple) else (
            (entry.string,) if entry is not None else ())
        if entry is None:
            problems.append(f"missing  {filename}:{lineno}  {msgid!r}")
        elif entry.fuzzy:
            problems.append(f"fuzzy    {filename}:{lineno}  {msgid!r}")
        elif not all(strings):
            problems.append(f"empty    {filename}:{lineno}  {msgid!r}")
    assert not problems, "Untranslated messages:\n" + "\n".join(sorted(set(problems)))


def test_translations_keep_the_same_placeholders(messages):
    translations = catalogue()
    problems = []
    for entry in translations:
        if not entry.id or not entry.string:
            continue
        ids = entry.id if isinstance(entry.id, tuple) else (entry.id,)
        strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        expected = placeholders(ids[-1])
        for string in strings:
            if string and placeholders(string) != expected:
                problems.append(f"{ids[0]!r} -> {string!r}")
    assert not problems, "Placeholders differ:\n" + "\n".join(problems)


class Visitor:
    """A browser whose every request gets an app context of its own, as in production.

    The test's requests otherwise share the fixture's app context, whose flask.g keeps
    Flask-Babel's chosen locale (and Flask-Login's user) from one request to the next.
    """

    def __init__(self, app):
        self.app, self.client = app, app.test_client()

    def get(self, url: str, language: str = "en", **kwargs):
        with self.app.app_context():
            return self.client.get(url, headers={"Accept-Language": language}, **kwargs)

    def post(self, url: str, language: str = "en", **kwargs):
        with self.app.app_context():
            return self.client.post(url, headers={"Accept-Language": language}, **kwargs)

    def page(self, url: str, language: str = "en") -> str:
        response = self.get(url, language)
        assert response.status_code == 200, response.status_code
        return response.get_data(as_text=True)

    def sign_in(self, role: str, **fields) -> User:
        user = factories.make_user(role, **fields)
        _db.session.commit()
        response = self.post("/accounts/login",
                             data={"identifier": user.login_name, "password": factories.PASSWORD})
        assert response.status_code == 302, response.get_data(as_text=True)
        return user


@pytest.fixture
def visitor(app, db):
    return Visitor(app)


def _saved_locale(db, user_id: int) -> str:
    db.session.expire_all()
    return db.session.get(User, user_id).locale


def test_a_chinese_browser_gets_the_login_page_in_chinese(visitor):
    page = visitor.page("/accounts/login", "zh-CN,zh;q=0.9,en;q=0.5")
    assert "登录" in page
    assert "Sign in" not in page
    assert '<html lang="zh-Hans-CN">' in page


@pytest.mark.parametrize("language", ["en-GB,en;q=0.9", "fr-FR", ""])
def test_other_browsers_get_the_login_page_in_english(visitor, language):
    page = visitor.page("/accounts/login", language)
    assert "Sign in" in page
    assert "登录" not in page
    assert '<html lang="en">' in page


def test_a_signed_in_users_saved_language_wins_over_the_browser(visitor):
    visitor.sign_in("patient", locale="zh")
    page = visitor.page("/accounts/profile", "en-US,en;q=0.9")
    assert "我的账号" in page
    assert "My account" not in page


def test_a_signed_in_english_user_gets_english_in_a_chinese_browser(visitor):
    visitor.sign_in("patient", locale="en")
    page = visitor.page("/accounts/profile", "zh-CN")
    assert "My account" in page
    assert "我的账号" not in page


def test_an_anonymous_visitor_can_switch_to_chinese_and_back(visitor):
    response = visitor.post("/language", data={"language": "zh", "next": "/accounts/login"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/accounts/login"
    assert "登录" in visitor.page("/accounts/login", "en")
    visitor.post("/language", data={"language": "en", "next": "/accounts/login"})
    assert "Sign in" in visitor.page("/accounts/login", "zh-CN")


def test_switching_language_when_signed_in_is_saved_on_the_account(visitor, db):
    user = visitor.sign_in("patient", locale="en")
    visitor.post("/language", data={"language": "zh", "next": "/accounts/profile"})
    assert _saved_locale(db, user.id) == "zh"
    assert "我的账号" in visitor.page("/accounts/profile", "en")
    # Signing out keeps the chosen language for the sign-in page.
    visitor.post("/accounts/logout")
    assert "登录" in visitor.page("/accounts/login", "en")


def test_an_unknown_language_is_ignored(visitor, db):
    visitor.post("/language", data={"language": "zh", "next": "/"})
    response = visitor.post("/language", data={"language": "fr", "next": "/accounts/login"})
    assert response.status_code == 303
    assert "登录" in visitor.page("/accounts/login", "en")  # still the earlier choice

    user = visitor.sign_in("patient", locale="en")
    visitor.post("/language", data={"language": "klingon"})
    assert _saved_locale(db, user.id) == "en"
    assert "My account" in visitor.page("/accounts/profile", "en")


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/accounts/register?step=2", "/accounts/register?step=2"),
        ("https://evil.example/phish", "/"),
        ("//evil.example/phish", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("accounts/login", "/"),
        ("", "/"),
    ],
)
def test_the_language_switch_only_returns_to_pages_on_this_site(visitor, target, expected):
    response = visitor.post("/language", data={"language": "zh", "next": target})
    assert response.status_code == 303
    assert response.headers["Location"] == expected


# ---- every page in Chinese ----------------------------------------------------------------------

# Rules whose answer is not a page: files, JSON, CSV and the health check.
NOT_PAGES = {"static", "bootstrap.static", "main.healthz"}
ROLES = [str(role) for role in Role]


def _page_plan(area: str) -> list[tuple[str, str, list[str]]]:
    """(endpoint, rule, roles that may open it) of every GET rule of one blueprint in the URL map (the
    route sweep's plan); a rule open to anyone is read signed out and as every role: the pages differ."""
    return [(route["endpoint"], route["rule"],
             [ANONYMOUS, *ROLES] if route["roles"] == [ANONYMOUS] else route["roles"])
            for route in PLAN if route["method"] == "GET" and route["endpoint"] not in NOT_PAGES
            and route["endpoint"].split(".")[0] == area]


AREAS = sorted({route["endpoint"].split(".")[0] for route in PLAN if route["method"] == "GET"
                and route["endpoint"] not in NOT_PAGES})


@pytest.fixture
def chinese_world(db, world):  # noqa: F811  (the imported fixture)
    """The route sweep's world (tests/fuzz_world.py), its users reading Chinese and what they typed
    typed in Chinese, as a Chinese patient and staff would: English left on a page is then the app's."""
    for user in (*world.users.values(), world.bystander, world.unverified_doctor):
        user.locale = "zh"
    world.consultation.reason = "早上血糖偏高。"
    for condition in (world.condition, world.pending_condition):
        condition.hospital = "上海市第一人民医院"
    world.allergy.reaction = "皮疹"
    address = world.address
    address.recipient, address.province, address.city = "王芳", "上海市", "上海市"
    address.street = "淮海路1号"
    world.recall.reason = "厂家召回通知第1号"
    db.session.commit()
    return world


def _drug_names(db) -> frozenset[str]:
    """The proper names of the drugs the pages show (INN and brand), word by word."""
    names = set()
    for drug in db.session.scalars(select(Drug)):
        texts = [drug.generic_name_en, drug.brand_name, *(part.name for part in drug.ingredients)]
        names |= {word for text in texts for word in re.findall(r"[A-Za-z]+", text or "")}
    return frozenset(names)


def _chinese_pages(app, made, area: str):
    """(where, response) of every page of the area each role may open, in Chinese (redirects, refusals
    and JSON left out; server errors kept)."""
    browsers = {ANONYMOUS: app.test_client()}
    browsers[ANONYMOUS].post("/language", data={"language": "zh", "next": "/"})
    for role, user in made.users.items():
        browsers[role] = app.test_client()
        response = browsers[role].post("/accounts/login", data={"identifier": user.login_name,
                                                               "password": factories.PASSWORD})
        assert response.status_code == 302
    for endpoint, rule, roles in _page_plan(area):
        path = fuzz_path(rule, made.ids(endpoint))
        for role in roles:
            response = browsers[role].get(path)
            page = response.status_code == 200 and response.mimetype == "text/html"
            if page or response.status_code >= 500:
                yield f"{role:10} {path}", response


@pytest.mark.parametrize("area", AREAS)
def test_every_page_reads_in_chinese(app, db, client, chinese_world, area):
    """Every page of the URL map (by blueprint), as every role that may open it, with real objects
    behind its ids: the rule for what counts as English is tests/latin_text.py's."""
    names = _drug_names(db)
    problems, pages = [], 0
    for where, response in _chinese_pages(app, chinese_world, area):
        if response.status_code >= 500:  # the route sweep reads pages in English only
            problems.append(f"{where}  answered {response.status_code}")
            continue
        pages += 1
        html = response.get_data(as_text=True)
        problems += [f"{where}  {found}" for found in latin_text.offenders(html, names)]
    assert pages, f"no page of {area} was read"
    assert not problems, f"English on Chinese pages ({len(problems)}):\n" + "\n".join(problems)


def test_the_sweep_reads_every_area_and_finds_english():
    assert {"admin", "audit", "consultations", "patients", "stock", "main"} <= set(AREAS)
    page = ("<p>待审核</p><button>Cancel</button><td>Test patient 7 · Cardiology clinic</td><p>5 mg QD</p>"
            '<input type="submit" value="Save draft"><input name="q" placeholder="Search">'
            "<p>微信支付（WeChat Pay）、Stripe</p><button>Pay</button>")
    assert [f.split("  in  ")[0] for f in latin_text.offenders(page)] == [
        "'Cancel'", "'Cardiology clinic'", "'Save draft'", "'Search'", "'Pay'"]
    kept = '<td translate="no">page=1; q=x</td><cite lang="en">Phansalkar et al.</cite><script>var a</script>'
    assert latin_text.offenders(kept) == []
