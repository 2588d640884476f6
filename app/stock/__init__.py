"""Store stock pages: stock lists, lot ledgers, receiving, counts and write-offs, expiry reports."""

from flask import Blueprint

bp = Blueprint("stock", __name__, url_prefix="/stock")

from app.stock import transfer_views, views  # noqa: E402,F401
