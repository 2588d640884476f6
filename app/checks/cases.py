"""A check case in JSON (what `flask checks run` reads): validated, with its drugs found in the catalogue."""

# A case names drugs the way people write them: a generic name in English or Chinese, an ATC code,
# or a catalogue code. A name often matches several packs (rivaroxaban 10 mg and 20 mg, metformin
# plain and sustained-release); choose_pack() picks the one the written dose fits best and says
# "ambiguous" only when nothing tells them apart. app/checks/data/README.md documents the rules.

import json
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from app.checks.adapters import facts_from_drug, resolve_allergen
from app.checks.case_facts import FACT_KEYS, parse_facts, pregnant_without_weeks
from app.checks.engine import ActiveMedication, Line, MedicationSource, PatientAllergy, PatientContext
from app.checks.knowledge import Severity
from app.drugs.catalogue import UNIT_ALIASES
from app.drugs.models import DosageForm, Drug, DrugIngredient
from app.errors import DomainError
from app.extensions import db
from app.patients import catalog as patient_catalog
from app.patients.models import AllergyKind, Sex
from app.patients.models import Severity as ReactionSeverity
from app.prescribing.models import Frequency, PrescribedUnit, SupplyCategory
from app.prescribing.quantity import exact_units_per_dose
from app.prescribing.rules import MAX_ITEMS

ATC_CODE = re.compile(r"^[A-Z]\d\d[A-Z][A-Z]\d\d$")
MODIFIED_RELEASE = frozenset({DosageForm.SUSTAINED_RELEASE_TABLET, DosageForm.CONTROLLED_RELEASE_TABLET,
                              DosageForm.SUSTAINED_RELEASE_CAPSULE})
TOP_KEYS = {"age", "sex", "conditions", "allergies", "supply_category", "prescription", "active_medications",
            "title", "note", "expect"} | FACT_KEYS
LINE_KEYS = {"drug", "dose", "unit", "frequency", "duration_days", "max_doses_per_day"}
ACTIVE_KEYS = {"drug", "source", "reference"}
ALLERGY_KEYS = {"substance", "kind", "severity"}
EXPECT_KEYS = {"min_severity", "max_severity", "rules", "absent_rules"}
NO_FINDING = "none"  # max_severity "none": the case must give no finding at all


