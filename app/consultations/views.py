"""Consultation pages for patients (book, pay, follow, cancel, rate) and the shared thread and status."""

from flask import abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from app import numbers
from app.accounts.models import Role
from app.audit.services import record
from app.consultations import bp
from app.consultations import services as consultations
from app.consultations.forms import (
    AcceptForm,
    BookForm,
    CancelForm,
    CompleteForm,
    DeclineForm,
    MessageForm,
    NoteForm,
    PayForm,
    RateForm,
    ReferForm,
)
from app.consultations.models import Consultation
from app.consultations.record import patient_record
from app.consultations.states import OPEN_STATUSES, ConsultationStatus
from app.database import utcnow
from app.errors import DomainError
from app.extensions import db
from app.i18n import current_language
from app.integrations.stripe_gateway import gateway
from app.patients import catalog
from app.payments import operations as payment_operations
from app.payments import services as payments
from app.payments.models import PaymentStatus
from app.policy import patient_data, roles_required
from app.security import allow_in_csp

S = ConsultationStatus
PARTICIPANTS = (Role.PATIENT, Role.DOCTOR)
# How often an open page asks for news: quickly while a payment is confirmed or a conversation runs,
# slowly while a paid consultation waits in the queue (each poll is an audited read).
POLL_MILLISECONDS = {"confirming": 3000, "in_progress": 4000, "waiting": 15000}


def load(consultation_id: int) -> Consultation:
    """The consultation, if the signed-in user is one of its two participants; 404 otherwise."""
    consultation = db.session.get(Consultation, consultation_id)
    if consultation is None or not consultations.visible_to(consultation, current_user):
        abort(404)
    return consultation


def state_of(consultation: Consultation) -> str:
    """What the polling script compares: a change in a status, or in a prescription the user sees,
    means the page is out of date."""
    from app.prescribing import queries as prescriptions

    payment = consultations.current_payment(consultation)
    shown = prescriptions.for_consultation(consultation, current_user)
    seen = ",".join(prescriptions.digest(p) for p in shown)
    return f"{consultation.status}/{payment.status if payment else ''}/{seen}"


def render_detail(consultation: Consultation, code: int = 200, **forms):
    """The consultation page; forms with errors from a failed action are passed in."""
    from app.prescribing import queries as prescriptions
    from app.prescribing import views as prescribing_views

    is_doctor = current_user.role == Role.DOCTOR
    payment = consultations.current_payment(consultation)
    confirming = (consultation.status == S.AWAITING_PAYMENT and payment is not None
                  and payment.status == PaymentStatus.PENDING and bool(payment.stripe_payment_intent_id))
    context = dict(
        consultation=consultation, payment=payment, confirming=confirming, is_doctor=is_doctor,
        messages=consultations.messages_after(consultation), state=state_of(consultation),
        poll_ms=POLL_MILLISECONDS.get("confirming" if confirming else str(consultation.status)),
        now=utcnow(),
        record=patient_record(consultation) if is_doctor else None,
        prescriptions=prescriptions.for_consultation(consultation, current_user),
        message_form=forms.get("message_form") or MessageForm(formdata=None),
    )
    if is_doctor:
        context.update(prescription_form=prescribing_views.start_form_for(consultation),
                       accept_form=AcceptForm(formdata=None),
                       decline_form=forms.get("decline_form") or DeclineForm(formdata=None),
                       refer_form=forms.get("refer_form") or ReferForm(formdata=None),
                       complete_form=CompleteForm(formdata=None),
                       note_form=forms.get("note_form") or NoteForm(formdata=None, obj=consultation))
    else:
        context.update(cancel_form=CancelForm(formdata=None),
                       rate_form=forms.get("rate_form") or RateForm(formdata=None))
    return render_template("consultations/detail.html", **context), code


def audited_view(consultation: Consultation, action: str = "consultation.viewed") -> None:
    record(action, obj=consultation, patient=consultation.patient_id)


def act(consultation: Consultation, verb, success: str, *args, money_pending: str | None = None):
    """Run one state change as one transaction; a refusal is flashed and nothing is kept.

    The money it moves (capture, release, refund) was recorded with it; it is sent to Stripe here,
    after the commit, with no row locked. If Stripe does not answer at once, the worker retries and
    the user reads `money_pending` instead of `success`.
    """
    try:
        verb(consultation, current_user._get_current_object(), *args)
    except DomainError as error:
        db.session.rollback()
        error.apply_to(None)
        audited_view(consultation, "consultation.action_refused")
        db.session.commit()
    else:
        db.session.commit()
        settled = payment_operations.perform_for_payable(consultations.PAYABLE, consultation.id)
        flash(success if settled or money_pending is None else money_pending, "success")
    return redirect(url_for("consultations.detail", consultation_id=consultation.id), code=303)


