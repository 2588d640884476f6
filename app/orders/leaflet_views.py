"""The order's patient leaflet as a PDF: printed by the store's pharmacist, opened by the patient."""

from flask import Response
from flask_login import current_user

from app.accounts.models import Role
from app.audit.services import record
from app.extensions import db
from app.orders import bp
from app.orders.staff_views import _store_order
from app.orders.views import load
from app.policy import patient_data, roles_required


@bp.route("/<int:order_id>/leaflet.pdf")
@roles_required(Role.PHARMACIST, Role.PATIENT)
@patient_data
def leaflet(order_id: int):
    """One address for both: the pharmacist of the order's store prints it for the bag, the patient
    opens it from their order; anyone else's order is a 404 either way (and couriers, doctors and
    admins have no leaflet to print)."""
    if current_user.role == Role.PHARMACIST:
        order = _store_order(order_id)
        record("order.leaflet_printed", obj=order, patient=order.patient_id)
    else:
        order = load(order_id)
        record("order.leaflet_viewed", obj=order, patient=order.patient_id)
    from app.orders.leaflet_pdf import leaflet_pdf  # reportlab loads on the first PDF, not at every start

    body = leaflet_pdf(order)
    db.session.commit()
    return Response(body, mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="order-{order.id}-leaflet.pdf"'})