class CaseError(Exception):
    """Everything wrong with a case, each message naming the entry it is about."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass(frozen=True)
class Expectation:
    """What a regression case must give (`flask checks run DIR` compares; a single case ignores it)."""

    min_severity: Severity | None = None  # at least one finding this bad or worse
    max_severity: Severity | None = None  # no finding worse than this
    no_finding: bool = False  # max_severity "none"
    rules: tuple[str, ...] = ()  # each must be among the findings' rule ids
    absent_rules: tuple[str, ...] = ()  # none may be


@dataclass
class Case:
    lines: list[Line]
    context: PatientContext
    supply_category: SupplyCategory
    resolved: list[dict] = field(default_factory=list)  # which catalogue product each entry became
    title: str | None = None
    expect: Expectation | None = None


def read(path: str | Path) -> dict:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        where = f"line {error.lineno}, column {error.colno}"
        raise CaseError([f"{path}: not valid JSON ({where}): {error.msg}"]) from None
    if not isinstance(data, dict):
        raise CaseError([f"{path}: the case must be a JSON object."])
    return data


def find_drugs(name: str) -> list[Drug]:
    """Catalogue products a name means: a catalogue code, an ATC code, a generic name (English,
    any case, or Chinese), else the single-ingredient products of that ingredient."""
    text = " ".join(str(name).split())
    folded = text.casefold()
    query = select(Drug).options(selectinload(Drug.ingredients)).order_by(Drug.code)
    if found := db.session.scalars(query.where(Drug.code == text.upper())).all():
        return list(found)
    if ATC_CODE.match(text.upper()):
        return list(db.session.scalars(query.where(Drug.atc_code == text.upper())).all())
    found = db.session.scalars(query.where(or_(func.lower(Drug.generic_name_en) == folded,
                                               Drug.generic_name_zh == text))).all()
    if found:
        return list(found)
    by_ingredient = db.session.scalars(query.join(DrugIngredient).where(or_(
        DrugIngredient.name == folded, DrugIngredient.name_zh == text))).unique().all()
    return [drug for drug in by_ingredient if len(drug.ingredients) == 1]


def _codes(drugs) -> str:
    return ", ".join(drug.code for drug in drugs)


def choose_pack(drugs: list[Drug], dose: Decimal, unit: PrescribedUnit) -> Drug | str:
    """The product the dose is written for, or why none can be chosen. Active products first; then
    those whose strength the unit fits; then doses in whole or half units (never a quarter tablet),
    whole ones first; then plain before modified-release forms; then the fewest units per dose."""
    candidates = [d for d in drugs if d.is_active] or drugs
    ranked = []
    for drug in candidates:
        try:
            units = exact_units_per_dose(drug, dose, unit)
        except DomainError:
            continue
        in_halves, whole = (units * 2).denominator == 1, units.denominator == 1
        ranked.append(((not in_halves, not whole, drug.dosage_form in MODIFIED_RELEASE, units), drug))
    if not ranked:
        return f"the unit {unit} does not fit any product's strength ({_codes(candidates)})"
    best = min(key for key, _drug in ranked)
    chosen = [drug for key, drug in ranked if key == best]
    if len(chosen) > 1:
        return f"ambiguous: {_codes(chosen)}; give the catalogue code instead"
    return chosen[0]


def _choose_any(drugs: list[Drug]) -> Drug | str:
    """For something already being taken only the composition matters; packs that agree on it are one."""
    candidates = [d for d in drugs if d.is_active] or drugs
    if len({(d.atc_code, tuple(i.name for i in d.ingredients)) for d in candidates}) > 1:
        return f"ambiguous: {_codes(candidates)}; give the catalogue code or the ATC code instead"
    return candidates[0]


class _Parser:
    def __init__(self, data: dict):
        self.data = data
        self.problems: list[str] = []
        self.resolved: list[dict] = []

    def unknown_keys(self, where: str, item: dict, allowed: set[str]) -> None:
        for key in sorted(set(item) - allowed):
            self.problems.append(f"{where}: unknown key {key!r}; expected {', '.join(sorted(allowed))}.")

    def items(self, key: str) -> list:
        value = self.data.get(key, [])
        if not isinstance(value, list):
            self.problems.append(f"{key}: must be a list.")
            return []
        return value

    def choice(self, where: str, enum_cls, value, default=None):
        if value is None and default is not None:
            return default
        try:
            return enum_cls(value)
        except ValueError:
            self.problems.append(f"{where}: {value!r} is not one of {', '.join(m.value for m in enum_cls)}.")
            return None

    def drugs(self, where: str, item: dict) -> list[Drug]:
        name = item.get("drug")
        if not isinstance(name, str) or not name.strip():
            self.problems.append(f"{where}: give the drug by generic name, ATC code or catalogue code.")
            return []
        found = find_drugs(name)
        if not found:
            self.problems.append(f"{where} ({name!r}): no drug in the catalogue has this name, ATC code "
                                 "or code.")
        return found

    def line(self, number: int, item) -> Line | None:
        where = f"prescription[{number}]"
        if not isinstance(item, dict):
            self.problems.append(f"{where}: must be an object.")
            return None
        self.unknown_keys(where, item, LINE_KEYS)
        drugs = self.drugs(where, item)
        try:
            dose = Decimal(str(item.get("dose")))
            if not dose.is_finite() or dose <= 0:
                raise InvalidOperation
        except (InvalidOperation, ValueError):
            self.problems.append(f"{where}: dose must be a number above zero.")
            dose = None
        raw_unit = str(item.get("unit", ""))
        unit = self.choice(f"{where} unit", PrescribedUnit, UNIT_ALIASES.get(raw_unit.lower(), raw_unit))
        frequency = self.choice(f"{where} frequency", Frequency, str(item.get("frequency", "")).upper())
        days = item.get("duration_days")
        if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= 84:
            self.problems.append(f"{where}: duration_days must be a whole number of days from 1 to 84.")
        maximum = item.get("max_doses_per_day")
        if frequency == Frequency.PRN and not (isinstance(maximum, int) and 1 <= maximum <= 24):
            self.problems.append(f"{where}: as-needed (PRN) dosing needs max_doses_per_day from 1 to 24.")
        if not drugs or dose is None or unit is None or frequency is None or not isinstance(days, int):
            return None
        chosen = choose_pack(drugs, dose, unit)
        if isinstance(chosen, str):
            self.problems.append(f"{where} ({item['drug']!r}): {chosen}.")
            return None
        self.resolved.append({"entry": where, "input": item["drug"], "code": chosen.code})
        return Line(drug=facts_from_drug(chosen), dose=dose, dose_unit=str(unit), frequency=frequency,
                    duration_days=days, max_doses_per_day=maximum if frequency == Frequency.PRN else None,
                    position=number)

    def active(self, number: int, item) -> ActiveMedication | None:
        where = f"active_medications[{number}]"
        if not isinstance(item, dict):
            self.problems.append(f"{where}: must be an object.")
            return None
        self.unknown_keys(where, item, ACTIVE_KEYS)
        source = self.choice(f"{where} source", MedicationSource, item.get("source"),
                             MedicationSource.DISPENSING)
        drugs = self.drugs(where, item)
        if not drugs or source is None:
            return None
        chosen = _choose_any(drugs)
        if isinstance(chosen, str):
            self.problems.append(f"{where} ({item['drug']!r}): {chosen}.")
            return None
        self.resolved.append({"entry": where, "input": item["drug"], "code": chosen.code})
        return ActiveMedication(drug=facts_from_drug(chosen), source=source,
                                reference=str(item.get("reference") or where))

    def allergy(self, number: int, item) -> PatientAllergy | None:
        where = f"allergies[{number}]"
        if not isinstance(item, dict) or not str(item.get("substance", "")).strip():
            self.problems.append(f"{where}: give at least a substance and a severity.")
            return None
        self.unknown_keys(where, item, ALLERGY_KEYS)
        substance = " ".join(str(item["substance"]).split())
        is_class = substance in patient_catalog.allergy_classes()
        kind = self.choice(f"{where} kind", AllergyKind, item.get("kind"),
                           AllergyKind.CLASS if is_class else AllergyKind.DRUG)
        severity = self.choice(f"{where} severity", ReactionSeverity, item.get("severity"))
        if kind == AllergyKind.CLASS and not is_class:
            self.problems.append(f"{where}: {substance!r} is not an allergy class "
                                 f"({', '.join(patient_catalog.allergy_classes())}).")
            return None
        if kind is None or severity is None:
            return None
        atc_codes, ingredients = ((), ()) if kind == AllergyKind.CLASS else resolve_allergen(substance)
        return PatientAllergy(kind=str(kind), substance=substance, severity=str(severity),
                              atc_codes=atc_codes, ingredients=ingredients)

    def rule_ids(self, key: str, value) -> tuple[str, ...]:
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            self.problems.append(f"expect.{key}: a list of rule ids such as \"cv-clopidogrel-omeprazole\".")
            return ()
        return tuple(v.strip() for v in value)

    def expectation(self) -> Expectation | None:
        value = self.data.get("expect")
        if value is None:
            return None
        severities = ", ".join(m.value for m in Severity)
        if not isinstance(value, dict) or not value:
            self.problems.append(f"expect: an object with at least one of {', '.join(sorted(EXPECT_KEYS))}.")
            return None
        self.unknown_keys("expect", value, EXPECT_KEYS)
        low = high = None
        no_finding = False
        if "min_severity" in value:
            low = self.choice("expect.min_severity", Severity, value["min_severity"])
        if value.get("max_severity") == NO_FINDING:
            no_finding = True
        elif "max_severity" in value:
            try:
                high = Severity(value["max_severity"])
            except ValueError:
                self.problems.append(f"expect.max_severity: {value['max_severity']!r} is not one of "
                                     f"{severities} or {NO_FINDING!r}.")
        # A case that can never pass is a mistake in the case, not a finding about the rules.
        if low is not None and (no_finding or (high is not None and low > high)):
            self.problems.append(f"expect: min_severity {low} is above max_severity "
                                 f"{NO_FINDING if no_finding else high}; no result can satisfy both.")
        rules = self.rule_ids("rules", value["rules"]) if "rules" in value else ()
        absent = self.rule_ids("absent_rules", value["absent_rules"]) if "absent_rules" in value else ()
        if both := sorted(set(rules) & set(absent)):
            self.problems.append(f"expect: {', '.join(both)} both in rules and in absent_rules.")
        if rules and no_finding:
            self.problems.append("expect: rules are required but max_severity \"none\" allows no finding.")
        return Expectation(min_severity=low, max_severity=high, no_finding=no_finding, rules=rules,
                           absent_rules=absent)

    def case(self) -> Case:
        self.unknown_keys("case", self.data, TOP_KEYS)
        for key in ("title", "note"):
            if key in self.data and not isinstance(self.data[key], str):
                self.problems.append(f"{key}: free text for people reading the case, as a string.")
        expect = self.expectation()
        entries = self.items("prescription")
        if not entries:
            self.problems.append("prescription: list at least one drug.")
        elif len(entries) > MAX_ITEMS:
            self.problems.append(f"prescription: at most {MAX_ITEMS} drugs, as on a real prescription.")
        lines = [self.line(n, item) for n, item in enumerate(entries, start=1)]
        active = [self.active(n, item) for n, item in enumerate(self.items("active_medications"), start=1)]
        allergies = [self.allergy(n, item) for n, item in enumerate(self.items("allergies"), start=1)]
        category = self.choice("supply_category", SupplyCategory, self.data.get("supply_category"),
                               SupplyCategory.NORMAL)
        age, sex = self.data.get("age"), self.data.get("sex")
        if age is not None and (not isinstance(age, int) or isinstance(age, bool) or not 0 <= age <= 130):
            self.problems.append("age: a whole number of years.")
        if sex is not None:
            sex = self.choice("sex", Sex, sex)
        conditions = self.items("conditions")
        if not all(isinstance(code, str) for code in conditions):
            self.problems.append("conditions: a list of ICD-10 codes such as \"I10\".")
        facts, today, diagnoses = parse_facts(self.data, self.problems)
        if self.problems:
            raise CaseError(self.problems)
        context = PatientContext(allergies=tuple(allergies),
                                 condition_codes=(*conditions, *pregnant_without_weeks(self.data)), age=age,
                                 sex=str(sex) if sex else None, active_medications=tuple(active), facts=facts,
                                 diagnosis_codes=diagnoses, today=today)
        return Case(lines=lines, context=context, supply_category=category, resolved=self.resolved,
                    title=self.data.get("title"), expect=expect)


def parse(data: dict) -> Case:
    """The case's lines and patient, or CaseError listing every problem (drugs looked up in the database)."""
    return _Parser(data).case()


def load(path: str | Path) -> Case:
    return parse(read(path))
