"""Flask-Login wiring: session ids carry the auth version, so a password reset signs out everywhere."""

from flask import flash, jsonify, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import LoginManager

from app.accounts.models import User
from app.extensions import db


def load_user(session_id: str) -> User | None:
    user_id, _, version = session_id.partition(".")
    if not user_id.isdigit() or not version.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.is_active or user.auth_version != int(version):
        return None
    return user


def unauthorized():
    from app.errors import wants_json

    if wants_json():
        return jsonify(error="authentication required"), 401
    flash(_("Please sign in to open this page. If you were signed in, your session has expired."),
          "info")
    return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))


def init_login_manager(manager: LoginManager) -> None:
    manager.user_loader(load_user)
    manager.unauthorized_handler(unauthorized)
    manager.login_view = "accounts.login"
    manager.session_protection = "strong"
