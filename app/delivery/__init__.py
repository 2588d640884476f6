"""Delivery of dispensed orders: packing, the courier's record of the trip, the cold chain, proof."""

from flask import Blueprint

bp = Blueprint("delivery", __name__, url_prefix="/deliveries")

from app.delivery import views  # noqa: E402,F401  (routes register on import)
