"""Twilio's calls into the app: patients' replies (`/sms/inbound`) and delivery reports (`/sms/status`)."""

from flask import Blueprint

bp = Blueprint("sms", __name__, url_prefix="/sms")

from app.sms import phone_views, views  # noqa: E402,F401  (routes register on import)
