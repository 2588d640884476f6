"""The courier's trip form and the pharmacist's packing form."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SelectField, StringField, SubmitField
from wtforms.validators import Length, Optional


class TripForm(FlaskForm):
    step = HiddenField()
    temperature = StringField(_l("Temperature (°C)"), validators=[Optional(), Length(max=10)])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=300)])
    code = StringField(_l("Patient's 6-digit code"), validators=[Optional(), Length(max=12)])
    recipient = StringField(_l("Or: recipient's name"), validators=[Optional(), Length(max=120)])
    relationship = StringField(_l("Relationship to the patient"), validators=[Optional(), Length(max=60)])


class PackForm(FlaskForm):
    courier_id = SelectField(_l("Courier"), coerce=int, validate_choice=False)
    carrier = StringField(_l("Carrier"), validators=[Optional(), Length(max=60)])
    tracking_number = StringField(_l("Tracking number"), validators=[Optional(), Length(max=60)])
    cold_box = BooleanField(_l("Packed in a cold box"))
    ice_packs = StringField(_l("Ice packs"), validators=[Optional(), Length(max=2)])
    packing_temperature = StringField(_l("Temperature at packing (°C)"), validators=[Optional(),
                                                                                     Length(max=10)])
    submit = SubmitField(_l("Pack and hand to the courier"))
