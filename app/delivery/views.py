"""The courier's pages (phone-sized): their open deliveries and each trip's record; the pharmacist's
packing action lives on the dispensing page (app/orders/staff_views.py)."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from app import limits
from app.accounts.models import Role
from app.audit.services import record
from app.delivery import bp
from app.delivery import services as deliveries
from app.delivery.forms import TripForm
from app.delivery.models import Delivery
from app.delivery.states import DeliveryStatus as D
from app.extensions import db
from app.orders.models import PAYABLE, Order
from app.payments import operations as payment_operations
from app.policy import patient_data, roles_required
from app.transaction import perform

OPEN = (D.ASSIGNED, D.PICKED_UP, D.IN_TRANSIT, D.FAILED_ATTEMPT)


def _mine(delivery_id: int) -> Delivery:
    """One of the signed-in courier's own deliveries; 404 for another courier's."""
    delivery = db.session.scalar(select(Delivery).where(Delivery.id == delivery_id).options(
        joinedload(Delivery.order).joinedload(Order.patient)))
    if delivery is None or delivery.courier_id != current_user.id:
        abort(404)
    return delivery


def _open_deliveries(courier_id: int):
    # ix_deliveries_courier_status (courier_id, status) finds them.
    return select(Delivery).where(Delivery.courier_id == courier_id, Delivery.status.in_(OPEN))


@bp.route("/")
@roles_required(Role.COURIER)
@patient_data
def index():
    # The courier's open trips, longest waiting first; a full list says how many more there are.
    mine = db.session.scalars(
        _open_deliveries(current_user.id).options(joinedload(Delivery.order).joinedload(Order.patient))
        .order_by(Delivery.packed_at, Delivery.id).limit(limits.QUEUE_SHOWN)).all()
    total = len(mine)
    if total == limits.QUEUE_SHOWN:
        counted = _open_deliveries(current_user.id).with_only_columns(func.count(Delivery.id))
        total = db.session.scalar(counted)
    record("delivery.list_viewed", detail="deliveries=" + (",".join(str(d.id) for d in mine) or "-"))
    page = render_template("delivery/index.html", deliveries=mine, total=total)
    db.session.commit()
    return page


@bp.route("/<int:delivery_id>", methods=["GET", "POST"])
@roles_required(Role.COURIER)
@patient_data
def trip(delivery_id: int):
    delivery = _mine(delivery_id)
    form = TripForm()
    if request.method == "POST" and form.validate_on_submit():
        courier = current_user._get_current_object()
        step, outcome = form.step.data, []

        def act():
            if step == "picked_up":
                deliveries.picked_up(delivery, courier, form.temperature.data)
            elif step == "in_transit":
                deliveries.in_transit(delivery, courier, form.temperature.data, form.note.data)
            elif step == "failed_attempt":
                deliveries.failed_attempt(delivery, courier, form.note.data)
            elif step == "returned":
                deliveries.returned(delivery, courier, form.note.data, form.temperature.data)
            elif step == "delivered":
                outcome.append(deliveries.delivered(
                    delivery, courier, code=form.code.data, recipient=form.recipient.data,
                    relationship=form.relationship.data, reading=form.temperature.data))
            else:
                abort(400)

        refused = lambda _error: record("delivery.action_refused", obj=delivery,  # noqa: E731
                                        patient=delivery.order.patient_id, detail=step)
        if perform(act, form=form, refused=refused):
            if step == "picked_up":
                # The card is captured when the parcel leaves: now, rather than at the worker's next sweep.
                payment_operations.perform_for_payable(PAYABLE, delivery.order_id)
            if outcome and not outcome[0]:
                flash(_("That is not the patient's code."), "danger")
            else:
                flash(_("Recorded."), "success")
            return redirect(url_for("delivery.trip", delivery_id=delivery.id), code=303)
    record("delivery.viewed", obj=delivery, patient=delivery.order.patient_id)
    page = render_template("delivery/trip.html", delivery=delivery, form=form)
    db.session.commit()
    return page
