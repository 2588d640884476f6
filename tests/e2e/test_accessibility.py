"""Every page of the URL map a role can open, as each role and in both languages, checked in the browser
with axe-core (WCAG 2.0/2.1 A and AA rules): no serious or critical violation, no element id used twice,
no request of the page's answered with a 404 (the icon included), and a navigation bar that fits on one
line of a 1280-px screen."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from playwright.sync_api import Error as PlaywrightError

from tests.e2e.conftest import speak
from tests.e2e.pages import sign_in

pytestmark = pytest.mark.e2e

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
ROLES = ["anonymous", "patient", "doctor", "pharmacist", "courier", "admin"]
LANGUAGES = ["en", "zh"]
PARAMETER = re.compile(r"<(?:\w+(?:\([^>]*\))?:)?(\w+)>")

RUN_AXE = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]});
  return result.violations.filter(v => v.impact === "serious" || v.impact === "critical")
    .map(v => ({rule: v.id, impact: v.impact, targets: v.nodes.map(n => n.target.join(" "))}));
}"""
# The navigation bar on one line: no item wrapped (Chinese broke one character per line), nothing pushed
# off the side; a single row of 44-px controls plus the bar's padding is about 60 px.
NAVIGATION = """() => {
  const bar = document.querySelector(".app-navbar");
  const wrapped = [...bar.querySelectorAll(".navbar-brand, .navbar-nav .nav-link, .language-switch .btn")]
    .filter(item => item.getClientRects().length && item.getBoundingClientRect().height > 48)
    .map(item => item.innerText.trim());
  const parts = [...bar.querySelectorAll(".navbar-brand, .navbar-nav > .nav-item, .language-switch")]
    .map(part => part.innerText.trim().replace(/\\s+/g, " ") + ":" +
                 Math.round(part.getBoundingClientRect().width));
  return {height: bar.getBoundingClientRect().height, wrapped, parts,
          overflows: document.documentElement.scrollWidth > window.innerWidth};
}"""
DUPLICATE_IDS = """() => {
  const seen = {};
  for (const element of document.querySelectorAll("[id]")) seen[element.id] = (seen[element.id] || 0) + 1;
  return Object.keys(seen).filter(id => seen[id] > 1);
}"""


def pages_for(live_app, world, role: str) -> list[str]:
    """The paths of every GET route `role` may open, with the world's ids in the URL."""
    paths = []
    for rule in sorted(live_app.url_map.iter_rules(), key=lambda r: r.rule):
        if "GET" not in rule.methods or rule.endpoint == "static" or "<path:" in rule.rule:
            continue
        allowed = getattr(live_app.view_functions[rule.endpoint], "required_roles", None)
        opens = role in {str(r) for r in allowed} if allowed else role == "anonymous"
        if opens or (rule.endpoint == "main.index"):  # the home page differs for every role
            ids = world.ids[rule.endpoint]
            paths.append(PARAMETER.sub(lambda m, ids=ids: str(ids.get(m.group(1), "x")), rule.rule))
    return [*paths, "/no-such-page"]  # the error page, as every role may meet it


def open_page(page: Page, url: str):
    """The page's response, or None when the URL answers with something other than a web page (a file
    the browser downloads, JSON)."""
    try:
        response = page.goto(url, wait_until="load")
    except PlaywrightError as error:
        if "Download is starting" in str(error):
            return None
        raise
    if response is None or "text/html" not in (response.headers.get("content-type") or ""):
        return None
    return response


SWEEPS: dict[tuple[str, str], dict] = {}


