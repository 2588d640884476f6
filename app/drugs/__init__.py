"""The drug catalogue: products the pharmacies stock, their facts, prices and flags."""

from flask import Blueprint

bp = Blueprint("drugs", __name__, url_prefix="/drugs")

from app.drugs import views  # noqa: E402,F401
