"""The catalogue CSV format: columns, parsing one row into typed values, and writing rows back."""

# The admin form, the CSV import and `flask seed-demo` all validate through parse_row(), so a
# drug that one path accepts every other path accepts too.

import csv
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from flask_babel import gettext as _

from app import limits, numbers
from app.drugs.models import (
    INJECTED_ROUTES,
    ControlledClass,
    DosageForm,
    DoseUnit,
    Drug,
    PackUnit,
    Route,
    StrengthUnit,
    format_decimal,
)
from app.number_fields import message as number_message
from app.text import clean_name, csv_cell, unescape_csv_cell

COLUMNS = (
    "code", "generic_name_en", "generic_name_zh", "brand_name", "ingredients_en", "ingredients_zh",
    "atc_code", "strength", "strength_unit", "dosage_form", "route", "pack_size", "pack_unit",
    "price_fen", "is_cold_chain", "controlled_class", "is_online_prescribable", "is_deliverable",
    "is_antimicrobial", "max_daily_dose", "max_daily_dose_unit", "is_weekly_only", "is_active", "notes",
    "traceability_prefix", "warnings_en", "warnings_zh", "storage_en", "storage_zh",
)
# May be left out of a file (or blank in a row); everything else is required. A column left out of a
# file leaves that field as it is on drugs already in the catalogue (an older export keeps the product
# codes and leaflet text entered since).
OPTIONAL = frozenset({"brand_name", "atc_code", "max_daily_dose", "max_daily_dose_unit", "notes",
                      "traceability_prefix", "warnings_en", "warnings_zh", "storage_en", "storage_zh"})
# The leaflet prints both languages: each text is given in both or in neither.
LEAFLET_PAIRS = (("warnings_en", "warnings_zh"), ("storage_en", "storage_zh"))
BOOLEAN_COLUMNS = ("is_cold_chain", "is_online_prescribable", "is_deliverable", "is_antimicrobial",
                   "is_weekly_only", "is_active")
TRUE_WORDS = frozenset({"yes", "y", "true", "1", "是"})
FALSE_WORDS = frozenset({"no", "n", "false", "0", "否"})

ATC_CODE = re.compile(r"^[A-Z][0-9]{2}[A-Z]{2}[0-9]{2}$")  # ASCII digits only (\d also takes ٠)
DRUG_CODE = re.compile(r"^[A-Z0-9][A-Z0-9.\-]{1,39}$")
INGREDIENT_SEPARATOR = re.compile(r"[;；]")
# Spellings people type for the micro sign (Greek mu, ASCII) all mean µg.
UNIT_ALIASES = {"ug": "µg", "mcg": "µg", "μg": "µg", "ug/h": "µg/h", "mcg/h": "µg/h", "μg/h": "µg/h",
                "mg/ml": "mg/mL", "iu": "IU", "ml": "mL"}
# PRODUCT.md: the national list bars these by name from delivery (pickup in a store only).
NOT_FOR_DELIVERY = frozenset({
    "warfarin", "dabigatran", "ticagrelor", "digoxin", "amiodarone", "carbamazepine", "lithium",
    "itraconazole", "voriconazole", "posaconazole", "linezolid",
})
MAX_LENGTH = {"code": 40, "generic_name_en": 120, "generic_name_zh": 60, "brand_name": 120, "notes": 255,
              "warnings_en": 600, "warnings_zh": 600, "storage_en": 300, "storage_zh": 300}
# The product identification code (药品标识码) that opens a pack's 20-digit traceability code, which is
# 7 digits of it, a 9-digit serial number and 4 check digits. Shorter would also match other products'
# packs; longer would take in serial digits and refuse the product's own packs with other serials.
PRODUCT_CODE_DIGITS = 7
_FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")
MAX_INGREDIENT_EN, MAX_INGREDIENT_ZH = 80, 40


@dataclass(frozen=True)
class Problem:
    """What is wrong, and where: a line of the file (1 = the header) and a column."""

    line: int
    column: str
    message: str


