"""The patient record: profile, addresses, allergies, conditions with proof, consents and uploads."""

from flask import Blueprint

bp = Blueprint("patients", __name__, url_prefix="/patients")

from app.patients import condition_views, views  # noqa: E402,F401
