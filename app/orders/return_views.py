"""Store pages for taking a dispensed order back: cancel and refund, or replace packs after a
cold-chain excursion (both on the dispensing page)."""

from flask import redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.accounts.models import Role
from app.audit.services import record
from app.errors import DomainError
from app.extensions import db
from app.orders import bp, returns, staff_views
from app.orders.forms import DispenseForm, ReplaceForm, TakeBackForm
from app.orders.models import PAYABLE, Order
from app.payments import operations as payment_operations
from app.policy import patient_data, roles_required
from app.transaction import perform


def _page(order: Order, errors: dict | None = None, **forms):
    page = render_template("orders/dispense.html", **staff_views._context(order, DispenseForm(), errors or {},
                                                                          **forms))
    db.session.commit()
    return page, 400


@bp.route("/<int:order_id>/take-back", methods=["POST"])
@roles_required(Role.PHARMACIST)
@patient_data
def take_back(order_id: int):
    order = staff_views._store_order(order_id)
    form = staff_views.take_back_form_for(order) or TakeBackForm()
    pharmacist = current_user._get_current_object()

    def act():
        returns.cancel_after_dispensing(order, pharmacist, form.reason.data or "", form.note.data or "")

    refused = lambda _e: record("order.take_back_refused", obj=order, patient=order.patient_id)  # noqa: E731
    if form.validate_on_submit() and perform(
            act, form=form, refused=refused,
            success=_("Cancelled. The packs are in quarantine and the patient's money is being returned.")):
        payment_operations.perform_for_payable(PAYABLE, order.id)
        return redirect(url_for("orders.dispense", order_id=order.id), code=303)
    if not form.errors:
        form.reason.errors = [_("This order cannot be cancelled by the store now.")]
    record("order.dispensing_viewed", obj=order, patient=order.patient_id)
    return _page(order, take_back_form=form)


@bp.route("/<int:order_id>/replace", methods=["POST"])
@roles_required(Role.PHARMACIST)
@patient_data
def replace(order_id: int):
    order = staff_views._store_order(order_id)
    form = staff_views.replace_form_for(order) or staff_views._pack_form(order, ReplaceForm)
    pharmacist = current_user._get_current_object()
    scans = {line.id: (request.form.get(f"lot_{line.id}", ""), request.form.get(f"codes_{line.id}", ""))
             for line in order.lines}
    errors: dict = {}

    def act():
        packing = dict(courier_id=form.courier_id.data, cold_box=form.cold_box.data,
                       ice_packs=form.ice_packs.data or "0",
                       packing_temperature=form.packing_temperature.data)
        returns.replace_after_excursion(order, pharmacist, scans, request.form.getlist("checklist"), packing)

    def refused(error: DomainError):
        errors.update(error.reasons)
        record("order.replace_refused", obj=order, patient=order.patient_id)

    if form.validate_on_submit() and perform(
            act, form=form, refused=refused,
            success=_("Replaced. Print the new label; the parcel waits for the courier again.")):
        return redirect(url_for("orders.dispense", order_id=order.id), code=303)
    record("order.dispensing_viewed", obj=order, patient=order.patient_id)
    return _page(order, errors, replace_form=form)
