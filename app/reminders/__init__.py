"""SMS medication reminders: when each dose and refill reminder goes out, and the rows that send them."""

from flask import Blueprint

bp = Blueprint("reminders", __name__, url_prefix="/reminders")

from app.reminders import views  # noqa: E402,F401  (routes register on import)
