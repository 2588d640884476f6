"""What every browser test does on a page: open the phone menu, sign in and out, check the width."""

import re

from playwright.sync_api import Page, expect

from tests import factories


def open_menu(page: Page) -> None:
    """On a phone-sized screen the navigation sits behind the menu button."""
    # bootstrap.js, loaded at the end of the page, is what makes the button work.
    page.wait_for_load_state("load")
    toggler = page.locator(".navbar-toggler")
    if toggler.is_visible() and toggler.get_attribute("aria-expanded") != "true":
        toggler.click()
        # Bootstrap adds "show" when the opening transition ends; a click on a link or button
        # while the menu is still "collapsing" can land on nothing.
        expect(page.locator("#main-nav")).to_have_class(re.compile(r"\bshow\b"))


def sign_in(page: Page, base: str, login: str) -> None:
    # By field id: before signing in the page's language is the browser's or the last user's.
    page.goto(base + "/accounts/login")
    page.locator("#identifier").fill(login)
    page.locator("#password").fill(factories.PASSWORD)
    page.locator("main #submit").click()


def sign_out(page: Page) -> None:
    open_menu(page)
    with page.expect_navigation(url="**/accounts/login"):
        page.locator("#logout-button").click()


def fits_the_screen(page: Page) -> bool:
    # Measured before the stylesheets have loaded, an unstyled page is wider than the phone.
    page.wait_for_load_state("load")
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def add_drug(page: Page, labels: dict, *, search: str, pick: str, dose: str, frequency: str = "QD",
             days: str = "7") -> None:
    """On a prescription draft: type part of a name, choose the match containing `pick`, write the sig."""
    # A draft reloaded at #items keeps trying to scroll to that fragment until the page has loaded, and
    # Chromium moves the focus off the search box when it does: keys typed meanwhile land on the body.
    page.wait_for_load_state("load")
    page.get_by_label(labels["find"]).press_sequentially(search, delay=40)
    expect(page.get_by_label(labels["find"])).to_have_value(search)
    # On a busy machine an earlier, shorter query's list can still be showing: wait for this one's.
    results = page.locator("#drug-results")
    expect(results).to_have_attribute("data-query", search)
    expect(results).not_to_have_attribute("aria-busy", "true")
    choice = page.locator("#drug-results label").filter(has_text=pick).first
    expect(choice).to_be_visible()
    choice.click()
    page.get_by_label(labels["dose"], exact=True).fill(dose)
    page.get_by_label(labels["how_often"]).select_option(frequency)
    page.get_by_label(labels["duration"]).fill(days)