# ---- patient ---------------------------------------------------------------------------------------

@bp.route("/")
@roles_required(Role.PATIENT)
@patient_data
def index():
    patient = current_user._get_current_object()
    items = consultations.for_patient(patient)
    record("consultation.list_viewed", patient=patient)
    db.session.commit()
    return render_template("consultations/index.html", consultations=items, open_statuses=OPEN_STATUSES)


@bp.route("/new", methods=["GET", "POST"])
@roles_required(Role.PATIENT)
@patient_data
def book():
    patient = current_user._get_current_object()
    department = request.args.get("department", "").strip()
    form = BookForm()
    if form.validate_on_submit():
        files = [f for f in form.attachments.data or [] if f and f.filename]
        try:
            consultation = consultations.book(
                patient, condition_id=form.condition_id.data, doctor_id=form.doctor_id.data,
                reason=form.reason.data, files=files)
        except DomainError as error:
            db.session.rollback()
            error.apply_to(form)
        else:
            db.session.commit()
            flash(_("Your consultation is booked. Pay the consultation fee to join the doctor's queue."),
                  "success")
            return redirect(url_for("consultations.pay", consultation_id=consultation.id), code=303)
    # Read after any rollback, so the page shows what is really stored.
    conditions = consultations.verified_conditions(patient)
    doctors = consultations.bookable_doctors(department or None)
    language = current_language()
    form.condition_id.choices = [
        SelectChoice(c.id, f"{catalog.icd10_name(c.icd10_code, language, c.name)} ({c.icd10_code})")
        for c in conditions
    ]
    form.doctor_id.choices = [SelectChoice(d.id, d.display_name) for d, _waiting in doctors]
    record("consultation.booking_form_viewed", patient=patient)
    db.session.commit()
    return render_template("consultations/book.html", form=form, conditions=conditions, doctors=doctors,
                           departments=consultations.departments(), department=department)


@bp.route("/<int:consultation_id>")
@roles_required(*PARTICIPANTS)
@patient_data
def detail(consultation_id: int):
    consultation = load(consultation_id)
    audited_view(consultation)
    db.session.commit()
    return render_detail(consultation)


@bp.route("/<int:consultation_id>/pay", methods=["GET", "POST"])
@roles_required(Role.PATIENT)
@patient_data
def pay(consultation_id: int):
    consultation = load(consultation_id)
    stripe = gateway()
    detail_url = url_for("consultations.detail", consultation_id=consultation.id)
    if consultation.status != S.AWAITING_PAYMENT:
        audited_view(consultation)
        db.session.commit()
        flash(_("This consultation has already been paid.") if consultation.paid_at
              else _("This consultation can no longer be paid."), "info")
        return redirect(detail_url, code=303)
    live = payments.live_payment(consultations.PAYABLE, consultation.id)
    if live is not None and live.stripe_payment_intent_id and live.status == PaymentStatus.PENDING:
        if not stripe.is_local:  # back on the page before finishing: show the same Payment Element
            audited_view(consultation)
            db.session.commit()
            return payment_element(consultation, stripe.retrieve(live.stripe_payment_intent_id))
        if request.method == "GET":
            audited_view(consultation)
            db.session.commit()
            return redirect(detail_url, code=303)
    form = PayForm()
    form.test_card.choices = ([SelectChoice(card, label) for card, label in payments.TEST_CARDS.items()]
                              if stripe.is_local else [])
    if form.validate_on_submit():
        intent = start_payment(consultation, form, live, stripe.is_local)
        if intent is not None and stripe.is_local:
            flash(_("Thank you. We are confirming your payment with the bank."), "info")
            return redirect(detail_url, code=303)
        if intent is not None:
            return payment_element(consultation, intent)
    audited_view(consultation)
    db.session.commit()
    return render_template("consultations/pay.html", consultation=consultation, form=form,
                           is_local=stripe.is_local, payment=consultations.current_payment(consultation))


