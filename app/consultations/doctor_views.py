"""Consultation pages for doctors: the queue, accept or decline, the note, complete or refer."""

from flask import render_template
from flask_babel import gettext as _
from flask_login import current_user

from app import limits
from app.accounts.models import Role
from app.audit.services import record_many
from app.consultations import bp, doctor_lists
from app.consultations import services as consultations
from app.consultations.forms import AcceptForm, CompleteForm, DeclineForm, NoteForm, ReferForm
from app.consultations.pages import (
    audited_view,
    flash_after_money,
    load,
    refusal_audited,
    render_detail,
    to_detail,
)
from app.consultations.states import ConsultationStatus
from app.database import utcnow
from app.extensions import db
from app.policy import patient_data, roles_required
from app.transaction import perform

S = ConsultationStatus
CLOSED_BY_DOCTOR = (S.COMPLETED, S.REFERRED, S.DECLINED)
RECENTLY_ENDED_SHOWN = 20


@bp.route("/queue")
@roles_required(Role.DOCTOR)
@patient_data
def queue():
    doctor = current_user._get_current_object()
    shown = limits.QUEUE_SHOWN
    waiting = doctor_lists.waiting(doctor, shown)
    total = doctor_lists.count(doctor, [S.WAITING]) if len(waiting) == shown else len(waiting)
    in_progress = doctor_lists.latest(doctor, [S.IN_PROGRESS], shown)
    in_progress_total = (doctor_lists.count(doctor, [S.IN_PROGRESS]) if len(in_progress) == shown
                         else len(in_progress))
    recent = doctor_lists.latest(doctor, CLOSED_BY_DOCTOR, RECENTLY_ENDED_SHOWN)
    # The queue names patients: one audit row per patient shown, all in one INSERT.
    named = {c.patient_id: c for c in waiting + in_progress + recent}.values()
    record_many("consultation.queue_viewed", named, object_type="consultations")
    page = render_template("consultations/queue.html", waiting=waiting, total=total, in_progress=in_progress,
                           in_progress_total=in_progress_total, recent=recent, now=utcnow())
    db.session.commit()
    return page


def _form_ok(form, consultation, name: str):
    """None when the form is valid; otherwise the page again with the errors on it."""
    if form.validate_on_submit():
        return None
    audited_view(consultation)
    return render_detail(consultation, 400, **{name: form})  # it commits after rendering


@bp.route("/<int:consultation_id>/accept", methods=["POST"])
@roles_required(Role.DOCTOR)
@patient_data
def accept(consultation_id: int):
    consultation = load(consultation_id)
    doctor = current_user._get_current_object()
    if invalid := _form_ok(AcceptForm(), consultation, "accept_form"):
        return invalid
    if perform(lambda: consultations.accept(consultation, doctor), refused=refusal_audited(consultation)):
        flash_after_money(
            consultation, _("Consultation accepted. The consultation fee has been taken."),
            money_pending=_("Consultation accepted. The consultation fee will be taken from the patient's "
                            "card shortly."))
    return to_detail(consultation)


@bp.route("/<int:consultation_id>/decline", methods=["POST"])
@roles_required(Role.DOCTOR)
@patient_data
def decline(consultation_id: int):
    consultation = load(consultation_id)
    doctor = current_user._get_current_object()
    form = DeclineForm()
    if invalid := _form_ok(form, consultation, "decline_form"):
        return invalid
    if perform(lambda: consultations.decline(consultation, doctor, form.reason.data),
               refused=refusal_audited(consultation)):
        flash_after_money(
            consultation,
            _("Consultation declined. The amount held on the patient's card has been released."),
            money_pending=_("Consultation declined. The amount held on the patient's card will be released "
                            "shortly."))
    return to_detail(consultation)


@bp.route("/<int:consultation_id>/note", methods=["POST"])
@roles_required(Role.DOCTOR)
@patient_data
def note(consultation_id: int):
    consultation = load(consultation_id)
    doctor = current_user._get_current_object()
    form = NoteForm()
    if invalid := _form_ok(form, consultation, "note_form"):
        return invalid
    perform(lambda: consultations.save_note(
        consultation, doctor, complaint=form.complaint.data, findings=form.findings.data,
        assessment=form.assessment.data, plan=form.plan.data),
        success=_("Note saved."), refused=refusal_audited(consultation))
    return to_detail(consultation)


@bp.route("/<int:consultation_id>/complete", methods=["POST"])
@roles_required(Role.DOCTOR)
@patient_data
def complete(consultation_id: int):
    consultation = load(consultation_id)
    doctor = current_user._get_current_object()
    if invalid := _form_ok(CompleteForm(), consultation, "complete_form"):
        return invalid
    perform(lambda: consultations.complete(consultation, doctor), success=_("Consultation completed."),
            refused=refusal_audited(consultation))
    return to_detail(consultation)


@bp.route("/<int:consultation_id>/refer", methods=["POST"])
@roles_required(Role.DOCTOR)
@patient_data
def refer(consultation_id: int):
    consultation = load(consultation_id)
    doctor = current_user._get_current_object()
    form = ReferForm()
    if invalid := _form_ok(form, consultation, "refer_form"):
        return invalid
    if perform(lambda: consultations.refer(consultation, doctor, form.reason.data),
               refused=refusal_audited(consultation)):
        flash_after_money(
            consultation, _("Consultation ended: the patient is asked to visit in person and the fee is "
                            "refunded."),
            money_pending=_("Consultation ended: the patient is asked to visit in person; the fee will be "
                            "refunded shortly."))
    return to_detail(consultation)
