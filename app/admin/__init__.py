"""Operations administration: staff accounts, users and stores."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from app.admin import store_views, views  # noqa: E402,F401
