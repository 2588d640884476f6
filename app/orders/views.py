"""Order pages for patients: choose a store, pay, follow the order, cancel it before dispensing."""

from datetime import timedelta

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms.fields.choices import SelectChoice

from app.accounts.models import Role
from app.audit.services import record
from app.consultations.actors import PHONE_UNVERIFIED_PAYMENT
from app.consultations.forms import PayForm
from app.consultations.pages import phone_verified
from app.database import utcnow
from app.delivery import services as deliveries
from app.errors import DomainError
from app.extensions import db
from app.inventory.rules import TRANSFER_TRANSIT_DAYS
from app.orders import bp, dispensing, queries
from app.orders import services as orders
from app.orders.forms import CancelForm, NewCodeForm, PlaceForm
from app.orders.models import PAYABLE, Fulfilment, Order
from app.orders.states import PATIENT_CANCELLABLE
from app.orders.states import OrderStatus as S
from app.patients.queries import active_addresses
from app.payments import operations as payment_operations
from app.payments import services as payments
from app.payments.models import PaymentStatus
from app.payments.pages import payment_element
from app.policy import patient_data, roles_required
from app.prescribing.models import Prescription, PrescriptionItem
from app.prescribing.services import local_date
from app.transaction import perform


def _own_prescription(prescription_id: int) -> Prescription:
    prescription = db.session.scalar(
        select(Prescription).where(Prescription.id == prescription_id)
        .options(selectinload(Prescription.items).joinedload(PrescriptionItem.drug)))
    if prescription is None or prescription.patient_id != current_user.id:
        abort(404)
    return prescription


def load(order_id: int) -> Order:
    """The signed-in patient's own order; 404 for anyone else's."""
    order = db.session.get(Order, order_id)
    if order is None or order.patient_id != current_user.id:
        abort(404)
    return order


def _priced(order: Order) -> list[tuple]:
    return [(line.drug, line.packs, line.unit_price_fen) for line in order.lines]


def pickup_qr(code: str) -> Markup:
    """The pickup code as an inline SVG QR code the counter's scanner reads off the patient's phone."""
    import segno  # only this page draws QR codes

    return Markup(segno.make(code, error="m").svg_inline(scale=5, title=None))  # noqa: S704  (our SVG)


def _viewed(order: Order, action: str = "order.viewed") -> None:
    record(action, obj=order, patient=order.patient_id)


def _to_detail(order: Order):
    return redirect(url_for("orders.detail", order_id=order.id), code=303)


@bp.route("/")
@roles_required(Role.PATIENT)
@patient_data
def index():
    patient = current_user._get_current_object()
    after = request.args.get("after", "")
    listed = queries.for_patient(patient, after=after)
    record("order.list_viewed", patient=patient,
           detail="orders=" + (",".join(str(o.id) for o in listed.rows) or "-"))
    page = render_template("orders/index.html", orders=listed.rows, page=listed, after=after)
    db.session.commit()
    return page


@bp.route("/new/<int:prescription_id>", methods=["GET", "POST"])
@roles_required(Role.PATIENT)
@patient_data
def choose(prescription_id: int):
    """The stores that can fill the prescription, for pickup or delivery; POST places the order."""
    patient = current_user._get_current_object()
    prescription = _own_prescription(prescription_id)
    form = PlaceForm()
    if request.method == "POST":
        placed = []

        def place():
            placed.append(orders.place(prescription, patient, store_id=_integer(form.store_id.data),
                                       fulfilment=form.fulfilment.data or "",
                                       address_id=_integer(form.address_id.data)))

        refused = lambda _error: record("order.place_refused", obj=prescription, patient=patient)  # noqa: E731
        if form.validate_on_submit() and perform(place, form=form, refused=refused):
            return redirect(url_for("orders.pay", order_id=placed[0].id), code=303)
        if not form.errors:
            return redirect(request.full_path, code=303)
    existing = queries.holding_order(prescription.id)
    if existing is not None:
        record("prescription.viewed", obj=prescription, patient=patient)
        db.session.commit()
        flash(_("This prescription has already been ordered."), "info")
        return _to_detail(existing)
    how = request.args.get("how", Fulfilment.PICKUP)
    addresses = active_addresses(patient)
    address = next((a for a in addresses if str(a.id) == request.args.get("address", "")),
                   addresses[0] if addresses else None)
    barred = orders.never_delivered(prescription)
    problem, options = None, None
    try:
        orders.check_orderable(prescription)
        if how == Fulfilment.DELIVERY and not barred and address is not None:
            options = orders.store_options(prescription, patient, address=address)
        elif how != Fulfilment.DELIVERY:
            options = orders.store_options(prescription, patient)
    except DomainError as error:
        problem = str(error)
    record("order.stores_viewed", obj=prescription, patient=patient, detail=f"{how}")
    priced = [(item.drug, item.quantity_packs, item.drug.price_fen) for item in prescription.items]
    later = options.after_transfer if options else []
    page = render_template(
        "orders/choose.html", prescription=prescription, form=form, how=how, addresses=addresses,
        address=address, barred=barred, options=options, problem=problem, priced=priced,
        goods=sum(packs * unit for _, packs, unit in priced), fee=orders.delivery_fee(prescription),
        ready_on={o.store.id: o.store.today() + timedelta(days=TRANSFER_TRANSIT_DAYS) for o in later})
    db.session.commit()
    return page