def sweep(browser: Browser, live_app, live_server: str, world, role: str, lang: str) -> dict:
    """Open every page once as `role` in `lang` and note what is wrong (cached: the three checks below
    share one walk)."""
    if (role, lang) in SWEEPS:
        return SWEEPS[(role, lang)]
    assert AXE.exists(), "axe-core is missing: run `make install-dev` (npm ci) first"
    found = {"pages": [], "axe": [], "nodes": 0, "ids": [], "missing": [], "no_icon": [], "navigation": None}
    # At a desktop width the whole navigation is on screen, so axe checks it too (phones: the tap test).
    context = browser.new_context(viewport={"width": 1280, "height": 900},
                                  locale="zh-CN" if lang == "zh" else "en-US")
    context.add_init_script(path=str(AXE))
    page = context.new_page()
    # What a page asks for (its styles, scripts, icon); a page opened directly answers for itself.
    page.on("response", lambda response: found["missing"].append(f"{page.url} → {response.url}")
            if response.status == 404 and not response.request.is_navigation_request() else None)
    try:
        if role != "anonymous":
            speak(live_app, [world.user_ids[role]], lang)
            sign_in(page, live_server, world.logins[role])
            page.wait_for_url(lambda url: "/accounts/login" not in url)
        seen = set()
        for path in pages_for(live_app, world, role):
            response = open_page(page, live_server + path)
            if response is None:
                continue  # a file, JSON or a feed: nothing for a screen reader to read
            if page.url in seen:  # a redirect to a page already checked
                continue
            seen.add(page.url)
            where = f"{role}/{lang} {path}" + (f" → {page.url[len(live_server):]}" if page.url !=
                                                live_server + path else "")
            found["pages"].append(where)
            if found["navigation"] is None:
                found["navigation"] = page.evaluate(NAVIGATION)
            for violation in page.evaluate(RUN_AXE, TAGS):
                targets = violation["targets"]
                more = f" and {len(targets) - 8} more" if len(targets) > 8 else ""
                rule = f"{violation['rule']} ({violation['impact']})"
                found["axe"].append(f"{where}: {rule} {targets[:8]}{more}")
                found["nodes"] += len(targets)
            found["ids"] += [f"{where}: #{element_id}" for element_id in page.evaluate(DUPLICATE_IDS)]
            if not page.locator('head link[rel~="icon"]').count():
                found["no_icon"].append(where)
    finally:
        context.close()
    SWEEPS[(role, lang)] = found
    return found


@pytest.fixture
def walk(browser, live_app, live_server, world):
    return lambda role, lang: sweep(browser, live_app, live_server, world, role, lang)


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("role", ROLES)
def test_axe_finds_no_serious_or_critical_violation_on_any_page(walk, role, lang):
    found = walk(role, lang)
    assert len(found["pages"]) >= 2, found["pages"]  # a walk that opened nothing would pass
    summary = f"{len(found['axe'])} violations ({found['nodes']} nodes):\n"
    assert not found["axe"], summary + "\n".join(found["axe"])


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("role", ROLES)
def test_the_navigation_fits_on_one_line_at_1280_px(walk, role, lang):
    navigation = walk(role, lang)["navigation"]
    assert not navigation["wrapped"], f"items broken over lines: {navigation['wrapped']}"
    assert navigation["height"] <= 72, navigation
    assert not navigation["overflows"], navigation


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("role", ROLES)
def test_no_element_id_is_used_twice_on_a_page(walk, role, lang):
    found = walk(role, lang)
    assert not found["ids"], "\n".join(found["ids"])


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("role", ROLES)
def test_every_page_names_its_icon_and_nothing_it_asks_for_is_missing(walk, role, lang):
    found = walk(role, lang)
    assert not found["no_icon"], "pages without an icon link:\n" + "\n".join(found["no_icon"])
    assert not found["missing"], "requests answered 404:\n" + "\n".join(found["missing"])


# ---- what a keyboard, screen-reader or phone user meets on every page ---------------------------------

