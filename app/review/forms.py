"""Review forms: claim, release, and the decision with its reasons."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectMultipleField, SubmitField, TextAreaField, widgets
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from app.review.reasons import RETURN_REASONS


class ClaimForm(FlaskForm):
    submit = SubmitField(_l("Review this prescription"))


class ReleaseForm(FlaskForm):
    submit = SubmitField(_l("Put back in the queue"))


class CheckboxesField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class DecisionForm(FlaskForm):
    decision = RadioField(_l("Decision"), validate_choice=False,
                          choices=[SelectChoice("approved", _l("Approve")),
                                   SelectChoice("returned", _l("Return to the doctor"))],
                          validators=[DataRequired(_l("Choose approve or return."))])
    reason_codes = CheckboxesField(_l("Reasons for returning"), validate_choice=False, choices=[
        SelectChoice(code, label) for code, label in RETURN_REASONS.items()])
    note = TextAreaField(_l("Note to the doctor"), validators=[Optional(), Length(max=2000)])
    justification = TextAreaField(_l("Justification for approving despite a major finding"),
                                  validators=[Optional(), Length(max=2000)])
    submit = SubmitField(_l("Record decision"))