def start_payment(consultation, form, live, is_local: bool):
    """Create the payment (committed before Stripe is asked) and its intent; None with errors on `form`."""
    if is_local and not form.test_card.data:
        form.test_card.errors = [_("Choose a test card.")]
        return None
    try:
        # A pending row whose intent was never created (the request died) is completed, not duplicated.
        payment = live if live is not None and not live.stripe_payment_intent_id else \
            consultations.start_payment(consultation, method_type=form.method_type.data)
    except DomainError as error:
        db.session.rollback()
        error.apply_to(form)
        return None
    db.session.commit()  # the idempotency key belongs to this row: it must exist before Stripe is asked
    try:
        intent = payments.attach_intent(payment, form.test_card.data if is_local else None)
    except DomainError as error:
        db.session.commit()  # keep the declined payment and its audit row
        error.apply_to(form)
        return None
    audited_view(consultation, "consultation.payment_started")
    db.session.commit()
    return intent


def payment_element(consultation, intent):
    """Stripe's Payment Element: the only page whose policy lets js.stripe.com in."""
    allow_in_csp("script-src", "https://js.stripe.com")
    allow_in_csp("frame-src", "https://js.stripe.com", "https://hooks.stripe.com")
    allow_in_csp("connect-src", "https://api.stripe.com")
    return render_template(
        "consultations/pay_element.html", consultation=consultation, client_secret=intent.client_secret,
        publishable_key=current_app.config["STRIPE_PUBLISHABLE_KEY"],
        return_url=url_for("consultations.detail", consultation_id=consultation.id, _external=True))


@bp.route("/<int:consultation_id>/cancel", methods=["POST"])
@roles_required(Role.PATIENT)
@patient_data
def cancel(consultation_id: int):
    consultation = load(consultation_id)
    if not CancelForm().validate_on_submit():
        abort(400)
    return act(consultation, consultations.cancel,
               _("Your consultation is cancelled. Any amount held on your card has been released."),
               money_pending=_("Your consultation is cancelled. The amount held on your card will be "
                               "released shortly."))


@bp.route("/<int:consultation_id>/rate", methods=["POST"])
@roles_required(Role.PATIENT)
@patient_data
def rate(consultation_id: int):
    consultation = load(consultation_id)
    form = RateForm()
    if not form.validate_on_submit():
        audited_view(consultation)
        db.session.commit()
        return render_detail(consultation, 400, rate_form=form)
    return act(consultation, consultations.rate, _("Thank you for your rating."),
               form.rating.data, form.comment.data)


# ---- both participants -------------------------------------------------------------------------------

@bp.route("/<int:consultation_id>/messages", methods=["POST"])
@roles_required(*PARTICIPANTS)
@patient_data
def post_message(consultation_id: int):
    consultation = load(consultation_id)
    form = MessageForm()
    if form.validate_on_submit():
        try:
            consultations.post_message(consultation, current_user._get_current_object(), form.body.data,
                                       form.attachment.data)
        except DomainError as error:
            db.session.rollback()
            error.apply_to(form)
        else:
            db.session.commit()
            return redirect(url_for("consultations.detail", consultation_id=consultation.id,
                                    _anchor="message-form"), code=303)
    audited_view(consultation, "consultation.message_refused")
    db.session.commit()
    return render_detail(consultation, 400, message_form=form)


def message_json(message) -> dict:
    upload = message.upload
    return {
        "id": message.id,
        "mine": message.sender_id == current_user.id,
        "sender": message.sender.display_name,
        "body": message.body,  # plain text: the script sets it with textContent
        "sent_at": format_datetime(message.created_at, "yyyy-MM-dd HH:mm"),
        "attachment": ({"url": url_for("patients.upload", upload_id=upload.id), "name": upload.original_name}
                       if upload else None),
    }


@bp.route("/<int:consultation_id>/messages")
@roles_required(*PARTICIPANTS)
@patient_data
def messages(consultation_id: int):
    consultation = load(consultation_id)
    after_id = numbers.id_or_none(request.args.get("after", "")) or 0
    found = consultations.messages_after(consultation, after_id)
    audited_view(consultation, "consultation.messages_read")
    db.session.commit()
    return jsonify(messages=[message_json(m) for m in found], status=str(consultation.status),
                   state=state_of(consultation))


@bp.route("/<int:consultation_id>/status")
@roles_required(*PARTICIPANTS)
@patient_data
def status(consultation_id: int):
    consultation = load(consultation_id)
    payment = consultations.current_payment(consultation)
    audited_view(consultation, "consultation.status_read")
    db.session.commit()
    return jsonify(status=str(consultation.status), payment=str(payment.status) if payment else None,
                   state=state_of(consultation))


from app.consultations import doctor_views  # noqa: E402,F401
