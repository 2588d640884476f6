"""Catalogue forms: fields are named like the CSV columns so one parser checks both."""

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice

from app import limits, numbers
from app.drugs import labels
from app.drugs.catalogue import BOOLEAN_COLUMNS
from app.drugs.models import ControlledClass, DosageForm, DoseUnit, PackUnit, Route, StrengthUnit


def _choices(enum_cls, names: dict, blank: bool = False) -> list[SelectChoice]:
    choices = [SelectChoice(member.value, names[member]) for member in enum_cls]
    return [SelectChoice("", "—"), *choices] if blank else choices


class DrugForm(FlaskForm):
    code = StringField(_l("Catalogue code"), description=_l(
        "The key the CSV import matches on; it cannot be changed later. Example: AMLODIPINE-5MG-TAB."))
    generic_name_en = StringField(_l("Generic name (English)"))
    generic_name_zh = StringField(_l("Generic name (Chinese)"))
    brand_name = StringField(_l("Brand name"))
    ingredients_en = StringField(_l("Active ingredients (English)"), description=_l(
        "Lower-case INN of each active ingredient, separated by semicolons: sacubitril; valsartan."))
    ingredients_zh = StringField(_l("Active ingredients (Chinese)"), description=_l(
        "The same ingredients in the same order: 沙库巴曲; 缬沙坦."))
    atc_code = StringField(_l("ATC code"), description=_l("WHO ATC code, 7 characters, e.g. C08CA01."))
    strength = StringField(_l("Strength"))
    strength_unit = SelectField(_l("Strength unit"), choices=_choices(StrengthUnit, labels.STRENGTH_UNITS))
    dosage_form = SelectField(_l("Dosage form"), choices=_choices(DosageForm, labels.DOSAGE_FORMS))
    route = SelectField(_l("Route"), choices=_choices(Route, labels.ROUTES))
    pack_size = StringField(_l("Pack size"))
    pack_unit = SelectField(_l("Pack unit"), choices=_choices(PackUnit, labels.PACK_UNITS))
    price_yuan = StringField(_l("Price (yuan)"), description=_l("Per pack, e.g. 35.50."))
    controlled_class = SelectField(_l("Controlled class"),
                                   choices=_choices(ControlledClass, labels.CONTROLLED_CLASSES))
    is_cold_chain = BooleanField(_l("Cold chain (2–8 °C)"))
    is_online_prescribable = BooleanField(_l("Can be prescribed online"), default=True)
    is_deliverable = BooleanField(_l("Can be delivered"), default=True)
    is_antimicrobial = BooleanField(_l("Antimicrobial"))
    is_weekly_only = BooleanField(_l("Once weekly only"))
    max_daily_dose = StringField(_l("Maximum daily dose"), description=_l(
        "From the package insert; leave blank where the label sets none (dosing by weight or level)."))
    max_daily_dose_unit = SelectField(_l("Maximum daily dose unit"),
                                      choices=_choices(DoseUnit, labels.DOSE_UNITS, blank=True))
    notes = TextAreaField(_l("Notes"))
    traceability_prefix = StringField(_l("Product code (药品标识码)"), description=_l(
        "The first 7 digits of the 20-digit traceability code on every pack of this drug; dispensing "
        "refuses its packs until it is set. Each product code belongs to one drug."))
    # lang: what the admin types here stays in that language whatever the page's (screen readers too).
    warnings_en = TextAreaField(_l("Key warnings for the leaflet (English)"), render_kw={"lang": "en"},
                                description=_l("The few things a patient must know, in plain words; "
                                               "one paragraph a line."))
    warnings_zh = TextAreaField(_l("Key warnings for the leaflet (Chinese)"), render_kw={"lang": "zh"},
                                description=_l("The same warnings in Chinese; give both or neither."))
    storage_en = TextAreaField(_l("Storage (English)"), render_kw={"lang": "en"}, description=_l(
        "Leave blank to print the usual text: refrigerated at 2–8 °C for cold-chain drugs, otherwise "
        "below 25 °C in a dry place."))
    storage_zh = TextAreaField(_l("Storage (Chinese)"), render_kw={"lang": "zh"}, description=_l(
        "The same storage text in Chinese; give both or neither."))
    submit = SubmitField(_l("Save"))

    def as_row(self) -> dict[str, str]:
        """The submitted fields as a catalogue CSV row (price converted from yuan to fen)."""
        row = {name: (field.data or "") for name, field in self._fields.items()
               if name not in ("csrf_token", "submit", "price_yuan") and not isinstance(field, BooleanField)}
        row.update({name: "yes" if self[name].data else "no" for name in BOOLEAN_COLUMNS if name in self})
        row["price_fen"] = yuan_to_fen(self.price_yuan.data or "")
        row["is_active"] = "yes"  # new drugs start active; (de)activation has its own button
        return row

    def fill_from(self, drug) -> None:
        for name in self._fields:
            if hasattr(drug, name) and name not in ("csrf_token", "submit"):
                value = getattr(drug, name)
                self[name].data = value if isinstance(value, bool) else ("" if value is None else str(value))
        self.ingredients_en.data = "; ".join(i.name for i in drug.ingredients)
        self.ingredients_zh.data = "; ".join(i.name_zh for i in drug.ingredients)
        self.strength.data = labels.number(drug.strength)
        self.max_daily_dose.data = labels.number(drug.max_daily_dose)
        self.price_yuan.data = f"{drug.price_fen / 100:.2f}"


def yuan_to_fen(text: str) -> str:
    """'35.5' → '3550', '1,234.50' → '123450'; '' for anything that is not a price, which the row
    parser refuses (price_problem() then says why). Bounded: int(Decimal("1e999999") * 100) would
    run for a minute."""
    try:
        amount = numbers.parse_decimal(text or "", limits.PRICE_YUAN, grouping=True)
    except numbers.NumberError:
        return ""
    return str(int(amount * 100))


def price_problem(text: str) -> str:
    """Why the price in yuan was refused, in the reader's language."""
    try:
        numbers.parse_decimal(text or "", limits.PRICE_YUAN, grouping=True)
    except numbers.NumberError as error:
        if error.kind == numbers.TOO_LARGE:
            return gettext("Enter a price of at most ¥%(max)s.", max=f"{limits.PRICE_YUAN.high:,.2f}")
    return gettext("Enter a price in yuan above zero, with at most 2 decimals.")


class StatusForm(FlaskForm):
    submit = SubmitField(_l("Confirm"))


class ImportForm(FlaskForm):
    file = FileField(_l("Catalogue CSV file"), validators=[FileRequired(_l("Choose a CSV file."))])
    submit = SubmitField(_l("Import"))
