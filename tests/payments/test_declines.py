"""A declined card is explained in the payer's language, whatever Stripe's English said."""

import pytest
from flask_babel import force_locale

from app.integrations.stripe_gateway import Intent
from app.payments.declines import GENERIC, MESSAGES, decline_message

STRIPE_ENGLISH = "Your card was declined."


@pytest.mark.parametrize("code", ["card_declined", "insufficient_funds", "expired_card", "incorrect_cvc",
                                  "processing_error", "lost_card", "stolen_card", "generic_decline"])
def test_each_common_decline_code_reads_in_both_languages(app, code):
    with app.test_request_context(), force_locale("en"):
        english = str(decline_message(code))
    with app.test_request_context(), force_locale("zh"):
        chinese = str(decline_message(code))
    assert english and chinese != english
    assert not any("a" <= ch.lower() <= "z" for ch in chinese.replace("CVC", "")), chinese


def test_an_unknown_or_missing_code_reads_as_the_generic_decline(app):
    with app.test_request_context(), force_locale("en"):
        assert str(decline_message("something_new")) == str(GENERIC) == str(decline_message(None))
    assert MESSAGES["insufficient_funds"] != GENERIC and MESSAGES["lost_card"] == GENERIC


def test_the_decline_code_of_a_failed_intent_is_kept(db):
    intent = Intent.from_object({"id": "pi_x", "status": "requires_payment_method", "amount": 3000,
                                 "last_payment_error": {"code": "card_declined", "message": STRIPE_ENGLISH,
                                                        "decline_code": "insufficient_funds"}})
    assert intent.failure_code == "insufficient_funds" and intent.failure_message == STRIPE_ENGLISH


def test_a_decline_code_that_is_not_a_short_string_is_ignored():
    intent = Intent.from_object({"id": "pi_y", "status": "requires_payment_method",
                                 "last_payment_error": {"code": 402, "decline_code": "x" * 500}})
    assert intent.failure_code is None
