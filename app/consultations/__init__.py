"""Online follow-up consultations: booking, the doctors' queue, messages and the doctor's note."""

from flask import Blueprint

bp = Blueprint("consultations", __name__, url_prefix="/consultations")

from app.consultations import doctor_views, views  # noqa: E402,F401
