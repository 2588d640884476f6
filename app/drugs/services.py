"""Catalogue verbs: load a CSV (all or nothing), create, edit, (de)activate and search drugs."""

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import ColumnElement, Select, and_, exists, false, func, or_, select
from sqlalchemy.orm import selectinload

from app import limits, numbers
from app.audit.services import record
from app.drugs import catalogue, search_names
from app.drugs.catalogue import Problem
from app.drugs.initials import name_initials
from app.drugs.models import ControlledClass, Drug, DrugIngredient, StrengthUnit
from app.errors import DomainError
from app.extensions import db

SHIPPED_CATALOGUE = Path(__file__).resolve().parent / "data" / "drugs.csv"
# Pinyin look-ups take about a millisecond a name; an import compares every row's, so they are kept.
_initials_of = lru_cache(maxsize=4096)(name_initials)
# Columns stored on Drug itself; ingredients are compared and replaced separately.
DRUG_FIELDS = tuple(c for c in catalogue.COLUMNS if c not in ("ingredients_en", "ingredients_zh"))


class CatalogueError(DomainError):
    """A catalogue file with bad rows: every problem, by line and column; nothing was imported."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__({"file": ngettext("The file has %(num)d problem; nothing was imported.",
                                           "The file has %(num)d problems; nothing was imported.",
                                           len(problems))})


@dataclass
class ImportSummary:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated)


def load_catalogue(rows: Iterable[tuple[int, Mapping[str, str]]], header: list[str] | None = None,
                   *, source: str = "import") -> ImportSummary:
    """Validate every (line, row) first; upsert by `code` only if all are good. The caller commits."""
    problems = catalogue.check_header(header) if header is not None else []
    # A column the file leaves out is left as it is on the drugs it updates.
    kept = frozenset(catalogue.OPTIONAL.difference(header)) if header is not None else frozenset()
    parsed, seen, product_codes = [], {}, {}
    for line, raw in rows:
        if raw.get(""):
            problems.append(Problem(line, "", _("This row has more values than the header has columns.")))
        values, errors = catalogue.parse_row(raw)
        if not errors and values["code"] in seen:
            errors["code"] = _("The same code is already used on line %(line)d.", line=seen[values["code"]])
        prefix = values["traceability_prefix"]
        if prefix and "traceability_prefix" not in kept:
            if prefix in product_codes:
                errors["traceability_prefix"] = _("The same product code is already used on line %(line)d.",
                                                  line=product_codes[prefix])
            product_codes.setdefault(prefix, line)
        seen.setdefault(values["code"], line)
        problems += [Problem(line, column, message) for column, message in errors.items()]
        parsed.append(values)
    problems += _product_codes_taken(product_codes, seen)
    if problems:
        raise CatalogueError(problems)

    existing = {drug.code: drug for drug in db.session.scalars(
        select(Drug).where(Drug.code.in_(list(seen))).options(selectinload(Drug.ingredients)))}
    freed = set() if "traceability_prefix" in kept else _free_moving_product_codes(existing, parsed)
    summary = ImportSummary()
    for values in parsed:
        drug = existing.get(values["code"])
        if drug is None:
            drug = _new_drug(values)
            record("drug.created", obj=drug, detail=f"source={source}")
            summary.created.append(drug.code)
        elif changed := _apply(drug, values, kept, cleared_product_code=drug.code in freed):
            db.session.flush()
            record("drug.updated", obj=drug, detail=f"source={source}; fields={','.join(changed)}")
            summary.updated.append(drug.code)
        else:
            summary.unchanged += 1
    if summary.changed:
        record("drug.catalogue_imported", object_type="drugs", detail=(
            f"source={source}; created={len(summary.created)}; updated={len(summary.updated)}; "
            f"unchanged={summary.unchanged}"))
    db.session.flush()
    return summary


def load_csv_text(text: str, *, source: str = "import") -> ImportSummary:
    header, rows = catalogue.read_csv(text)
    if not header:
        raise CatalogueError([Problem(1, "", _("The file is empty."))])
    return load_catalogue(rows, header, source=source)


def load_shipped_catalogue() -> ImportSummary:
    """The catalogue in app/drugs/data/drugs.csv; running it twice changes nothing."""
    return load_csv_text(SHIPPED_CATALOGUE.read_text(encoding="utf-8"), source="shipped")


def _new_drug(values: dict) -> Drug:
    drug = Drug(**{name: values[name] for name in DRUG_FIELDS})
    drug.name_initials = _initials_of(drug.generic_name_zh)
    drug.ingredients = [DrugIngredient(position=n, name=en, name_zh=zh)
                        for n, (en, zh) in enumerate(values["ingredients"], start=1)]
    db.session.add(drug)
    db.session.flush()
    return drug


def _product_codes_taken(product_codes: dict[str, int], codes_in_file: Mapping[str, int]) -> list[Problem]:
    """Product codes of the file that a drug the file does not list already has."""
    if not product_codes:
        return []
    taken = db.session.execute(select(Drug.code, Drug.traceability_prefix).where(
        Drug.traceability_prefix.in_(list(product_codes)), Drug.code.not_in(list(codes_in_file))))
    return [Problem(product_codes[prefix], "traceability_prefix", _(
        "Drug %(code)s already has this product code. Each product code belongs to one drug.", code=code))
        for code, prefix in taken]


def _free_moving_product_codes(existing: dict[str, Drug], parsed: list[dict]) -> set[str]:
    """Clear the product codes an import moves or removes, before any is set: the unique index is checked
    row by row, so two drugs swapping codes would otherwise collide. Returns the codes of those drugs."""
    moving = [existing[values["code"]] for values in parsed if values["code"] in existing
              and existing[values["code"]].traceability_prefix not in (None, values["traceability_prefix"])]
    for drug in moving:
        drug.traceability_prefix = None
    if moving:
        db.session.flush()
    return {drug.code for drug in moving}


def _apply(drug: Drug, values: dict, kept: frozenset[str] = frozenset(), *,
           cleared_product_code: bool = False) -> list[str]:
    """Set what differs and return the names of the changed fields (none: the row is untouched);
    the fields in `kept` stay as they are."""
    changed = []
    for name in DRUG_FIELDS:
        if name == "code" or name in kept:
            continue
        if getattr(drug, name) != values[name]:
            setattr(drug, name, values[name])
            changed.append(name)
        elif name == "traceability_prefix" and cleared_product_code:
            changed.append(name)  # cleared above to let another drug take it, and blank in the file
    # Derived from the Chinese name, for search; also brought up to date when only it is stale.
    initials = _initials_of(drug.generic_name_zh)
    if drug.name_initials != initials:
        drug.name_initials = initials
        changed.append("name_initials")
    if [(i.name, i.name_zh) for i in drug.ingredients] != values["ingredients"]:
        # Flush the removals first: (drug_id, position) is unique.
        drug.ingredients.clear()
        db.session.flush()
        drug.ingredients = [DrugIngredient(position=n, name=en, name_zh=zh)
                            for n, (en, zh) in enumerate(values["ingredients"], start=1)]
        changed.append("ingredients")
    return changed


def _validated(raw: Mapping[str, str], drug: Drug | None = None) -> dict:
    values, errors = catalogue.parse_row(raw)
    if errors:
        raise DomainError(errors)
    prefix = values["traceability_prefix"]
    if prefix is not None:
        # Checked here so that the admin reads which drug has it; the unique index still guards a race.
        statement = select(Drug.code).where(Drug.traceability_prefix == prefix)
        if drug is not None:
            statement = statement.where(Drug.id != drug.id)
        if (holder := db.session.scalar(statement)) is not None:
            raise DomainError({"traceability_prefix": _(
                "Drug %(code)s already has this product code. Each product code belongs to one drug.",
                code=holder)})
    return values


def create_drug(raw: Mapping[str, str]) -> Drug:
    """A new catalogue entry from form fields named like the CSV columns."""
    values = _validated(raw)
    if db.session.scalar(select(Drug.id).where(Drug.code == values["code"])) is not None:
        raise DomainError({"code": _("A drug with this code already exists.")})
    drug = _new_drug(values)
    record("drug.created", obj=drug, detail="source=form")
    return drug


def update_drug(drug: Drug, raw: Mapping[str, str]) -> list[str]:
    """Apply an edit (the code is the import key and never changes); returns the changed fields."""
    # Activation has its own verb (and audit action); an edit never flips it.
    values = _validated({**raw, "code": drug.code, "is_active": "yes" if drug.is_active else "no"}, drug)
    changed = _apply(drug, values)
    if changed:
        db.session.flush()
        record("drug.updated", obj=drug, detail=f"source=form; fields={','.join(changed)}")
    return changed


def set_active(drug: Drug, active: bool) -> None:
    """Deactivate instead of deleting: prescriptions and dispensing keep pointing at the drug."""
    if drug.is_active == active:
        return
    drug.is_active = active
    db.session.flush()
    record("drug.reactivated" if active else "drug.deactivated", obj=drug)


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.lower()}%"


# "amlodipine 5", "amlodipine 5mg", "氨氯地平 5", "氨氯地平5毫克", "metformin 0.5 g": a name, then a number
# (after a space, or straight after a Chinese character) and perhaps a unit. Digits glued to Latin letters
# stay part of the name (维生素B12), and anything else after the number (1e999999) makes it no strength.
_NAME_AND_STRENGTH = re.compile(
    r"(?P<name>.*?\S)(?:\s+|(?<=[^\x00-\x7f]))(?P<number>[0-9.]+)\s*(?P<unit>[^\s0-9.]*)", re.S)
_STRENGTH_UNITS = {
    "mg": "mg", "毫克": "mg", "g": "g", "克": "g", "µg": "µg", "μg": "µg", "ug": "µg", "mcg": "µg",
    "微克": "µg", "iu": "IU", "u": "IU", "单位": "IU", "国际单位": "IU", "mg/ml": "mg/mL",
    "µg/h": "µg/h", "μg/h": "µg/h", "ug/h": "µg/h", "mcg/h": "µg/h",
}
# A mass typed in one unit matches a strength in any of these, converted (mg per unit); a strength per mL
# or per hour is found by its mass (lidocaine "20 mg" is 20 mg/mL, a fentanyl patch "25 µg" is 25 µg/h).
_MASS_IN_MG = {"mg": Decimal(1), "g": Decimal(1000), "µg": Decimal("0.001")}
_MASS_UNITS = {"mg": (StrengthUnit.MG, StrengthUnit.MG_PER_ML), "g": (StrengthUnit.G,),
               "µg": (StrengthUnit.MICROGRAM, StrengthUnit.MICROGRAM_PER_HOUR)}
_STRENGTH_PLACES = Decimal(1).scaleb(-limits.STRENGTH.places)
# "A/B", "A-B", "A + B": two to four ingredient names; each part this long at least (Han: 2).
_COMBINATION_SEPARATOR = re.compile(r"\s*[/+\-、]\s*")
_INITIALS = re.compile(r"[a-z0-9]{2,}", re.ASCII)


def _strength_is(number: Decimal, unit: str | None) -> ColumnElement[bool]:
    """Strength equal to the number: in the drug's own unit when none is typed, else converted."""
    if unit is None:
        return Drug.strength == number
    if unit not in _MASS_IN_MG:
        return and_(Drug.strength_unit == StrengthUnit(unit), Drug.strength == number)
    matches = []
    for target, per_mg in _MASS_IN_MG.items():
        value = number * _MASS_IN_MG[unit] / per_mg  # both bounded: no huge exponent reaches here
        if limits.STRENGTH.low <= value <= limits.STRENGTH.high and value == value.quantize(_STRENGTH_PLACES):
            matches.append(and_(Drug.strength_unit.in_(_MASS_UNITS[target]), Drug.strength == value))
    return or_(*matches) if matches else false()


