"""Store pages for pharmacists: the store's orders, dispensing with lot and code scans, the label, and
handing an order over against the patient's pickup code."""

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from app import limits
from app.accounts.models import Role
from app.audit.services import record
from app.delivery import services as deliveries
from app.delivery.forms import PackForm
from app.errors import DomainError
from app.extensions import db
from app.orders import bp, dispensing, queries, returns
from app.orders.forms import DispenseForm, HandOverForm, ReplaceForm, TakeBackForm
from app.orders.models import PAYABLE, Dispense, Order, OrderLine
from app.orders.states import OrderStatus as S
from app.patients.queries import active_allergies
from app.payments import operations as payment_operations
from app.policy import patient_data, roles_required
from app.transaction import perform


def _store_order(order_id: int) -> Order:
    """An order of the signed-in pharmacist's own store; 404 for any other store's."""
    order = db.session.scalar(select(Order).where(Order.id == order_id).options(
        joinedload(Order.patient), selectinload(Order.lines).joinedload(OrderLine.drug)))
    if order is None or not dispensing.works_here(order, current_user):
        abort(404)
    return order


@bp.route("/store")
@roles_required(Role.PHARMACIST)
@patient_data
def store_orders():
    store_id = current_user.pharmacist_profile.home_store_id if current_user.pharmacist_profile else None
    shown, total = queries.store_queue(store_id, limits.QUEUE_SHOWN)
    record("order.store_list_viewed", detail="orders=" + (",".join(str(o.id) for o in shown) or "-"))
    page = render_template("orders/store.html", orders=shown, total=total)
    db.session.commit()
    return page


@bp.route("/<int:order_id>/dispense", methods=["GET", "POST"])
@roles_required(Role.PHARMACIST)
@patient_data
def dispense(order_id: int):
    order = _store_order(order_id)
    form = DispenseForm()
    if request.method == "POST" and form.validate_on_submit():
        pharmacist = current_user._get_current_object()
        scans = {line.id: (request.form.get(f"lot_{line.id}", ""), request.form.get(f"codes_{line.id}", ""))
                 for line in order.lines}
        errors = {}

        def refused(error: DomainError):
            errors.update(error.reasons)
            record("order.dispense_refused", obj=order, patient=order.patient_id)

        def act():
            dispensing.dispense(order, pharmacist, scans, request.form.getlist("checklist"))

        if perform(act, refused=refused):
            flash(_("Dispensed. Print the label for the bag.") if order.status == S.READY_FOR_PICKUP
                  else _("Dispensed. Print the label; the order now waits for the courier."), "success")
            return redirect(url_for("orders.dispense", order_id=order.id), code=303)
        page = render_template("orders/dispense.html", **_context(order, form, errors))
        db.session.commit()
        return page, 400
    record("order.dispensing_viewed", obj=order, patient=order.patient_id)
    page = render_template("orders/dispense.html", **_context(order, form, {}))
    db.session.commit()
    return page


def _pack_form(order: Order, form_class=PackForm) -> PackForm:
    form = form_class()
    form.courier_id.choices = [(c.id, c.display_name) for c in deliveries.store_couriers(order.store_id)]
    return form


def _context(order: Order, form, errors: dict, pack_form: PackForm | None = None, *,
             replace_form=None, take_back_form=None) -> dict:
    return dict(order=order, form=form, held=dispensing.held(order), checklist=dispensing.CHECKLIST,
                pack_form=pack_form or _pack_form(order),
                replace_form=replace_form or replace_form_for(order),
                take_back_form=take_back_form or take_back_form_for(order),
                allergies=active_allergies(order.patient), hand_over_form=HandOverForm(), errors=errors,
                typed=request.form, dispensed=db.session.scalar(select(Dispense).where(
                    Dispense.order_id == order.id).options(selectinload(Dispense.packs))))


def take_back_form_for(order: Order) -> TakeBackForm | None:
    """The cancel-and-refund form, while the dispensed packs are in the store."""
    if not returns.at_the_store(order) or order.dispensed_at is None:
        return None
    form = TakeBackForm()
    form.reason.choices = [("", _("Choose…"))] + [(code, str(label))
                                                   for code, label in returns.REASONS.items()]
    return form


def replace_form_for(order: Order) -> ReplaceForm | None:
    delivery = order.delivery
    if delivery is None or not delivery.has_open_excursion or not returns.at_the_store(order):
        return None
    return _pack_form(order, ReplaceForm)



@bp.route("/<int:order_id>/pack", methods=["POST"])
@roles_required(Role.PHARMACIST)
@patient_data
def pack(order_id: int):
    """The dispensed order packed (cold box, ice packs, temperature) and handed to a courier."""
    order = _store_order(order_id)
    form = _pack_form(order)
    pharmacist = current_user._get_current_object()

    def act():
        deliveries.pack(order, pharmacist, courier_id=form.courier_id.data, cold_box=form.cold_box.data,
                        ice_packs=form.ice_packs.data or "0",
                        packing_temperature=form.packing_temperature.data, carrier=form.carrier.data,
                        tracking_number=form.tracking_number.data)

    if form.validate_on_submit() and perform(
            act, form=form, success=_("Packed. The courier can pick it up."),
            refused=lambda _e: record("delivery.pack_refused", obj=order, patient=order.patient_id)):
        return redirect(url_for("orders.dispense", order_id=order.id), code=303)
    record("order.dispensing_viewed", obj=order, patient=order.patient_id)
    page = render_template("orders/dispense.html", **_context(order, DispenseForm(), {}, form))
    db.session.commit()
    return page, 400


@bp.route("/<int:order_id>/label.pdf")
@roles_required(Role.PHARMACIST)
@patient_data
def label(order_id: int):
    order = _store_order(order_id)
    dispensed = db.session.scalar(select(Dispense).where(Dispense.order_id == order.id))
    if dispensed is None:
        abort(404)
    record("order.label_printed", obj=order, patient=order.patient_id)
    from app.orders.label_pdf import label_pdf  # reportlab loads on the first PDF, not at every start

    body = label_pdf(order, dispensed)
    db.session.commit()
    return Response(body, mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="order-{order.id}-label.pdf"'})


@bp.route("/<int:order_id>/hand-over", methods=["POST"])
@roles_required(Role.PHARMACIST)
@patient_data
def hand_over(order_id: int):
    order = _store_order(order_id)
    form = HandOverForm()
    pharmacist = current_user._get_current_object()
    outcome = []
    if form.validate_on_submit():
        def act():
            outcome.append(dispensing.hand_over(order, pharmacist, form.code.data))

        if perform(act, form=form, refused=lambda _e: record("order.handover_refused", obj=order,
                                                             patient=order.patient_id)):
            if outcome[0]:
                payment_operations.perform_for_payable(PAYABLE, order.id)
                flash(_("Handed over. The order is complete."), "success")
            else:
                flash(_("That is not this order's pickup code."), "danger")
    else:
        record("order.handover_refused", obj=order, patient=order.patient_id)
        db.session.commit()
        flash(_("Type the 6-digit pickup code the patient shows."), "danger")
    return redirect(url_for("orders.dispense", order_id=order.id), code=303)
