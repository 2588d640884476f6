"""Accounts: registration, sign-in, phone verification and password reset."""

from flask import Blueprint

bp = Blueprint("accounts", __name__, url_prefix="/accounts")

from app.accounts import views  # noqa: E402,F401  (routes register on import)
