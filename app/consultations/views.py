"""Consultation pages for patients (book, pay, follow, cancel, rate) and the shared thread and status."""

from flask import abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from app import numbers
from app.accounts.models import Role
from app.audit.services import record
from app.consultations import bp, queries
from app.consultations import services as consultations
from app.consultations.actors import PHONE_UNVERIFIED_BOOKING, PHONE_UNVERIFIED_PAYMENT
from app.consultations.forms import BookForm, CancelForm, MessageForm, PayForm, RateForm
from app.consultations.models import PAYABLE
from app.consultations.pages import (
    PARTICIPANTS,
    audit_poll,
    audited_view,
    current_state,
    flash_after_money,
    load,
    phone_verified,
    polled,
    refusal_audited,
    render_detail,
    to_detail,
)
from app.consultations.states import OPEN_STATUSES, ConsultationStatus
from app.extensions import db
from app.i18n import current_language
from app.patients import catalog
from app.payments import services as payments
from app.payments.models import PaymentStatus
from app.payments.pages import payment_element as payment_page
from app.policy import patient_data, roles_required
from app.transaction import perform

S = ConsultationStatus
CANCELLABLE = (S.AWAITING_PAYMENT, S.WAITING)


# ---- patient ---------------------------------------------------------------------------------------

@bp.route("/")
@roles_required(Role.PATIENT)
@patient_data
def index():
    patient = current_user._get_current_object()
    after = request.args.get("after", "")
    listed = queries.for_patient(patient, after=after)
    record("consultation.list_viewed", patient=patient,
           detail="consultations=" + (",".join(str(c.id) for c in listed.rows) or "-"))
    # Rendered before the commit: committing first would expire what the query loaded in bulk.
    page = render_template("consultations/index.html", consultations=listed.rows, page=listed, after=after,
                           open_statuses=OPEN_STATUSES)
    db.session.commit()
    return page


@bp.route("/new", methods=["GET", "POST"])
@roles_required(Role.PATIENT)
@patient_data
@phone_verified(PHONE_UNVERIFIED_BOOKING)
def book():
    patient = current_user._get_current_object()
    department = request.args.get("department", "").strip()
    form = BookForm()
    if request.method == "GET":  # "book again" (home) and "refill" (an order) name what they can
        form.condition_id.data = numbers.id_or_none(request.args.get("condition_id", ""))
        form.doctor_id.data = numbers.id_or_none(request.args.get("doctor_id", ""))
        if request.args.get("refill"):
            form.reason.data = _("Follow-up for a refill: my supply is running out.")
    if form.validate_on_submit():
        booked = []
        files = [f for f in form.attachments.data or [] if f and f.filename]
        done = _("Your consultation is booked. Pay the consultation fee to join the doctor's queue.")
        if perform(lambda: booked.append(consultations.book(
                patient, condition_id=form.condition_id.data, doctor_id=form.doctor_id.data,
                reason=form.reason.data, files=files)), form=form, success=done):
            return redirect(url_for("consultations.pay", consultation_id=booked[0].id), code=303)
    # Read after any rollback, so the page shows what is really stored.
    conditions = consultations.verified_conditions(patient)
    doctors = queries.bookable_doctors(department or None)
    language = current_language()
    form.condition_id.choices = [
        SelectChoice(c.id, f"{catalog.icd10_name(c.icd10_code, language, c.name)} ({c.icd10_code})")
        for c in conditions
    ]
    form.doctor_id.choices = [SelectChoice(d.id, d.display_name) for d, _waiting in doctors]
    record("consultation.booking_form_viewed", patient=patient)
    db.session.commit()
    return render_template("consultations/book.html", form=form, conditions=conditions, doctors=doctors,
                           departments=queries.departments(), department=department)


@bp.route("/<int:consultation_id>")
@roles_required(*PARTICIPANTS)
@patient_data
def detail(consultation_id: int):
    consultation = load(consultation_id, *queries.page_loads())
    audited_view(consultation)
    return render_detail(consultation)


@bp.route("/<int:consultation_id>/pay", methods=["GET", "POST"])
@roles_required(Role.PATIENT)
@patient_data
@phone_verified(PHONE_UNVERIFIED_PAYMENT)
def pay(consultation_id: int):
    consultation = load(consultation_id)
    test_cards = current_app.config["STRIPE_TEST_CARDS"]
    if consultation.status != S.AWAITING_PAYMENT:
        audited_view(consultation)
        db.session.commit()
        flash(_("This consultation has already been paid.") if consultation.paid_at
              else _("This consultation can no longer be paid."), "info")
        return to_detail(consultation)
    live = payments.live_payment(PAYABLE, consultation.id)
    if live is not None and live.stripe_payment_intent_id and live.status == PaymentStatus.PENDING:
        if not test_cards:  # back on the page before finishing: show the same Payment Element
            audited_view(consultation)
            db.session.commit()
            return payment_element(consultation, payments.resume(live))
        if request.method == "GET":  # a test card confirms at once: the page says how it went
            audited_view(consultation)
            db.session.commit()
            return to_detail(consultation)
    form = PayForm()
    form.test_card.choices = ([SelectChoice(card, label) for card, label in payments.TEST_CARDS.items()]
                              if test_cards else [])
    if form.validate_on_submit():
        started = []

        def start():
            started.append(payments.start(
                lambda: consultations.start_payment(consultation, method_type=form.method_type.data),
                test_card=form.test_card.data))
            audited_view(consultation, "consultation.payment_started")

        if perform(start, form=form):
            if not test_cards:
                return payment_element(consultation, started[0])
            flash(_("Thank you. We are confirming your payment with the bank."), "info")
            return to_detail(consultation)
    audited_view(consultation)
    db.session.commit()
    return render_template("consultations/pay.html", consultation=consultation, form=form,
                           test_cards=test_cards, payment=queries.current_payment(consultation))


