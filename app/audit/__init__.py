"""The audit trail and its admin page."""

from flask import Blueprint

bp = Blueprint("audit", __name__, url_prefix="/audit")

from app.audit import views  # noqa: E402,F401
