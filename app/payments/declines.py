"""Stripe's decline codes in the payer's language: Stripe's own message is English only."""

from flask_babel import lazy_gettext as _l

# Stripe's decline_code (or, when it gives none, its error code) → what the payer reads. Codes
# Stripe adds later, or none at all, read as GENERIC.
GENERIC = _l("The bank did not approve this card. Try another card or contact your bank.")
MESSAGES = {
    "card_declined": GENERIC,
    "generic_decline": GENERIC,
    "do_not_honor": GENERIC,
    "insufficient_funds": _l("Your card has insufficient funds. Try another card."),
    "expired_card": _l("Your card has expired. Try another card."),
    "incorrect_cvc": _l("The card's security code (CVC) is incorrect. Check it and try again."),
    "invalid_cvc": _l("The card's security code (CVC) is incorrect. Check it and try again."),
    "incorrect_number": _l("The card number is incorrect. Check it and try again."),
    "invalid_number": _l("The card number is incorrect. Check it and try again."),
    "invalid_expiry_month": _l("The card's expiry date is incorrect. Check it and try again."),
    "invalid_expiry_year": _l("The card's expiry date is incorrect. Check it and try again."),
    "processing_error": _l("The bank could not process your card just now. Try again in a few minutes."),
    "try_again_later": _l("The bank could not process your card just now. Try again in a few minutes."),
    # A lost or stolen card is not named as such to whoever holds it.
    "lost_card": GENERIC,
    "stolen_card": GENERIC,
    "pickup_card": GENERIC,
    "fraudulent": GENERIC,
    "card_not_supported": _l("This card does not support this kind of payment. Try another card."),
    "currency_not_supported": _l("This card cannot pay in this currency. Try another card."),
    "card_velocity_exceeded": _l("Your card has reached its spending limit. Try another card or contact "
                                 "your bank."),
    "withdrawal_count_limit_exceeded": _l("Your card has reached its spending limit. Try another card or "
                                          "contact your bank."),
    "authentication_required": _l("Your bank asks you to confirm this payment. Try again and follow "
                                  "your bank's steps."),
}


def decline_message(code: str | None):
    """The payer's words for a Stripe decline code; the generic message for one we do not know."""
    return MESSAGES.get(code or "", GENERIC)
