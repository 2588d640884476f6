"""Home (a role-aware start page), language switch and health check."""

from flask import current_app, jsonify, redirect, render_template, request, session
from flask_login import current_user
from sqlalchemy import text

from app.accounts import services as accounts
from app.extensions import db
from app.main import bp
from app.policy import public
from app.security import safe_next


@bp.route("/")
@public
def index():
    return render_template("main/index.html")


@bp.route("/language", methods=["POST"])
@public
def set_language():
    chosen = request.form.get("language", "")
    if chosen in current_app.config["LANGUAGES"]:
        session["locale"] = chosen
        if current_user.is_authenticated:
            accounts.set_language(current_user, chosen)
            db.session.commit()
    return redirect(safe_next(request.form.get("next")), code=303)


@bp.route("/healthz")
@public
def healthz():
    db.session.execute(text("SELECT 1"))
    return jsonify(status="ok")