def read_csv(text: str) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """The header and (line number, row) pairs; the line is where the row starts in the file."""
    # Not DictReader: it skips blank lines without saying so, which would shift the line numbers.
    # Values beyond the header's columns are kept under "" so that the loader can report them.
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    header: list[str] = []
    rows = []
    start = 1
    for record in reader:
        if not any(cell.strip() for cell in record):
            start = reader.line_num + 1
            continue
        record = [unescape_csv_cell(cell) for cell in record]
        if not header:
            header = [name.strip() for name in record]
        else:
            row = dict(zip(header, record, strict=False))
            if len(record) > len(header):
                row[""] = ",".join(record[len(header):])
            rows.append((start, row))
        start = reader.line_num + 1
    return header, rows


def check_header(header: list[str]) -> list[Problem]:
    problems = [Problem(1, column, _("This column is missing from the header."))
                for column in COLUMNS if column not in header and column not in OPTIONAL]
    problems += [Problem(1, column, _("Unknown column; expected one of the catalogue columns."))
                 for column in header if column not in COLUMNS]
    return problems


def _text(raw: Mapping[str, str], column: str) -> str:
    return (raw.get(column) or "").strip()


def _enum(enum_cls, value: str):
    if enum_cls in (StrengthUnit, DoseUnit, PackUnit):
        value = UNIT_ALIASES.get(value.lower(), value)
    try:
        return enum_cls(value)
    except ValueError:
        return enum_cls(value.lower())


def leaflet_text(text: str) -> str:
    """Text a patient reads, one paragraph a line: line endings made one, blank lines and invisible
    controls (a bidi override turning a sentence round) taken out."""
    return "\n".join(line for line in (clean_name(part) for part in text.splitlines()) if line)


def parse_product_code(text: str) -> tuple[str | None, str | None]:
    """(the product code or None for blank, why it was refused or None). Spaces are dropped and
    full-width digits read as digits: what a scanner or a Chinese keyboard sends."""
    code = "".join(text.split()).translate(_FULL_WIDTH_DIGITS)
    if not code:
        return None, None
    if not (code.isascii() and code.isdigit()):
        return None, _("Digits only: the product code is the first %(num)d digits of the traceability "
                       "code printed on the pack.", num=PRODUCT_CODE_DIGITS)
    if len(code) != PRODUCT_CODE_DIGITS:
        return None, _("The product code has exactly %(num)d digits; this one has %(count)d.",
                       num=PRODUCT_CODE_DIGITS, count=len(code))
    return code, None


def split_ingredients(text_en: str, text_zh: str) -> tuple[list[tuple[str, str]], dict[str, str]]:
    """'sacubitril; valsartan' + '沙库巴曲; 缬沙坦' → [("sacubitril", "沙库巴曲"), ("valsartan", …)]."""
    names_en = [part.strip().lower() for part in INGREDIENT_SEPARATOR.split(text_en) if part.strip()]
    names_zh = [part.strip() for part in INGREDIENT_SEPARATOR.split(text_zh) if part.strip()]
    errors = {}
    if not names_en:
        errors["ingredients_en"] = _("List at least one active ingredient.")
    elif len(set(names_en)) != len(names_en):
        errors["ingredients_en"] = _("An ingredient is listed twice.")
    elif any(len(name) > MAX_INGREDIENT_EN for name in names_en):
        errors["ingredients_en"] = _("An ingredient name is too long.")
    if not names_zh:
        errors["ingredients_zh"] = _("List at least one active ingredient.")
    elif names_en and len(names_zh) != len(names_en):
        errors["ingredients_zh"] = _("Give one Chinese name for each English ingredient, in the same order.")
    elif any(len(name) > MAX_INGREDIENT_ZH for name in names_zh):
        errors["ingredients_zh"] = _("An ingredient name is too long.")
    return list(zip(names_en, names_zh, strict=False)), errors


def _number_problem(error: numbers.NumberError, shape: str, places: str) -> str:
    if error.kind == numbers.SHAPE:
        return shape
    if error.kind == numbers.PLACES:
        return places
    if error.kind == numbers.TOO_SMALL:
        return _("Must be more than zero.")
    return number_message(error)  # too large: the range it must be in


