"""Reminder fixtures: a texted patient who received medicines (from the SMS tests' fixtures)."""

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
