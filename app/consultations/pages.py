"""What the patient's and the doctor's consultation pages share: loading, the page, audit, money, facts."""

from functools import wraps

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from app.accounts.models import Role
from app.audit.services import record
from app.consultations import bp, queries
from app.consultations import services as consultations
from app.consultations.forms import (
    AcceptForm,
    CancelForm,
    CompleteForm,
    DeclineForm,
    MessageForm,
    NoteForm,
    RateForm,
    ReferForm,
)
from app.consultations.models import PAYABLE, Consultation
from app.consultations.record import patient_record
from app.consultations.record import record_fact as record_patient_fact
from app.consultations.states import ConsultationStatus
from app.database import utcnow
from app.extensions import db
from app.patients.forms import FactForm
from app.payments import operations as payment_operations
from app.payments.models import Payment, PaymentStatus
from app.policy import patient_data, roles_required
from app.prescribing import queries as prescriptions
from app.prescribing import views as prescribing_views
from app.transaction import perform

S = ConsultationStatus
PARTICIPANTS = (Role.PATIENT, Role.DOCTOR)
# How often an open page asks for news: quickly while a payment is confirmed or a conversation runs,
# slowly while a paid consultation waits in the queue.
POLL_MILLISECONDS = {"confirming": 3000, "in_progress": 4000, "waiting": 15000}
# The states whose page shows the message thread.
THREAD_STATUSES = (S.IN_PROGRESS, S.COMPLETED, S.REFERRED)


def load(consultation_id: int, *options) -> Consultation:
    """The consultation, if the signed-in user is one of its two participants; 404 otherwise.
    `options` load what the page shows of it along with it."""
    consultation = db.session.scalar(
        select(Consultation).where(Consultation.id == consultation_id).options(*options))
    if consultation is None or not consultations.visible_to(consultation, current_user):
        abort(404)
    return consultation


def state_of(consultation: Consultation, payment: Payment | None, shown: list) -> str:
    """What the polling script compares: a change in a status, or in a prescription the user sees
    (`shown`), means the page is out of date."""
    seen = ",".join(prescriptions.digest(p) for p in shown)
    return f"{consultation.status}/{payment.status if payment else ''}/{seen}"


def current_state(consultation: Consultation, payment: Payment | None) -> str:
    """state_of, reading the prescriptions the signed-in user sees."""
    return state_of(consultation, payment, prescriptions.for_consultation(consultation, current_user))


def audited_view(consultation: Consultation, action: str = "consultation.viewed") -> None:
    record(action, obj=consultation, patient=consultation.patient_id)


def refusal_audited(consultation: Consultation):
    """The `refused` callback of app.transaction.perform: the refused attempt is kept in the audit."""
    return lambda _error: audited_view(consultation, "consultation.action_refused")


def to_detail(consultation: Consultation):
    return redirect(url_for("consultations.detail", consultation_id=consultation.id), code=303)


def flash_after_money(consultation: Consultation, success: str, money_pending: str | None = None) -> None:
    """After the action's commit: send Stripe the money it recorded (capture, release, refund), with no
    row locked, and say so. If Stripe does not answer at once the worker retries, and the user reads
    `money_pending` instead of `success`."""
    settled = payment_operations.perform_for_payable(PAYABLE, consultation.id)
    flash(success if settled or money_pending is None else money_pending, "success")