@pytest.fixture
def desk(browser, live_app, live_server, world):
    """A page at a desktop width; `as_(role, lang)` signs that role in (anonymous: nobody)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()

    def as_(role: str, lang: str = "en") -> Page:
        if role != "anonymous":
            speak(live_app, [world.user_ids[role]], lang)
            sign_in(page, live_server, world.logins[role])
            page.wait_for_url(lambda url: "/accounts/login" not in url)
        return page

    yield as_
    context.close()


def test_the_first_tab_reaches_a_skip_link_that_moves_to_the_page_content(desk, live_server):
    page = desk("anonymous")
    page.goto(live_server + "/accounts/login", wait_until="load")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()  # hidden until focused, then on screen
    page.keyboard.press("Enter")
    expect(page.locator("main#content")).to_be_focused()


def test_the_navigation_marks_the_page_the_user_is_on(desk, live_server):
    page = desk("patient")
    page.goto(live_server + "/patients/conditions", wait_until="load")
    nav = page.get_by_role("navigation", name="Main menu")
    # The page sits in the "My health" menu: the menu's button is marked, and so is the item in it.
    expect(nav.get_by_role("button", name="My health")).to_have_class(re.compile(r"\bactive\b"))
    nav.get_by_role("button", name="My health").click()
    expect(nav.get_by_role("link", name="My conditions")).to_have_attribute("aria-current", "page")
    expect(nav.locator('[aria-current="page"]')).to_have_count(1)


def test_an_admin_reaches_every_page_through_the_menus(desk, live_server):
    page = desk("admin")
    page.goto(live_server + "/", wait_until="load")
    nav = page.get_by_role("navigation", name="Main menu")
    nav.get_by_role("button", name="Pharmacies").click()
    nav.get_by_role("link", name="Recalls").click()
    page.wait_for_url("**/stock/recalls")
    # On the page it leads to, the menu holding it is marked, and so is the item inside it.
    expect(nav.get_by_role("button", name="Pharmacies")).to_have_class(re.compile(r"\bactive\b"))
    expect(nav.locator('.dropdown-item[aria-current="page"]')).to_have_text("Recalls")


def test_a_couriers_menu_items_say_where_they_go(desk, live_server):
    page = desk("courier")
    page.goto(live_server + "/accounts/profile", wait_until="load")
    nav = page.get_by_role("navigation", name="Main menu")
    nav.get_by_role("link", name="My deliveries").click()
    page.wait_for_url(live_server + "/deliveries/")
    expect(nav.get_by_role("link", name="My deliveries")).to_have_attribute("aria-current", "page")
    nav.get_by_role("link", name="Home").click()
    page.wait_for_url(live_server + "/")
    expect(nav.get_by_role("link", name="Home")).to_have_attribute("aria-current", "page")


@pytest.mark.parametrize(("role", "keys"), [("doctor", ["consultations", "returned"]),
                                            ("pharmacist", ["review"])])
def test_staff_see_their_queue_counts_in_the_navigation(desk, live_server, role, keys):
    page = desk(role)
    page.goto(live_server + "/", wait_until="load")
    for key in keys:
        badge = page.locator(f'.app-navbar [data-queue-count="{key}"]')
        expect(badge).to_have_count(1)
        # A zero is not shown; any other count is.
        expect(badge).to_have_text(re.compile(r"^\d+$"))
        label = page.locator(f'.app-navbar [data-queue-count="{key}"] + .queue-count-label')
        if badge.text_content() == "0":
            expect(badge).to_be_hidden()
            # Read out as the item's name alone, not "… consultations waiting" without a number.
            assert label.evaluate("element => getComputedStyle(element).display") == "none"
        else:
            expect(badge).to_be_visible()
            assert label.evaluate("element => getComputedStyle(element).display") != "none"


def test_an_invalid_field_says_so_and_points_at_its_error(desk, live_server):
    page = desk("anonymous")
    page.goto(live_server + "/accounts/register", wait_until="load")
    page.locator("main #submit").click()
    page.wait_for_load_state("load")
    name = page.locator("#display_name")
    expect(name).to_have_attribute("aria-invalid", "true")
    described = name.get_attribute("aria-describedby")
    assert described
    # The description is the error the page shows under the field.
    expect(page.locator(f"#{described.split()[0]} .invalid-feedback").first).to_be_visible()
    expect(page.get_by_role("textbox", name="Your name")).to_have_accessible_description(
        re.compile(r"\S"))
    # A field without an error is not marked.
    expect(page.locator("#locale")).not_to_have_attribute("aria-invalid", "true")


def test_on_a_phone_the_language_switch_is_on_the_bar_without_opening_the_menu(browser, live_server):
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-US")
    page = context.new_page()
    try:
        page.goto(live_server + "/accounts/login", wait_until="load")
        for name, lang in (("中文", "zh-Hans-CN"), ("English", "en")):
            expect(page.locator("#main-nav")).to_be_hidden()  # the menu stays closed
            page.get_by_role("button", name=name).click()
            expect(page.locator("html")).to_have_attribute("lang", lang)
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    finally:
        context.close()
