"""Admin forms."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    PasswordField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, Optional

from app.accounts.forms import LANGUAGE_CHOICES, REQUIRED
from app.numbers import id_or_none

STAFF_ROLE_CHOICES = [
    SelectChoice("doctor", _l("Doctor")),
    SelectChoice("pharmacist", _l("Pharmacist")),
    SelectChoice("courier", _l("Courier")),
    SelectChoice("admin", _l("Operations admin")),
]


class StaffForm(FlaskForm):
    role = SelectField(_l("Role"), choices=STAFF_ROLE_CHOICES)
    display_name = StringField(_l("Name"), validators=[DataRequired(REQUIRED), Length(max=120)])
    email = EmailField(_l("Email"), validators=[
        Optional(), Email(_l("Enter a valid email address.")), Length(max=254)])
    phone = StringField(_l("Mobile number"), validators=[Optional(), Length(max=32)])
    password = PasswordField(_l("Initial password"), validators=[DataRequired(REQUIRED)])
    locale = SelectField(_l("Language"), choices=LANGUAGE_CHOICES)
    licence_number = StringField(_l("Licence number"), validators=[Optional(), Length(max=40)])
    # One of app.labels.DEPARTMENTS (choices set per request, in the reader's language); blank for staff
    # who are not doctors. A value not in the list is refused by the choice check.
    department = SelectField(_l("Department"))
    # Bounded: int() takes "١٢" and ids no column holds (the database would raise).
    home_store_id = SelectField(_l("Home store"), coerce=id_or_none, validate_choice=False)
    submit = SubmitField(_l("Create staff account"))


class ConfirmForm(FlaskForm):
    submit = SubmitField(_l("Confirm"))


class StoreForm(FlaskForm):
    code = StringField(_l("Store code"), validators=[DataRequired(REQUIRED), Length(max=20)],
                       description=_l("Capital letters, digits and hyphens, e.g. SH-XH-01."))
    name_en = StringField(_l("Name (English)"), validators=[DataRequired(REQUIRED), Length(max=120)])
    name_zh = StringField(_l("Name (Chinese)"), validators=[DataRequired(REQUIRED), Length(max=120)])
    city = StringField(_l("City"), validators=[DataRequired(REQUIRED), Length(max=80)],
                       render_kw={"list": "known-cities"},
                       description=_l("A city the list knows is shown in each reader's language."))
    address = StringField(_l("Address"), validators=[DataRequired(REQUIRED), Length(max=255)])
    time_zone = SelectField(_l("Time zone"), validate_choice=False)
    latitude = StringField(_l("Latitude"), validators=[Optional(), Length(max=20)],
                           description=_l("WGS-84 degrees, e.g. 31.2304"))
    longitude = StringField(_l("Longitude"), validators=[Optional(), Length(max=20)],
                            description=_l("WGS-84 degrees, e.g. 121.4737"))
    opening_hours = TextAreaField(_l("Opening hours"), validators=[Optional(), Length(max=500)],
                                  description=_l("As patients should read them, e.g. Mon–Fri 09:00–18:00."))
    service_cities = TextAreaField(_l("Delivery cities"), validators=[Optional(), Length(max=2000)],
                                   description=_l("One city per line; leave empty if the store does not "
                                                  "deliver by city."))
    delivery_radius_km = StringField(_l("Delivery radius (km)"), validators=[Optional(), Length(max=10)],
                                     description=_l("Optional; delivers within this distance of the store."))
    is_cold_chain_capable = BooleanField(_l("Cold chain (2–8 °C)"))
    is_active = BooleanField(_l("Active"), default=True)
    submit = SubmitField(_l("Save store"))