def parse_row(raw: Mapping[str, str]) -> tuple[dict, dict[str, str]]:
    """Typed values and {column: message}; values are only meaningful when there are no errors."""
    values: dict = {}
    errors: dict[str, str] = {}

    for column in ("code", "generic_name_en", "generic_name_zh", "brand_name", "notes"):
        value = _text(raw, column)
        if not value and column not in OPTIONAL:
            errors[column] = _("This field is required.")
        elif len(value) > MAX_LENGTH[column]:
            errors[column] = _("At most %(num)d characters.", num=MAX_LENGTH[column])
        values[column] = value
    values["code"] = values["code"].upper()

    for column in ("warnings_en", "warnings_zh", "storage_en", "storage_zh"):
        values[column] = leaflet_text(raw.get(column) or "")
        if len(values[column]) > MAX_LENGTH[column]:
            errors[column] = _("At most %(num)d characters.", num=MAX_LENGTH[column])
    for english, chinese in LEAFLET_PAIRS:
        if bool(values[english]) != bool(values[chinese]):
            errors[chinese if values[english] else english] = _(
                "Give this text in both English and Chinese, or leave both blank: the leaflet prints both.")
    values["traceability_prefix"], problem = parse_product_code(_text(raw, "traceability_prefix"))
    if problem:
        errors["traceability_prefix"] = problem
    if "code" not in errors and not DRUG_CODE.match(values["code"]):
        errors["code"] = _("Use capital letters, digits, dots and hyphens (e.g. AMLODIPINE-5MG-TAB).")

    values["ingredients"], ingredient_errors = split_ingredients(
        _text(raw, "ingredients_en"), _text(raw, "ingredients_zh"))
    errors.update(ingredient_errors)

    atc = _text(raw, "atc_code").upper()
    values["atc_code"] = atc or None
    if atc and not ATC_CODE.match(atc):
        errors["atc_code"] = _("Not a WHO ATC code: a letter, 2 digits, 2 letters, 2 digits (e.g. C08CA01).")

    for column in ("strength", "max_daily_dose"):
        text = _text(raw, column)
        values[column] = None
        if not text:
            if column not in OPTIONAL:
                errors[column] = _("This field is required.")
            continue
        try:  # bounded: Decimal("1e999999").quantize() raises, and such a row is one line of a file
            values[column] = numbers.parse_decimal(text, limits.STRENGTH)
        except numbers.NumberError as error:
            errors[column] = _number_problem(error, _("Enter a number, e.g. 2.5."),
                                             _("At most 4 decimal places and 8 digits before the point."))

    for column in ("pack_size", "price_fen"):
        text = _text(raw, column)
        values[column] = None
        if not text:
            errors[column] = _("This field is required.")
            continue
        try:  # bounded: int() takes "١٢" and refuses 5,000 digits with an error of its own
            values[column] = numbers.parse_int(text, limits.PACK_SIZE if column == "pack_size"
                                               else limits.PRICE_FEN)
        except numbers.NumberError as error:
            errors[column] = _number_problem(error, _("Enter a whole number."), _("Enter a whole number."))

    enums = {"strength_unit": StrengthUnit, "dosage_form": DosageForm, "route": Route,
             "pack_unit": PackUnit, "controlled_class": ControlledClass, "max_daily_dose_unit": DoseUnit}
    for column, enum_cls in enums.items():
        text = _text(raw, column)
        values[column] = None
        if not text:
            if column not in OPTIONAL:
                errors[column] = _("This field is required.")
            continue
        try:
            values[column] = _enum(enum_cls, text)
        except ValueError:
            errors[column] = _("Not one of: %(choices)s.", choices=", ".join(m.value for m in enum_cls))

    for column in BOOLEAN_COLUMNS:
        text = _text(raw, column).lower()
        values[column] = text in TRUE_WORDS
        if text not in TRUE_WORDS | FALSE_WORDS:
            errors[column] = _("Write yes or no.")

    if not errors:
        errors.update(check_rules(values))
    return values, errors


