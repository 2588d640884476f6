"""Condition pages: the patient records diagnoses with proof, staff verify them; uploads are served."""

import logging
from pathlib import Path

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.accounts.models import Role
from app.audit.services import record
from app.errors import InvalidTransition
from app.extensions import db
from app.i18n import current_language
from app.patients import bp, queries
from app.patients import services as patients
from app.patients.forms import ConditionForm, ReviewForm
from app.patients.models import Condition, ConditionStatus, Upload
from app.patients.uploads import EXTENSIONS, original_name, upload_path
from app.patients.views import signed_in_patient
from app.policy import can_access_patient, login_required, patient_data, refuse, roles_required
from app.transaction import perform

log = logging.getLogger(__name__)


PHONE_FIRST = _l("Please verify your mobile number before you record a condition: consultations, "
                 "payments and reminders all go to it.")


@bp.route("/conditions", methods=["GET", "POST"])
@roles_required(Role.PATIENT)
@patient_data
def conditions():
    patient = signed_in_patient()
    if request.method == "POST" and not patient.has_verified_phone:
        record("condition.refused_unverified_phone", object_type="conditions", patient=patient)
        db.session.commit()
        flash(str(PHONE_FIRST), "warning")
        return redirect(url_for("accounts.verify_phone", next=url_for("patients.conditions")))
    form = ConditionForm(language=current_language())
    if form.validate_on_submit():
        stored = []

        def add_condition():
            condition = patients.add_condition(
                patient, icd10_code=form.icd10_code.data, hospital=form.hospital.data,
                diagnosed_on=form.diagnosed_on.data, proof_file=form.proof.data, uploaded_by=patient)
            stored.append(upload_path(condition.proof))

        try:
            added = perform(add_condition, form=form, success=_(
                "Your condition has been recorded. Staff will check the proof of diagnosis."))
        except Exception:
            # The rows are gone with the rollback; the file written before them must go too.
            for path in stored:
                path.unlink(missing_ok=True)
            raise
        if added:
            return redirect(url_for("patients.conditions"))
    record("condition.listed", object_type="conditions", patient=patient)
    page = render_template("patients/conditions.html", form=form, profile=patient.patient_profile,
                           conditions=queries.patient_conditions(patient),
                           phone_first=None if patient.has_verified_phone else PHONE_FIRST)
    db.session.commit()
    return page


def require_reviewer() -> None:
    """Doctors whose licence is not verified yet may not verify anything."""
    if not queries.can_review_conditions(current_user):
        abort(403)


@bp.route("/conditions/review")
@roles_required(Role.DOCTOR, Role.ADMIN)
@patient_data
def review_queue():
    require_reviewer()
    pending = queries.pending_conditions()
    # One row per condition shown, so "who saw this patient's data" finds queue views too.
    for condition in pending:
        record("condition.review_listed", obj=condition, patient=condition.patient_id)
    if not pending:
        record("condition.review_queue_viewed")
    page = render_template("patients/review_queue.html", conditions=pending)
    db.session.commit()
    return page


@bp.route("/conditions/<int:condition_id>/review", methods=["GET", "POST"])
@roles_required(Role.DOCTOR, Role.ADMIN)
@patient_data
def review_condition(condition_id: int):
    require_reviewer()
    condition = db.session.get(Condition, condition_id) or abort(404)
    # A doctor's reason to see this record is the pending review; once decided it is none of theirs.
    if condition.status != ConditionStatus.PENDING and not can_access_patient(
            current_user, condition.patient_id):
        refuse(404, condition.patient_id)
    form = ReviewForm()
    if form.validate_on_submit():
        if form.verify.data == form.reject.data:  # exactly one of the two buttons
            abort(400)
        refusals = []
        if perform(lambda: patients.review_condition(condition, current_user._get_current_object(),
                                                     verify=form.verify.data, note=form.note.data),
                   form=form, refused=refusals.append):
            done = (_("The condition is verified.") if condition.status == ConditionStatus.VERIFIED
                    else _("The condition is rejected; the patient sees your note."))
            flash(done, "success")
            return redirect(url_for("patients.review_queue"))
        if any(isinstance(error, InvalidTransition) for error in refusals):  # someone decided first
            return redirect(url_for("patients.review_queue"))
    record("condition.review_opened", obj=condition, patient=condition.patient_id)
    page = render_template("patients/review.html", condition=condition, patient=condition.patient,
                           profile=condition.patient.patient_profile, form=form)
    db.session.commit()
    return page


@bp.route("/uploads/<int:upload_id>")
@login_required
@patient_data
def upload(upload_id: int):
    stored = db.session.get(Upload, upload_id)
    # Not allowed and not there look the same, so ids cannot be probed.
    if stored is None:
        abort(404)
    if not queries.can_view_upload(current_user, stored):
        refuse(404, stored.patient_id)
    path = upload_path(stored)
    if not path.is_file():
        log.error("upload %s has no file at %s", stored.id, path)
        abort(404)
    record("upload.downloaded", obj=stored, patient=stored.patient_id)
    db.session.commit()
    # The stored type came from the bytes; the name gets the matching extension. Cleaned again: a
    # file stored before names were cleaned may still carry a direction override.
    stem = Path(original_name(stored.original_name)).stem or "upload"
    name = stem + EXTENSIONS.get(stored.content_type, "")
    response = send_file(path, mimetype=stored.content_type, as_attachment=not stored.is_image,
                         download_name=name, max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
