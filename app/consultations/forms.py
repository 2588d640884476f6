"""Consultation forms; the rules themselves live in services, these only shape the input."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, MultipleFileField  # these ignore a text sent in place of a file
from wtforms import (
    RadioField,
    SelectField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from app.accounts.forms import REQUIRED
from app.number_fields import coerce_id


class BookForm(FlaskForm):
    # Choices are filled per patient; validate_choice is off so that a foreign or unverified
    # condition reaches the service and gets its own clear message instead of "Not a valid choice".
    condition_id = SelectField(_l("Condition"), coerce=coerce_id, validate_choice=False,
                               validators=[DataRequired(_l("Choose one of your verified conditions."))])
    doctor_id = RadioField(_l("Doctor"), coerce=coerce_id, validate_choice=False,
                           validators=[DataRequired(_l("Choose a doctor."))])
    reason = TextAreaField(_l("Why do you need this consultation?"),
                           description=_l("Your symptoms, questions and the medicines you take now."),
                           validators=[DataRequired(REQUIRED), Length(max=2000)])
    attachments = MultipleFileField(_l("Attachments (optional)"),
                                    description=_l("Recent test results or records: PDF, JPEG or PNG, "
                                                   "at most 10 MB each."))
    submit = SubmitField(_l("Book and continue to payment"))


class PayForm(FlaskForm):
    method_type = RadioField(_l("Payment method"), choices=[SelectChoice("card", _l("Bank card"))],
                             default="card", validators=[DataRequired(_l("Choose a payment method."))])
    # Only offered while talking to localstripe, the offline stand-in for Stripe.
    test_card = RadioField(_l("Test card"), validators=[Optional()], validate_choice=False)
    submit = SubmitField(_l("Pay"))


class CancelForm(FlaskForm):
    submit = SubmitField(_l("Yes, cancel the consultation"))


class RateForm(FlaskForm):
    rating = RadioField(_l("Rating"), coerce=coerce_id, validate_choice=False,
                        choices=[SelectChoice(n, str(n)) for n in range(5, 0, -1)],
                        validators=[DataRequired(_l("Choose 1 to 5 stars."))])
    comment = TextAreaField(_l("Comment (optional)"), validators=[Length(max=500)])
    submit = SubmitField(_l("Send rating"))


class AcceptForm(FlaskForm):
    submit = SubmitField(_l("Accept"))


class DeclineForm(FlaskForm):
    reason = TextAreaField(_l("Reason for declining"), validators=[
        DataRequired(_l("Give the patient a reason.")), Length(max=1000)])
    submit = SubmitField(_l("Decline"))


class ReferForm(FlaskForm):
    reason = TextAreaField(_l("Why an in-person visit is needed"), validators=[
        DataRequired(_l("Tell the patient why an in-person visit is needed.")), Length(max=1000)])
    submit = SubmitField(_l("Needs an in-person visit (refund)"))


class NoteForm(FlaskForm):
    complaint = TextAreaField(_l("Chief complaint"), validators=[DataRequired(REQUIRED), Length(max=4000)])
    findings = TextAreaField(_l("Findings"), validators=[DataRequired(REQUIRED), Length(max=4000)])
    assessment = TextAreaField(_l("Assessment"), validators=[DataRequired(REQUIRED), Length(max=4000)])
    plan = TextAreaField(_l("Plan"), validators=[DataRequired(REQUIRED), Length(max=4000)])
    submit = SubmitField(_l("Save note"))


class CompleteForm(FlaskForm):
    submit = SubmitField(_l("Complete consultation"))


class MessageForm(FlaskForm):
    body = TextAreaField(_l("Message"), validators=[Length(max=4000)])
    attachment = FileField(_l("Attachment (optional)"))
    submit = SubmitField(_l("Send"))
