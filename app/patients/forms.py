"""Patient-record forms and the labels of their choices; every message is translatable."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, DateField, HiddenField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length, Optional

from app.accounts.forms import REQUIRED
from app.errors import DomainError
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


# The fact form's one list says what is recorded; an answer without a number carries its own value.
PATIENT_FACT_CHOICES = [
    SelectChoice("weight", _l("Weight (kg)")),
    SelectChoice("height", _l("Height (cm)")),
    SelectChoice("egfr", _l("eGFR (mL/min/1.73 m²), from a lab report")),
    SelectChoice("crcl", _l("Creatinine clearance (mL/min), from a lab report")),
    SelectChoice("pregnancy", _l("Pregnant: weeks of pregnancy")),
    SelectChoice("not_pregnant", _l("Not pregnant")),
    SelectChoice("breastfeeding", _l("Breastfeeding")),
    SelectChoice("not_breastfeeding", _l("Not breastfeeding")),
]
DOCTOR_FACT_CHOICES = PATIENT_FACT_CHOICES + [
    SelectChoice(f"child_pugh_{grade.lower()}", label) for grade, label in (
        ("A", _l("Child-Pugh class A")), ("B", _l("Child-Pugh class B")), ("C", _l("Child-Pugh class C")))]
FACT_ANSWERS = {"not_pregnant": ("pregnancy", "0"), "breastfeeding": ("breastfeeding", "yes"),
                "not_breastfeeding": ("breastfeeding", "no"), "child_pugh_a": ("child_pugh", "A"),
                "child_pugh_b": ("child_pugh", "B"), "child_pugh_c": ("child_pugh", "C")}


class FactForm(FlaskForm):
    """A health measurement: what it is, its number, and the day it was measured."""

    # Checked by the service, so a value not in the list gets the service's message.
    kind = SelectField(_l("What are you recording?"), choices=PATIENT_FACT_CHOICES, validate_choice=False)
    # Read by the service's bounded parser: a text input, so its message (with the unit) is the one shown.
    value = StringField(_l("Number"),
                        description=_l("In the unit shown above, or weeks of pregnancy. Leave it empty for "
                                       "the answers without a number."))
    measured_on = DayField(_l("Date measured"), validators=[InputRequired(REQUIRED)],
                           invalid_value_message=_l("Enter a date such as 2024-05-31."),
                           description=_l("For a lab result, the date on the report."))
    submit = SubmitField(_l("Save measurement"))

    def __init__(self, *args, for_doctor: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if for_doctor:
            self.kind.choices = DOCTOR_FACT_CHOICES
            self.kind.label.text = _l("Measurement or Child-Pugh class")
            self.submit.label.text = _l("Record in this consultation")

    def fact(self) -> tuple[str, str | None]:
        """(kind, value) for app.patients.facts.record_fact; DomainError for a number given to an answer
        that has none (it would be silently dropped)."""
        choice = self.kind.data or ""
        if choice in FACT_ANSWERS:
            if (self.value.data or "").strip():
                raise DomainError({"value": _l("Leave the number empty for this answer.")})
            return FACT_ANSWERS[choice]
        return choice, self.value.data
