"""Stock forms; the rules (shelf life, cold chain, quantities under lock) live in app.inventory."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from app.accounts.forms import REQUIRED
from app.inventory.reasons import ADJUSTMENT_REASONS, WRITE_OFF_REASONS


def _choices(table: dict) -> list[SelectChoice]:
    return [SelectChoice("", "—")] + [SelectChoice(code, label) for code, label in table.items()]


class ReceiveForm(FlaskForm):
    # Choices are the active catalogue; validate_choice is off so an unknown id gets the service's message.
    drug_id = SelectField(_l("Drug"), validate_choice=False, validators=[DataRequired(REQUIRED)])
    lot_number = StringField(_l("Lot number"), validators=[DataRequired(REQUIRED), Length(max=40)])
    expiry_date = DateField(_l("Expiry date"), validators=[DataRequired(_l("Enter the expiry date."))])
    quantity = StringField(_l("Packs received"), validators=[DataRequired(REQUIRED), Length(max=10)])
    unit_cost_fen = StringField(_l("Unit cost per pack (fen)"), validators=[DataRequired(REQUIRED),
                                                                           Length(max=12)])
    arrival_temperature = StringField(_l("Arrival temperature (°C)"), validators=[Optional(), Length(max=8)],
                                      description=_l("Required for cold-chain drugs; outside 2–8 °C the "
                                                     "lot goes to quarantine."))
    submit = SubmitField(_l("Receive"))


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
