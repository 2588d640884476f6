"""Prescribing forms; they only shape the input, the rules are in services and quantity."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    PasswordField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from app import limits
from app.drugs import labels
from app.number_fields import WholeNumberField, coerce_id
from app.prescribing.models import Frequency, PrescribedUnit, SupplyCategory

FREQUENCIES = {
    Frequency.QD: _l("QD — once a day"), Frequency.BID: _l("BID — twice a day"),
    Frequency.TID: _l("TID — three times a day"), Frequency.QID: _l("QID — four times a day"),
    Frequency.Q8H: _l("Q8H — every 8 hours"), Frequency.Q12H: _l("Q12H — every 12 hours"),
    Frequency.QN: _l("QN — at bedtime"), Frequency.QW: _l("QW — once a week"),
    Frequency.BIW: _l("BIW — twice a week"), Frequency.PRN: _l("PRN — when needed"),
}
UNITS = {
    PrescribedUnit.MG: "mg", PrescribedUnit.MICROGRAM: "µg", PrescribedUnit.G: "g",
    PrescribedUnit.IU: _l("IU"), PrescribedUnit.ML: "mL", PrescribedUnit.TABLET: _l("tablet(s)"),
    PrescribedUnit.CAPSULE: _l("capsule(s)"), PrescribedUnit.DOSE: _l("puff(s) / actuation(s)"),
    PrescribedUnit.PATCH: _l("patch(es)"),
}
SUPPLY_CATEGORIES = {
    SupplyCategory.NORMAL: _l("Normal: up to 7 days"),
    SupplyCategory.CHRONIC: _l("Chronic condition: up to 4 weeks, with a reason"),
    SupplyCategory.LONG: _l("Long prescription: up to 12 weeks, with your assessment and the patient's "
                            "confirmation"),
}


class StartForm(FlaskForm):
    # validate_choice off: a foreign or unverified diagnosis reaches the service for its own message.
    condition_id = SelectField(_l("Diagnosis"), coerce=coerce_id, validate_choice=False,
                               validators=[DataRequired(_l("Choose a diagnosis the patient has on file."))])
    submit = SubmitField(_l("Write a prescription"))


class ItemForm(FlaskForm):
    query = StringField(_l("Find a drug"), validators=[Optional(), Length(max=100)],
                        description=_l("Generic or brand name (English or Chinese), pinyin initials "
                                       "(aldp), name and strength (amlodipine 5) or the ATC code."))
    search = SubmitField(_l("Search"))
    drug_id = RadioField(_l("Drug"), coerce=coerce_id, validate_choice=False,
                         validators=[DataRequired(_l("Choose a drug from the catalogue."))])
    dose = StringField(_l("Dose"), validators=[InputRequired(_l("Enter the dose.")), Length(max=20)])
    dose_unit = SelectField(_l("Dose unit"), validate_choice=False,
                            choices=[SelectChoice(u.value, label) for u, label in UNITS.items()])
    route = SelectField(_l("Route"), choices=[SelectChoice("", _l("As the drug is given"))] + [
        SelectChoice(route.value, label) for route, label in labels.ROUTES.items()], validate_choice=False)
    frequency = SelectField(_l("How often"), choices=[
        SelectChoice(f.value, label) for f, label in FREQUENCIES.items()], validate_choice=False)
    # Bounded fields: IntegerField's int() takes "١٢", "1_000" and numbers no column can hold.
    max_doses_per_day = WholeNumberField(_l("At most, doses a day (when needed only)"),
                                         validators=[Optional()], bound=limits.DOSES_PER_DAY)
    times_of_day = StringField(_l("Times of day (optional)"), validators=[Optional(), Length(max=60)],
                               description=_l("HH:MM, separated by commas, e.g. 08:00,20:00"))
    duration_days = WholeNumberField(_l("Duration in days"),
                                     validators=[InputRequired(_l("Enter the duration in whole days."))],
                                     bound=limits.DURATION_DAYS)
    instructions = StringField(_l("Instructions for the patient (optional)"),
                               validators=[Optional(), Length(max=255)],
                               description=_l("e.g. Take with food."))
    submit = SubmitField(_l("Add to prescription"))


class RemoveItemForm(FlaskForm):
    submit = SubmitField(_l("Remove"))


class SupplyForm(FlaskForm):
    supply_category = RadioField(_l("Supply"), choices=[
        SelectChoice(c.value, label) for c, label in SUPPLY_CATEGORIES.items()], validate_choice=False,
        validators=[DataRequired(_l("Choose a supply category."))])
    chronic_reason = TextAreaField(_l("Why this chronic condition needs more than 7 days"),
                                   validators=[Optional(), Length(max=1000)])
    long_assessment = TextAreaField(_l("Your assessment that the condition is stable"),
                                    validators=[Optional(), Length(max=2000)])
    submit = SubmitField(_l("Save supply"))


class SignForm(FlaskForm):
    password = PasswordField(_l("Your password"),
                             validators=[DataRequired(_l("Enter your password to sign."))],
                             description=_l("Signing freezes the prescription and sends it for pharmacist "
                                            "review."))
    prescriber_reason = TextAreaField(
        _l("Your reason for prescribing despite the findings"), validators=[Optional(), Length(max=2000)],
        description=_l("Required when the automatic checks found a major or contraindicated problem; "
                       "the pharmacist reads it with the finding."))
    submit = SubmitField(_l("Sign prescription"))


class ExtendForm(FlaskForm):
    valid_until = SelectField(_l("Valid until"), validate_choice=False,
                              validators=[DataRequired(_l("Choose the new last valid day."))])
    submit = SubmitField(_l("Extend validity"))


class ReviseForm(FlaskForm):
    submit = SubmitField(_l("Revise (new version)"))


class CancelForm(FlaskForm):
    submit = SubmitField(_l("Cancel this prescription"))


class ConfirmLongForm(FlaskForm):
    submit = SubmitField(_l("I confirm this long prescription"))

