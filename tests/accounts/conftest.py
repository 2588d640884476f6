"""Account-page fixtures: one browser per test, and a way to switch form tokens on."""

import pytest

from tests.accounts.pages import Browser


@pytest.fixture
def web(app, db):
    return Browser(app)


@pytest.fixture
def csrf_on(app):
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        yield
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
