"""Consultation pages for doctors: the queue, accept or decline, the note, complete or refer."""

from flask import render_template
from flask_babel import gettext as _
from flask_login import current_user

from app.accounts.models import Role
from app.audit.services import record
from app.consultations import bp
from app.consultations import services as consultations
from app.consultations.forms import AcceptForm, CompleteForm, DeclineForm, NoteForm, ReferForm
from app.consultations.states import ConsultationStatus
from app.consultations.views import act, audited_view, load, render_detail
from app.database import utcnow
from app.extensions import db
from app.policy import patient_data, roles_required

S = ConsultationStatus
CLOSED_BY_DOCTOR = (S.COMPLETED, S.REFERRED, S.DECLINED)


@bp.route("/queue")
@roles_required(Role.DOCTOR)
@patient_data
def queue():
    doctor = current_user._get_current_object()
    waiting = consultations.doctor_queue(doctor)
    in_progress = consultations.doctor_consultations(doctor, [S.IN_PROGRESS])
    recent = consultations.doctor_consultations(doctor, CLOSED_BY_DOCTOR)[:20]
    # The queue names patients: one audit row per patient shown.
    for consultation in {c.patient_id: c for c in waiting + in_progress + recent}.values():
        record("consultation.queue_viewed", obj=consultation, patient=consultation.patient_id)
    if not (waiting or in_progress or recent):
        record("consultation.queue_viewed")
    db.session.commit()
    return render_template("consultations/queue.html", waiting=waiting, in_progress=in_progress,
                           recent=recent, now=utcnow())


def _form_ok(form, consultation, name: str):
    """None when the form is valid; otherwise the page again with the errors on it."""
    if form.validate_on_submit():
        return None
    audited_view(consultation)
    db.session.commit()
    return render_detail(consultation, 400, **{name: form})


@bp.route("/<int:consultation_id>/accept", methods=["POST"])
@roles_required(Role.DOCTOR)
@patient_data
def accept(consultation_id: int):
    consultation = load(consultation_id)
    return _form_ok(AcceptForm(), consultation, "accept_form") or act(
        consultation, consultations.accept, _("Consultation accepted. The consultation fee has been taken."),
        money_pending=_("Consultation accepted. The consultation fee will be taken from the patient's card "
                        "shortly."))


@bp.route("/<int:consultation_id>/decline", methods=["POST"])
@roles_required(Role.DOCTOR)
@patient_data
def decline(consultation_id: int):
    consultation = load(consultation_id)
    form = DeclineForm()
    return _form_ok(form, consultation, "decline_form") or act(
        consultation, consultations.decline,
        _("Consultation declined. The amount held on the patient's card has been released."),
        form.reason.data,
        money_pending=_("Consultation declined. The amount held on the patient's card will be released "
                        "shortly."))


@bp.route("/<int:consultation_id>/note", methods=["POST"])
@roles_required(Role.DOCTOR)
@patient_data
def note(consultation_id: int):
    consultation = load(consultation_id)
    form = NoteForm()
    return _form_ok(form, consultation, "note_form") or act(
        consultation, lambda c, doctor: consultations.save_note(
            c, doctor, complaint=form.complaint.data, findings=form.findings.data,
            assessment=form.assessment.data, plan=form.plan.data),
        _("Note saved."))


@bp.route("/<int:consultation_id>/complete", methods=["POST"])
@roles_required(Role.DOCTOR)
@patient_data
def complete(consultation_id: int):
    consultation = load(consultation_id)
    return _form_ok(CompleteForm(), consultation, "complete_form") or act(
        consultation, consultations.complete, _("Consultation completed."))


@bp.route("/<int:consultation_id>/refer", methods=["POST"])
@roles_required(Role.DOCTOR)
@patient_data
def refer(consultation_id: int):
    consultation = load(consultation_id)
    form = ReferForm()
    return _form_ok(form, consultation, "refer_form") or act(
        consultation, consultations.refer,
        _("Consultation ended: the patient is asked to visit in person and the fee is refunded."),
        form.reason.data,
        money_pending=_("Consultation ended: the patient is asked to visit in person; the fee will be "
                        "refunded shortly."))
