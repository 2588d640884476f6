"""Flask-Login wiring: each session carries the user's session version and its sign-in time, and
every request checks both, so sign-out, a password reset or deactivation ends it everywhere and no
session outlives SESSION_ABSOLUTE_HOURS."""

from datetime import timedelta

from flask import current_app, flash, jsonify, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import LoginManager, login_user

from app.accounts.models import User
from app.database import utcnow
from app.extensions import db

# Session key holding the sign-in time (whole seconds since the epoch, UTC).
SIGNED_IN_AT = "signed_in_at"


def start_session(user: User) -> None:
    """A new session for `user`: nothing kept from before signing in, except the language."""
    session.clear()
    login_user(user)
    session.permanent = True
    session["locale"] = user.locale
    session[SIGNED_IN_AT] = int(utcnow().timestamp())


def _within_absolute_lifetime() -> bool:
    signed_in_at = session.get(SIGNED_IN_AT)
    if not isinstance(signed_in_at, int):  # a session from before this rule: sign in again
        return False
    hours = current_app.config["SESSION_ABSOLUTE_HOURS"]
    return utcnow().timestamp() - signed_in_at < timedelta(hours=hours).total_seconds()


def load_user(session_id: str) -> User | None:
    user_id, _, version = session_id.partition(".")
    if not all(part.isascii() and part.isdigit() and len(part) <= 18 for part in (user_id, version)):
        return None
    if not _within_absolute_lifetime():
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
