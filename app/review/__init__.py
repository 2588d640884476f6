"""Pharmacist review: the queue of signed prescriptions, their automatic check findings, decisions."""

from flask import Blueprint

bp = Blueprint("review", __name__, url_prefix="/reviews")

from app.review import admin_views, labels, views  # noqa: E402,F401
