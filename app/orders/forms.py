"""Order forms: placing an order at a store, and cancelling it."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SubmitField


class PlaceForm(FlaskForm):
    # What the store list offers; the service checks each against the prescription and the stores.
    store_id = HiddenField()
    fulfilment = HiddenField()
    address_id = HiddenField()
    submit = SubmitField(_l("Order from this store"))


class CancelForm(FlaskForm):
    submit = SubmitField(_l("Yes, cancel the order"))
