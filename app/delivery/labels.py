"""What a delivery's states and the courier's steps are called on screen."""

from flask_babel import lazy_gettext as _l

from app.delivery.states import DeliveryStatus as D

STATUSES = {
    D.ASSIGNED: _l("Waiting for pickup at the store"),
    D.PICKED_UP: _l("Picked up"),
    D.IN_TRANSIT: _l("In transit"),
    D.FAILED_ATTEMPT: _l("Delivery attempt failed"),
    D.DELIVERED: _l("Delivered"),
    D.RETURNED: _l("Returned to the store"),
}
STEPS = {
    "picked_up": _l("Picked up at the store"),
    "in_transit": _l("Record a reading on the way"),
    "delivered": _l("Delivered"),
    "failed_attempt": _l("Could not deliver"),
    "returned": _l("Bring it back to the store"),
}
