"""Payments through Stripe PaymentIntents; state follows verified webhooks."""

from flask import Blueprint

bp = Blueprint("payments", __name__, url_prefix="/payments")

from app.payments import views  # noqa: E402,F401
