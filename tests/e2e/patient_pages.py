"""What the account and patient-record journeys share: the SMS code received, targets too small to tap."""

import re

from playwright.sync_api import Page

from app.worker import run_once

# Every link, button and disclosure a thumb can hit in the page's content, smaller than 44×44 CSS px.
SMALL_TARGETS = """() => [...document.querySelectorAll(
        'main a, main button, main summary, main input[type=submit]')]
    .filter(element => element.getClientRects().length > 0)
    .map(element => {
        const box = element.getBoundingClientRect();
        return {text: element.textContent.trim().slice(0, 40), width: box.width, height: box.height};
    })
    .filter(target => target.width < 44 || target.height < 44)"""


def small_targets(page: Page) -> list[dict]:
    page.wait_for_load_state("load")  # measured with the stylesheets applied
    return page.evaluate(SMALL_TARGETS)


def last_code_sent_to(live_app, e164: str) -> str:
    """Run the worker once (it sends the SMS outbox) and read the code the patient received."""
    with live_app.app_context():
        run_once()
    for phone, body in reversed(live_app.extensions["sms"].sent):
        if phone == e164:
            return re.search(r"\b(\d{6})\b", body).group(1)
    raise AssertionError(f"no SMS was sent to {e164}")