def payment_element(consultation, intent):
    return payment_page(intent, heading=_("Pay the consultation fee"), amount_label=_("Consultation fee"),
                        amount_fen=consultation.fee_fen, back_label=_("Back to the consultation"),
                        back_url=url_for("consultations.detail", consultation_id=consultation.id),
                        return_url=url_for("consultations.detail", consultation_id=consultation.id,
                                           _external=True))


@bp.route("/<int:consultation_id>/cancel", methods=["GET", "POST"])
@roles_required(Role.PATIENT)
@patient_data
def cancel(consultation_id: int):
    """GET asks "are you sure?" on a page of its own, so it needs no script; POST cancels."""
    consultation = load(consultation_id)
    form = CancelForm()
    if request.method == "GET":
        audited_view(consultation)
        db.session.commit()
        if consultation.status not in CANCELLABLE:
            flash(_("A consultation can only be cancelled before a doctor accepts it."), "info")
            return to_detail(consultation)
        return render_template("consultations/cancel.html", consultation=consultation, form=form,
                               payment=queries.current_payment(consultation))
    if not form.validate_on_submit():
        abort(400)
    patient = current_user._get_current_object()
    if perform(lambda: consultations.cancel(consultation, patient), refused=refusal_audited(consultation)):
        flash_after_money(
            consultation,
            _("Your consultation is cancelled. Any amount held on your card has been released."),
            money_pending=_("Your consultation is cancelled. The amount held on your card will be "
                            "released shortly."))
    return to_detail(consultation)


@bp.route("/<int:consultation_id>/rate", methods=["POST"])
@roles_required(Role.PATIENT)
@patient_data
def rate(consultation_id: int):
    consultation = load(consultation_id)
    form = RateForm()
    if not form.validate_on_submit():
        audited_view(consultation)
        return render_detail(consultation, 400, rate_form=form)
    patient = current_user._get_current_object()
    perform(lambda: consultations.rate(consultation, patient, form.rating.data, form.comment.data),
            success=_("Thank you for your rating."), refused=refusal_audited(consultation))
    return to_detail(consultation)


# ---- both participants -------------------------------------------------------------------------------

@bp.route("/<int:consultation_id>/messages", methods=["POST"])
@roles_required(*PARTICIPANTS)
@patient_data
def post_message(consultation_id: int):
    consultation = load(consultation_id)
    form = MessageForm()
    sender = current_user._get_current_object()
    if form.validate_on_submit() and perform(
            lambda: consultations.post_message(consultation, sender, form.body.data, form.attachment.data),
            form=form):
        # The id from the URL: the commit expired the consultation, and reading it would fetch it again.
        return redirect(url_for("consultations.detail", consultation_id=consultation_id,
                                _anchor="message-form"), code=303)
    audited_view(consultation, "consultation.message_refused")
    return render_detail(consultation, 400, message_form=form)


@bp.route("/<int:consultation_id>/messages/earlier")
@roles_required(*PARTICIPANTS)
@patient_data
def earlier_messages(consultation_id: int):
    """The thread before the latest messages the consultation page shows, a page at a time."""
    consultation = load(consultation_id)
    after = request.args.get("after", "")
    thread = queries.thread_page(consultation, after=after)
    audited_view(consultation, "consultation.messages_read")
    page = render_template("consultations/messages.html", consultation=consultation, thread=thread)
    db.session.commit()
    return page


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
@polled
def messages(consultation_id: int):
    """New messages after `after` (the last id the page has) and the state, compared with `state`."""
    consultation = load(consultation_id)
    after_id = numbers.id_or_none(request.args.get("after", "")) or 0
    found = queries.messages_after(consultation, after_id)
    state = current_state(consultation, queries.current_payment(consultation))
    audit_poll(consultation, "consultation.messages_read", bool(found) or state != request.args.get("state"))
    return jsonify(messages=[message_json(m) for m in found], status=str(consultation.status), state=state)


@bp.route("/<int:consultation_id>/status")
@roles_required(*PARTICIPANTS)
@polled
def status(consultation_id: int):
    """The status and the state, compared with `state` (what the page was rendered with)."""
    consultation = load(consultation_id)
    payment = queries.current_payment(consultation)
    state = current_state(consultation, payment)
    audit_poll(consultation, "consultation.status_read", state != request.args.get("state"))
    return jsonify(status=str(consultation.status), payment=str(payment.status) if payment else None,
                   state=state)
