"""Payment pages and the Stripe webhook."""

from app.payments import bp  # noqa: F401