def _name_and_strength(text: str) -> tuple[str, ColumnElement[bool]] | None:
    """("amlodipine", strength = 5 mg) for "amlodipine 5 mg"; None when the query ends in no strength."""
    match = _NAME_AND_STRENGTH.fullmatch(text)
    if match is None:
        return None
    unit = match["unit"].casefold()
    if unit and unit not in _STRENGTH_UNITS:
        return None
    # Bounded: "5", "0.5", "2.5" pass; "1.2.3", 0 and more than the catalogue can hold do not.
    number = numbers.parse_decimal_or_none(match["number"], limits.STRENGTH)
    if number is None:
        return None
    return match["name"].strip(), _strength_is(number, _STRENGTH_UNITS.get(unit))


def _has_ingredients(names: frozenset[str]) -> ColumnElement[bool]:
    """Exactly these ingredients: each of them, and no other."""
    return and_(*(exists().where(DrugIngredient.drug_id == Drug.id, DrugIngredient.name == name)
                  for name in sorted(names)),
                ~exists().where(DrugIngredient.drug_id == Drug.id, DrugIngredient.name.not_in(sorted(names))))


def _known_as(text: str) -> list[ColumnElement[bool]]:
    """The products a listed other name (co-trimoxazole, SMX-TMP, 复方新诺明) stands for."""
    found = search_names.targets(text)
    codes = sorted(target.code for target in found if target.code)
    conditions = [Drug.code.in_(codes)] if codes else []
    return conditions + [_has_ingredients(target.ingredients) for target in found if target.ingredients]


