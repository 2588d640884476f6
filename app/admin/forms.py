"""Admin forms."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, Optional

from app.accounts.forms import LANGUAGE_CHOICES, REQUIRED

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
    department = StringField(_l("Department"), validators=[Optional(), Length(max=80)])
    home_store_id = SelectField(_l("Home store"), coerce=int, validate_choice=False)
    submit = SubmitField(_l("Create staff account"))


class ConfirmForm(FlaskForm):
    submit = SubmitField(_l("Confirm"))