def _integer(value) -> int | None:
    text = str(value or "")
    return int(text) if text.isascii() and text.isdigit() and len(text) < 10 else None


@bp.route("/<int:order_id>")
@roles_required(Role.PATIENT)
@patient_data
def detail(order_id: int):
    order = load(order_id)
    _viewed(order)
    ready = order.status == S.READY_FOR_PICKUP and order.handover_code
    page = render_template("orders/detail.html", order=order, payment=queries.current_payment(order),
                           cancellable=order.status in PATIENT_CANCELLABLE, priced=_priced(order),
                           code_qr=pickup_qr(order.handover_code) if ready else None,
                           new_code_form=NewCodeForm(),
                           refill_by=queries.refill_due(order, local_date(utcnow())))
    db.session.commit()
    return page


@bp.route("/<int:order_id>/pay", methods=["GET", "POST"])
@roles_required(Role.PATIENT)
@patient_data
@phone_verified(PHONE_UNVERIFIED_PAYMENT)
def pay(order_id: int):
    order = load(order_id)
    test_cards = current_app.config["STRIPE_TEST_CARDS"]
    if order.status != S.AWAITING_PAYMENT:
        _viewed(order)
        db.session.commit()
        flash(_("This order has already been paid.") if order.paid_at else
              _("This order can no longer be paid."), "info")
        return _to_detail(order)
    live = payments.live_payment(PAYABLE, order.id)
    if live is not None and live.stripe_payment_intent_id and live.status == PaymentStatus.PENDING:
        _viewed(order)
        db.session.commit()
        if not test_cards:  # back on the page before finishing: show the same Payment Element
            return _payment_element(order, payments.resume(live))
        if request.method == "GET":
            return _to_detail(order)
    form = PayForm()
    form.test_card.choices = ([SelectChoice(card, label) for card, label in payments.TEST_CARDS.items()]
                              if test_cards else [])
    if form.validate_on_submit():
        started = []

        def start():
            started.append(payments.start(
                lambda: orders.start_payment(order, method_type=form.method_type.data),
                test_card=form.test_card.data))
            _viewed(order, "order.payment_started")

        if perform(start, form=form, refused=lambda _error: _viewed(order, "order.payment_refused")):
            if not test_cards:
                return _payment_element(order, started[0])
            flash(_("Thank you. We are confirming your payment with the bank."), "info")
            return _to_detail(order)
    _viewed(order)
    page = render_template("orders/pay.html", order=order, form=form, test_cards=test_cards,
                           payment=queries.current_payment(order), priced=_priced(order))
    db.session.commit()
    return page


def _payment_element(order: Order, intent):
    return payment_element(intent, heading=_("Pay for your medicines"), amount_label=_("Total"),
                           amount_fen=order.total_fen, back_label=_("Back to the order"),
                           back_url=url_for("orders.detail", order_id=order.id),
                           return_url=url_for("orders.detail", order_id=order.id, _external=True))


@bp.route("/<int:order_id>/cancel", methods=["GET", "POST"])
@roles_required(Role.PATIENT)
@patient_data
def cancel(order_id: int):
    """GET asks "are you sure?" on a page of its own, so it needs no script; POST cancels."""
    order = load(order_id)
    form = CancelForm()
    if request.method == "GET" or not form.validate_on_submit():
        _viewed(order)
        db.session.commit()
        if order.status not in PATIENT_CANCELLABLE:
            flash(_("This order can no longer be cancelled: the store has started dispensing it."), "info")
            return _to_detail(order)
        return render_template("orders/cancel.html", order=order, form=form,
                               payment=queries.current_payment(order), priced=_priced(order))
    patient = current_user._get_current_object()
    if perform(lambda: orders.cancel_by_patient(order, patient), form=form,
               refused=lambda _error: _viewed(order, "order.cancel_refused")):
        settled = payment_operations.perform_for_payable(PAYABLE, order.id)
        flash(_("The order is cancelled. Nothing is charged; money already taken is refunded.") if settled
              else _("The order is cancelled. The money is being released; this can take a few minutes."),
              "success")
    return _to_detail(order)


@bp.route("/<int:order_id>/new-code", methods=["POST"])
@roles_required(Role.PATIENT)
@patient_data
def new_code(order_id: int):
    order = load(order_id)
    patient = current_user._get_current_object()
    if NewCodeForm().validate_on_submit():
        perform(lambda: dispensing.new_handover_code(order, patient),
                success=_("Here is a new pickup code; the old one no longer works."),
                refused=lambda _error: _viewed(order, "order.code_refused"))
    else:
        _viewed(order, "order.code_refused")
        db.session.commit()
    return _to_detail(order)


@bp.route("/<int:order_id>/received", methods=["POST"])
@roles_required(Role.PATIENT)
@patient_data
def confirm_receipt(order_id: int):
    order = load(order_id)
    patient = current_user._get_current_object()
    if NewCodeForm().validate_on_submit():
        perform(lambda: deliveries.confirm_receipt(order, patient), success=_("Thank you for confirming."),
                refused=lambda _error: _viewed(order, "order.receipt_refused"))
    else:
        _viewed(order, "order.receipt_refused")
        db.session.commit()
    return _to_detail(order)
