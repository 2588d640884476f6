"""Order forms: placing an order at a store, cancelling it, and the store's dispensing forms."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, Optional

from app.delivery.forms import PackForm


class PlaceForm(FlaskForm):
    # What the store list offers; the service checks each against the prescription and the stores.
    store_id = HiddenField()
    fulfilment = HiddenField()
    address_id = HiddenField()
    submit = SubmitField(_l("Order from this store"))


class CancelForm(FlaskForm):
    submit = SubmitField(_l("Yes, cancel the order"))


class DispenseForm(FlaskForm):
    # The lots, codes and checks are read per line by the view: their number follows the order's lines.
    submit = SubmitField(_l("Dispense"))


class HandOverForm(FlaskForm):
    code = StringField(_l("Pickup code"), validators=[DataRequired(_l("Type the 6-digit pickup code.")),
                                                       Length(max=12)])
    submit = SubmitField(_l("Hand over"))


class NewCodeForm(FlaskForm):
    submit = SubmitField(_l("Get a new pickup code"))


class TakeBackForm(FlaskForm):
    reason = SelectField(_l("Why"), validate_choice=False)
    note = StringField(_l("Note"), validators=[Optional(), Length(max=300)])
    submit = SubmitField(_l("Cancel and refund"))


class ReplaceForm(PackForm):
    submit = SubmitField(_l("Replace and pack again"))
