"""Reminder fixtures: a texted patient who received medicines (from the SMS tests' fixtures)."""

import pytest

from tests.sms.conftest import (  # noqa: F401  (fixtures)
    approve,
    as_user,
    catalogue_drugs,
    coded,
    deliver,
    fake_twilio,
    flow,
    ordering,
    pharmacists,
    receive,
    shop,
    sign,
    stripe_client,
    texted,
    visit,
)


@pytest.fixture(autouse=True)
def _quiet_hours(request, monkeypatch):
    """The production default (the test config has none): these tests run on frozen clocks."""
    if "app" not in request.fixturenames:
        return  # the pure schedule tests pass their own
    app = request.getfixturevalue("app")
    monkeypatch.setitem(app.config, "SMS_QUIET_START", "21:00")
    monkeypatch.setitem(app.config, "SMS_QUIET_END", "08:00")