def _combination(text: str) -> list[ColumnElement[bool]]:
    """A product with an ingredient matching each part: "sulfamethoxazole/trimethoprim", "沙库巴曲+缬沙坦"."""
    parts = [part for part in _COMBINATION_SEPARATOR.split(text) if part]
    if not 2 <= len(parts) <= 4 or any(len(part) < (3 if part.isascii() else 2) for part in parts):
        return []
    return [and_(*(exists().where(DrugIngredient.drug_id == Drug.id, or_(
        func.lower(DrugIngredient.name).like(_like(part), escape="\\"),
        func.lower(DrugIngredient.name_zh).like(_like(part), escape="\\"))) for part in parts))]


def _initials(text: str) -> list[ColumnElement[bool]]:
    """Pinyin initials, "aldp" for 氨氯地平: the start of any of the stored spellings (stored lower-case)."""
    if not _INITIALS.fullmatch(text):
        return []
    start = _like(text)[1:]  # "aldp%": letters and digits only, nothing to escape
    return [Drug.name_initials.like(start, escape="\\"), Drug.name_initials.like(f"% {start}", escape="\\")]


def _name_is(text: str) -> ColumnElement[bool]:
    """A name (English or Chinese), brand, code, ATC prefix, ingredient, pinyin initials, other name or
    "A/B" combination."""
    pattern = _like(text)
    ingredient = exists().where(DrugIngredient.drug_id == Drug.id, or_(
        func.lower(DrugIngredient.name).like(pattern, escape="\\"),
        func.lower(DrugIngredient.name_zh).like(pattern, escape="\\")))
    plain = unicodedata.normalize("NFKC", text).casefold()  # full-width letters from a Chinese keyboard
    return or_(
        func.lower(Drug.generic_name_en).like(pattern, escape="\\"),
        func.lower(Drug.generic_name_zh).like(pattern, escape="\\"),
        func.lower(Drug.brand_name).like(pattern, escape="\\"),
        func.lower(Drug.code).like(pattern, escape="\\"),
        Drug.atc_code.like(pattern[1:].upper(), escape="\\"),
        ingredient,
        *_initials(plain),
        *_known_as(plain),
        *_combination(plain),
    )


