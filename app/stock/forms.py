"""Stock forms; the rules (shelf life, cold chain, quantities under lock) live in app.inventory."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
    ValidationError,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from app.accounts.forms import REQUIRED
from app.drugs.forms import price_problem, yuan_to_fen
from app.inventory.quarantine import REASON_MAX, Decision
from app.inventory.reasons import ADJUSTMENT_REASONS, WRITE_OFF_REASONS


def _choices(table: dict) -> list[SelectChoice]:
    return [SelectChoice("", "—")] + [SelectChoice(code, label) for code, label in table.items()]


class ReceiveForm(FlaskForm):
    # Choices are the active catalogue; validate_choice is off so an unknown id gets the service's message.
    drug_id = SelectField(_l("Drug"), validate_choice=False, validators=[DataRequired(REQUIRED)])
    lot_number = StringField(_l("Lot number"), validators=[DataRequired(REQUIRED), Length(max=40)])
    expiry_date = DateField(_l("Expiry date"), validators=[DataRequired(_l("Enter the expiry date."))])
    quantity = StringField(_l("Packs received"), validators=[DataRequired(REQUIRED), Length(max=10)])
    unit_cost = StringField(_l("Unit cost per pack (¥)"), validators=[DataRequired(REQUIRED)],
                            description=_l("In yuan, e.g. 35.50."))
    arrival_temperature = StringField(_l("Arrival temperature (°C)"), validators=[Optional(), Length(max=8)],
                                      description=_l("Required for cold-chain drugs; outside 2–8 °C the "
                                                     "lot goes to quarantine."))
    submit = SubmitField(_l("Receive"))

    def validate_unit_cost(self, field) -> None:
        # The catalogue's bounded yuan parser and its messages: one rule for money typed in yuan.
        if not yuan_to_fen(field.data):
            raise ValidationError(price_problem(field.data))

    @property
    def unit_cost_fen(self) -> int:
        return int(yuan_to_fen(self.unit_cost.data))


class CountForm(FlaskForm):
    counted = StringField(_l("Packs counted on the shelf"),
                          validators=[DataRequired(REQUIRED), Length(max=10)])
    note = StringField(_l("Note (optional)"), validators=[Optional(), Length(max=500)])
    submit = SubmitField(_l("Record count"))


class AdjustForm(FlaskForm):
    change = StringField(_l("Change in packs (negative to reduce)"),
                         validators=[DataRequired(REQUIRED), Length(max=10)])
    reason = SelectField(_l("Reason"), choices=_choices(ADJUSTMENT_REASONS), validate_choice=False)
    note = StringField(_l("Note"), validators=[Optional(), Length(max=500)])
    submit = SubmitField(_l("Adjust"))


class WriteOffForm(FlaskForm):
    quantity = StringField(_l("Packs to write off"), validators=[DataRequired(REQUIRED), Length(max=10)])
    reason = SelectField(_l("Reason"), choices=_choices(WRITE_OFF_REASONS), validate_choice=False)
    note = StringField(_l("Note"), validators=[Optional(), Length(max=500)])
    submit = SubmitField(_l("Write off"))


class AssessForm(FlaskForm):
    """A pharmacist's decision on a quarantined lot."""

    decision = RadioField(_l("Decision"), choices=[
        SelectChoice(Decision.RELEASE.value, _l("Release: fit for sale, back to available stock")),
        SelectChoice(Decision.REJECT.value,
                     _l("Reject: write off every pack (destroy or return to the supplier)")),
    ], validate_choice=False, validators=[DataRequired(_l("Choose release or reject."))])
    reason = TextAreaField(_l("Reason"), validators=[
        DataRequired(REQUIRED), Length(max=REASON_MAX, message=_l("A note has at most 500 characters."))],
                           description=_l("What was checked and found, e.g. the data logger and the "
                                          "manufacturer's stability statement."))
    submit = SubmitField(_l("Record the decision"))


class TransferRequestForm(FlaskForm):
    from_store_id = SelectField(_l("From store"), validate_choice=False, validators=[DataRequired(REQUIRED)])
    to_store_id = SelectField(_l("To store"), validate_choice=False, validators=[DataRequired(REQUIRED)])
    drug_id = SelectField(_l("Drug"), validate_choice=False, validators=[DataRequired(REQUIRED)])
    packs = StringField(_l("Packs"), validators=[DataRequired(REQUIRED), Length(max=10)])
    note = StringField(_l("Note (optional)"), validators=[Optional(), Length(max=500)])
    submit = SubmitField(_l("Request transfer"))


class TransferStepForm(FlaskForm):
    """Pick, ship, cancel or report lost: a note is required only where the service says so."""

    note = StringField(_l("Note"), validators=[Optional(), Length(max=500)])
    submit = SubmitField(_l("Confirm"))


class TransferReceiveForm(FlaskForm):
    temperature = StringField(_l("Temperature on opening (°C)"), validators=[Optional(), Length(max=8)],
                              description=_l("Required for cold-chain drugs."))
    note = StringField(_l("Discrepancy note"), validators=[Optional(), Length(max=500)],
                       description=_l("Required when fewer packs arrived than were shipped."))
    submit = SubmitField(_l("Receive transfer"))


class RecallForm(FlaskForm):
    drug_id = SelectField(_l("Drug"), validate_choice=False, validators=[DataRequired(REQUIRED)])
    lot_number = StringField(_l("Lot number"), validators=[DataRequired(REQUIRED), Length(max=40)])
    reason = StringField(_l("Recall notice"), validators=[DataRequired(REQUIRED), Length(max=500)],
                         description=_l("Who issued it and why, e.g. the manufacturer's notice number."))
    submit = SubmitField(_l("Recall this lot chain-wide"))


class ReorderPointForm(FlaskForm):
    drug_id = SelectField(_l("Drug"), validate_choice=False, validators=[DataRequired(REQUIRED)])
    min_packs = StringField(_l("Reorder below (packs)"), validators=[DataRequired(REQUIRED), Length(max=10)])
    target_packs = StringField(_l("Refill up to (packs)"),
                               validators=[DataRequired(REQUIRED), Length(max=10)])
    submit = SubmitField(_l("Save reorder point"))
