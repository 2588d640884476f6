"""What every browser test does on a page: open the phone menu, sign in and out, check the width."""

from playwright.sync_api import Page, expect

from tests import factories


def open_menu(page: Page) -> None:
    """On a phone-sized screen the navigation sits behind the menu button."""
    # bootstrap.js, loaded at the end of the page, is what makes the button work.
    page.wait_for_load_state("load")
    toggler = page.locator(".navbar-toggler")
    if toggler.is_visible() and toggler.get_attribute("aria-expanded") != "true":
        toggler.click()
        expect(page.locator("#main-nav")).to_be_visible()


def sign_in(page: Page, base: str, login: str) -> None:
    # By field id: before signing in the page's language is the browser's or the last user's.
    page.goto(base + "/accounts/login")
    page.locator("#identifier").fill(login)
    page.locator("#password").fill(factories.PASSWORD)
    page.locator("main #submit").click()


def sign_out(page: Page) -> None:
    open_menu(page)
    page.locator("#logout-button").click()
    page.wait_for_url("**/accounts/login")


def fits_the_screen(page: Page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
