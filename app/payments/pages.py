"""Stripe's Payment Element as a page: shared by everything a patient pays for."""

from flask import current_app, render_template

from app.security import allow_in_csp


def payment_element(intent, *, heading: str, amount_label: str, amount_fen: int, back_url: str,
                    back_label: str, return_url: str):
    """The only kind of page whose policy lets js.stripe.com in; Stripe sends the payer back to
    `return_url` once the bank has answered."""
    allow_in_csp("script-src", "https://js.stripe.com")
    allow_in_csp("frame-src", "https://js.stripe.com", "https://hooks.stripe.com")
    allow_in_csp("connect-src", "https://api.stripe.com")
    return render_template(
        "payments/element.html", client_secret=intent.client_secret, return_url=return_url,
        publishable_key=current_app.config["STRIPE_PUBLISHABLE_KEY"], heading=heading,
        amount_label=amount_label, amount_fen=amount_fen, back_url=back_url, back_label=back_label)