def check_rules(values: dict) -> dict[str, str]:
    """The regulatory and clinical rules a catalogue row must follow, by column."""
    errors = {}
    if values["atc_code"] is None and not values["notes"]:
        errors["atc_code"] = _("Enter the ATC code; leave it blank only for a substance WHO has not "
                               "classified, and say so in the notes.")
    if (values["max_daily_dose"] is None) != (values["max_daily_dose_unit"] is None):
        column = "max_daily_dose_unit" if values["max_daily_dose"] is not None else "max_daily_dose"
        errors[column] = _("Give the maximum daily dose together with its unit, or leave both blank.")
    elif values["max_daily_dose_unit"] is not None and not _same_dimension(
            values["strength_unit"], values["max_daily_dose_unit"]):
        errors["max_daily_dose_unit"] = _("The dose unit must match the strength unit (%(unit)s).",
                                          unit=values["strength_unit"].value)
    controlled = values["controlled_class"] != ControlledClass.NONE
    if controlled and values["is_online_prescribable"]:
        errors["is_online_prescribable"] = _(
            "Narcotic, psychotropic, toxic, radioactive and precursor drugs cannot be prescribed online.")
    if values["is_deliverable"]:
        barred = NOT_FOR_DELIVERY.intersection(name for name, _zh in values["ingredients"])
        if controlled:
            errors["is_deliverable"] = _("Controlled drugs may not be sold for delivery.")
        elif values["route"] in INJECTED_ROUTES and not (values["atc_code"] or "").startswith("A10"):
            errors["is_deliverable"] = _(
                "Injectables other than glucose-lowering ones (ATC A10) may not be sold for delivery.")
        elif barred:
            errors["is_deliverable"] = _("%(name)s is on the national list of drugs not sold for delivery.",
                                         name=sorted(barred)[0])
    return errors


def _same_dimension(strength_unit: StrengthUnit, dose_unit: DoseUnit) -> bool:
    base = str(strength_unit).split("/")[0]
    mass = {"mg", "µg", "g"}
    return (base in mass and str(dose_unit) in mass) or base == str(dose_unit)


def row_of(drug: Drug) -> dict[str, str]:
    """One drug as a CSV row, in exactly the format parse_row() reads."""
    yes_no = {True: "yes", False: "no"}
    return {
        "code": drug.code,
        "generic_name_en": drug.generic_name_en,
        "generic_name_zh": drug.generic_name_zh,
        "brand_name": drug.brand_name,
        "ingredients_en": "; ".join(i.name for i in drug.ingredients),
        "ingredients_zh": "; ".join(i.name_zh for i in drug.ingredients),
        "atc_code": drug.atc_code or "",
        "strength": format_decimal(drug.strength),
        "strength_unit": str(drug.strength_unit),
        "dosage_form": str(drug.dosage_form),
        "route": str(drug.route),
        "pack_size": str(drug.pack_size),
        "pack_unit": str(drug.pack_unit),
        "price_fen": str(drug.price_fen),
        "controlled_class": str(drug.controlled_class),
        "max_daily_dose": format_decimal(drug.max_daily_dose),
        "max_daily_dose_unit": str(drug.max_daily_dose_unit or ""),
        "notes": drug.notes,
        "traceability_prefix": drug.traceability_prefix or "",
        "warnings_en": drug.warnings_en,
        "warnings_zh": drug.warnings_zh,
        "storage_en": drug.storage_en,
        "storage_zh": drug.storage_zh,
        **{column: yes_no[bool(getattr(drug, column))] for column in BOOLEAN_COLUMNS},
    }


def write_csv(drugs: Iterable[Drug]) -> str:
    """The file an admin opens in a spreadsheet: a cell that would run as a formula is escaped (every
    number in the catalogue is positive, so none is touched); read_csv() removes the escape again."""
    output = io.StringIO()
    writer = csv.DictWriter(output, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for drug in drugs:
        writer.writerow({column: csv_cell(value or "") for column, value in row_of(drug).items()})
    return output.getvalue()
