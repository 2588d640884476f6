"""Medication orders: the store a patient chose, the money held for the medicines, and their journey."""

from flask import Blueprint

bp = Blueprint("orders", __name__, url_prefix="/orders")

from app.orders import leaflet_views, report_views, return_views, staff_views, views  # noqa: E402,F401  (routes register on import)
