"""Online prescribing: structured, e-signed prescriptions written inside a consultation."""

from flask import Blueprint

bp = Blueprint("prescribing", __name__, url_prefix="/prescriptions")

from app.prescribing import views  # noqa: E402,F401
