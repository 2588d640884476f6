"""Patient-record forms and the labels of their choices; every message is translatable."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, DateField, HiddenField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length, Optional

from app.accounts.forms import REQUIRED
from app.patients import catalog
from app.patients.identity import time_zone_choices
from app.patients.labels import ALLERGY_KIND_LABELS, SEVERITY_LABELS, SEX_LABELS
from app.patients.models import ConsentKind


class DayField(DateField):
    """A date input whose empty value is 'missing' (one message), not also 'not a valid date'."""

    def process_formdata(self, valuelist):
        if valuelist and not "".join(valuelist).strip():
            self.data = None
            return
        super().process_formdata(valuelist)


def _date_field(label):
    # InputRequired, not DataRequired: the latter would drop the "not a valid date" message.
    return DayField(label, validators=[InputRequired(REQUIRED)],
                    invalid_value_message=_l("Enter a date such as 2024-05-31."))


class ProfileForm(FlaskForm):
    legal_name = StringField(_l("Legal name (as on your ID)"),
                             validators=[DataRequired(REQUIRED), Length(max=120)])
    sex = SelectField(_l("Sex"), choices=[SelectChoice(s.value, label) for s, label in SEX_LABELS.items()])
    date_of_birth = _date_field(_l("Date of birth"))
    id_document_number = StringField(_l("Resident ID card or passport number"),
                                     validators=[Optional(), Length(max=40)])
    # Checked by the service against the zone list, so a bad value gets the service's message.
    time_zone = SelectField(_l("Time zone"), validate_choice=False)
    submit = SubmitField(_l("Save profile"))

    def __init__(self, *args, language: str = "en", **kwargs):
        super().__init__(*args, **kwargs)
        self.time_zone.choices = time_zone_choices(language)


class AddressForm(FlaskForm):
    recipient = StringField(_l("Recipient"), validators=[DataRequired(REQUIRED), Length(max=120)])
    phone = StringField(_l("Mobile number"), validators=[DataRequired(REQUIRED), Length(max=32)])
    province = StringField(_l("Province"), validators=[DataRequired(REQUIRED), Length(max=60)])
    city = StringField(_l("City"), validators=[DataRequired(REQUIRED), Length(max=60)])
    district = StringField(_l("District"), validators=[Optional(), Length(max=60)])
    street = StringField(_l("Street address"), validators=[DataRequired(REQUIRED), Length(max=255)])
    postal_code = StringField(_l("Postal code"), validators=[Optional(), Length(max=10)])
    is_default = BooleanField(_l("Use as my default delivery address"))
    submit = SubmitField(_l("Add address"))


class ActionForm(FlaskForm):
    """A button that changes one thing; the form exists for its CSRF token."""

    submit = SubmitField(_l("Confirm"))


class ConsentForm(FlaskForm):
    kind = HiddenField(validators=[AnyOf([k.value for k in ConsentKind])])
    submit = SubmitField(_l("Confirm"))


class AllergyForm(FlaskForm):
    kind = SelectField(_l("Allergic to"),
                       choices=[SelectChoice(k.value, label) for k, label in ALLERGY_KIND_LABELS.items()])
    substance = StringField(_l("Drug or ingredient name"), validators=[Optional(), Length(max=120)],
                            description=_l("For a drug or an ingredient, e.g. amoxicillin."))
    allergy_class = SelectField(_l("Class of drugs"), validate_choice=False,
                                description=_l("For a class of drugs."))
    reaction = StringField(_l("Reaction"), validators=[Optional(), Length(max=255)],
                           description=_l("What happened, e.g. rash, swelling, breathing difficulty."))
    severity = SelectField(_l("Severity"),
                           choices=[SelectChoice(s.value, label) for s, label in SEVERITY_LABELS.items()])
    submit = SubmitField(_l("Add allergy"))

    def __init__(self, *args, language: str = "en", **kwargs):
        super().__init__(*args, **kwargs)
        self.allergy_class.choices = [SelectChoice("", "—")] + [
            SelectChoice(entry.code, entry.name(language)) for entry in catalog.allergy_classes().values()]


class ConditionForm(FlaskForm):
    icd10_code = SelectField(_l("Diagnosis (ICD-10)"), validate_choice=False)
    hospital = StringField(_l("Hospital that made the diagnosis"),
                           validators=[DataRequired(REQUIRED), Length(max=255)])
    diagnosed_on = _date_field(_l("Date of diagnosis"))
    proof = FileField(_l("Proof of diagnosis"),
                      description=_l("An outpatient or discharge record: PDF, JPEG or PNG, at most 10 MB."))
    submit = SubmitField(_l("Submit for verification"))

    def __init__(self, *args, language: str = "en", **kwargs):
        super().__init__(*args, **kwargs)
        self.icd10_code.choices = [SelectChoice("", "—")] + [
            SelectChoice(entry.code, f"{entry.code} · {entry.name(language)}")
            for entry in catalog.icd10().values()]


class ReviewForm(FlaskForm):
    note = TextAreaField(_l("Note to the patient"), validators=[Optional(), Length(max=255)],
                         description=_l("Required when rejecting: say what is missing or wrong."))
    verify = SubmitField(_l("Mark as verified"))
    reject = SubmitField(_l("Reject"))