def render_detail(consultation: Consultation, code: int = 200, **forms):
    """The consultation page; forms with errors from a failed action are passed in. The caller has
    audited the view; the page is rendered before the commit, which would expire all it loaded."""
    is_doctor = current_user.role == Role.DOCTOR
    payment = queries.current_payment(consultation)
    confirming = (consultation.status == S.AWAITING_PAYMENT and payment is not None
                  and payment.status == PaymentStatus.PENDING and bool(payment.stripe_payment_intent_id))
    shown = prescriptions.for_consultation(consultation, current_user)
    thread = queries.thread_page(consultation) if consultation.status in THREAD_STATUSES else None
    context = dict(
        consultation=consultation, payment=payment, confirming=confirming, is_doctor=is_doctor,
        thread=thread, messages=thread.rows if thread else [], state=state_of(consultation, payment, shown),
        poll_ms=POLL_MILLISECONDS.get("confirming" if confirming else str(consultation.status)),
        now=utcnow(),
        record=patient_record(consultation, prescriptions.today()) if is_doctor else None,
        prescriptions=shown,
        message_form=forms.get("message_form") or MessageForm(formdata=None),
    )
    # The doctor's forms, each only in the state whose part of the page shows it.
    if is_doctor and consultation.status == S.WAITING:
        context.update(accept_form=AcceptForm(formdata=None),
                       decline_form=forms.get("decline_form") or DeclineForm(formdata=None))
    elif is_doctor and consultation.status == S.IN_PROGRESS:
        verified = context["record"].conditions  # the record's: verified, newest diagnosis first
        context.update(prescription_form=prescribing_views.start_form_for(consultation, verified),
                       refer_form=forms.get("refer_form") or ReferForm(formdata=None),
                       complete_form=CompleteForm(formdata=None),
                       note_form=forms.get("note_form") or NoteForm(formdata=None, obj=consultation),
                       fact_form=forms.get("fact_form") or FactForm(formdata=None, for_doctor=True))
    elif not is_doctor:
        context.update(cancel_form=CancelForm(formdata=None),
                       rate_form=forms.get("rate_form") or RateForm(formdata=None))
    page = render_template("consultations/detail.html", **context)
    db.session.commit()
    return page, code


def phone_verified(refusal):
    """Send a patient whose mobile number is not verified to verify it, with `refusal` to say why.

    The services refuse too (app/consultations/actors.py); this only spares the patient a form
    they could not send. The refusal is audited like any other.
    """

    def decorate(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if current_user.phone_verified_at is None:
                record("consultation.refused_unverified_phone", patient=current_user._get_current_object())
                db.session.commit()
                flash(str(refusal), "warning")
                return redirect(url_for("accounts.verify_phone"), code=303)
            return view(*args, **kwargs)

        return wrapped

    return decorate


def polled(view):
    """For the endpoints an open page polls, in place of policy.patient_data: a poll shows patient
    data only when its answer is new to the page, so it audits only then, and every answer must
    have been decided by `audit_poll` (a poll that skips it fails loudly, as patient_data does)."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        response = view(*args, **kwargs)
        if not g.get("poll_audit_decided"):
            raise RuntimeError(f"{request.endpoint} answers a poll without audit_poll")
        return response

    wrapped.touches_patient_data = True
    return wrapped


def audit_poll(consultation: Consultation, action: str, news: bool) -> None:
    """Audit a poll that tells the page something new (a message, a changed state). The page view
    was audited when it opened; an open tab asks every few seconds, mostly for nothing."""
    if news:
        audited_view(consultation, action)
    g.poll_audit_decided = True
    db.session.commit()


# The patient-record panel's one action (the doctor's consultation actions are in doctor_views.py).
@bp.route("/<int:consultation_id>/facts", methods=["POST"])
@roles_required(Role.DOCTOR)
@patient_data
def record_fact(consultation_id: int):
    """The consultation's doctor records a measurement or assessment (or confirms the patient's report)."""
    consultation = load(consultation_id)
    doctor = current_user._get_current_object()
    form = FactForm(for_doctor=True)
    if not form.validate_on_submit():
        audited_view(consultation)
        return render_detail(consultation, 400, fact_form=form)
    if perform(lambda: record_patient_fact(consultation, doctor, *form.fact(), form.measured_on.data),
               success=_("The measurement has been recorded."), form=form,
               refused=refusal_audited(consultation)):
        return redirect(url_for("consultations.detail", consultation_id=consultation.id,
                                _anchor="measurements"), code=303)
    audited_view(consultation)  # the page is shown again, beside the refusal's own audit row
    return render_detail(consultation, 400, fact_form=form)
