"""Home (a role-aware start page), the live queue counts, language switch and health check."""

from flask import current_app, jsonify, redirect, render_template, request, session
from flask_login import current_user
from sqlalchemy import text

from app.accounts import services as accounts
from app.accounts.models import Role
from app.audit.services import record, record_many
from app.extensions import db
from app.main import bp, queries
from app.main.queues import counts_and_version
from app.policy import login_required, public
from app.security import safe_next


@bp.route("/")
@public
def index():
    if not current_user.is_authenticated:
        return render_template("main/index.html")
    user = current_user._get_current_object()
    if user.role == Role.PATIENT:
        home = queries.patient_home(user)
        record("home.viewed", patient=user)  # one row: the patient reading their own record
        page = render_template("main/index.html", home=home, refill_days=queries.REFILL_DAYS)
    else:
        home = queries.staff_home(user)
        # A doctor's home names the patients whose prescriptions came back: one row per patient shown.
        listed = {p.patient_id: p for p in home.get("returned", [])}.values()
        if listed:  # one INSERT for all of them
            record_many("prescription.returned_listed", listed, object_type="prescriptions")
        page = render_template("main/index.html", staff=home)
    # Committed after rendering, so the loaded rows are not expired and read again one by one.
    db.session.commit()
    return page


@bp.route("/queues/counts")
@login_required
def queue_counts():
    """What the navigation badges and open queue pages poll: counts only, no patient data."""
    counts, version = counts_and_version(current_user)
    return jsonify(counts=counts, version=version)


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