def search(query: str = "", *, active: bool | None = True, cold_chain: bool = False,
           controlled: bool = False, not_deliverable: bool = False) -> Select:
    """Drugs matching a name (English or Chinese), brand, code, ATC prefix, ingredient, pinyin initials of
    the Chinese name ("aldp"), another common name (co-trimoxazole, 复方新诺明), two ingredients as
    "A/B", or any of these followed by a strength ("amlodipine 5", "metformin 0.5 g", "氨氯地平 5mg")."""
    statement = select(Drug).order_by(Drug.generic_name_en, Drug.strength, Drug.code)
    query = query.strip()[:100]  # no name is longer; SQLite refuses a LIKE pattern of 50,000 characters
    if query:
        matches = [_name_is(query)]
        if (with_strength := _name_and_strength(unicodedata.normalize("NFKC", query))) is not None:
            name, strength = with_strength
            matches.append(and_(_name_is(name), strength))
        statement = statement.where(or_(*matches))
    if active is not None:
        statement = statement.where(Drug.is_active.is_(active))
    if cold_chain:
        statement = statement.where(Drug.is_cold_chain)
    if controlled:
        statement = statement.where(Drug.controlled_class != ControlledClass.NONE)
    if not_deliverable:
        statement = statement.where(Drug.is_deliverable.is_(False))
    return statement
