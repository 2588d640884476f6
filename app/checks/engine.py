"""The checks themselves: pure functions over plain dataclasses, no database and no request needed."""

# Everything a check needs arrives in the arguments (adapters.py builds them from the database, the
# CLI from a JSON case, the tests from the shipped catalogue), so the same code answers in all three
# places and a result depends only on its inputs and the knowledge-base version.

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from itertools import combinations

from app.checks import amounts, dose_form, loader, patient_facts, patient_rules
from app.checks.knowledge import Kind, KnowledgeBase, Profile, Rule, Severity, normalise_term
from app.checks.patient_facts import Fact
from app.drugs.models import ControlledClass, DosageForm, PackUnit, Route, StrengthUnit
from app.patients import catalog as patient_catalog
from app.prescribing.models import Frequency, SupplyCategory
from app.prescribing.rules import NEVER_LONG, SUPPLY_LIMIT_DAYS

__all__ = ["ActiveMedication", "DrugFacts", "Fact", "Finding", "Kind", "Line", "OtherOn", "PatientAllergy",
           "PatientContext", "Severity", "check"]


@dataclass(frozen=True)
class DrugFacts:
    """What the checks need to know about a catalogue product (names, composition, strength, flags)."""

    code: str
    name_en: str
    name_zh: str
    atc_code: str | None
    ingredients: tuple[str, ...]  # lower-case English INNs, as in drug_ingredients.name
    ingredients_zh: tuple[str, ...] = ()
    brand_name: str = ""
    strength: Decimal = Decimal(1)
    strength_unit: StrengthUnit = StrengthUnit.MG
    pack_unit: PackUnit = PackUnit.TABLET
    dosage_form: DosageForm = DosageForm.TABLET
    route: Route = Route.ORAL
    controlled_class: ControlledClass = ControlledClass.NONE
    is_online_prescribable: bool = True
    is_antimicrobial: bool = False
    is_cold_chain: bool = False
    max_daily_dose: Decimal | None = None
    max_daily_dose_unit: str | None = None
    is_weekly_only: bool = False
    is_active: bool = True
    is_deliverable: bool = True


@dataclass(frozen=True)
class Line:
    """One prescribed drug with its structured sig; `position` is its line number on the prescription."""

    drug: DrugFacts
    dose: Decimal
    dose_unit: str
    frequency: Frequency
    duration_days: int
    max_doses_per_day: int | None = None  # PRN only
    position: int = 1


class MedicationSource(StrEnum):
    PRESCRIPTION = "prescription"
    DISPENSING = "dispensing"


@dataclass(frozen=True)
class ActiveMedication:
    """A drug the patient is still taking: its days' supply has not run out."""

    drug: DrugFacts
    source: MedicationSource = MedicationSource.DISPENSING
    reference: str = ""  # e.g. "prescription 12 v1, line 2"
    last_day: date | None = None


@dataclass(frozen=True)
class PatientAllergy:
    kind: str  # drug / ingredient / class, as app.patients.models.AllergyKind
    substance: str  # a name as entered, or an allergy class code
    severity: str  # mild / moderate / severe / anaphylaxis
    # What the name stands for in the catalogue (adapters fill these), so "阿莫西林" or "Augmentin"
    # still finds the penicillin class.
    atc_codes: tuple[str, ...] = ()
    ingredients: tuple[str, ...] = ()


@dataclass(frozen=True)
class PatientContext:
    allergies: tuple[PatientAllergy, ...] = ()
    condition_codes: tuple[str, ...] = ()  # ICD-10: the patient's conditions (not rejected ones)
    age: int | None = None
    sex: str | None = None
    active_medications: tuple[ActiveMedication, ...] = ()
    facts: tuple[Fact, ...] = ()  # weight, renal and hepatic function, pregnancy… (patient_facts.py)
    diagnosis_codes: tuple[str, ...] = ()  # the prescription's own diagnoses; the conditions count too
    today: date | None = None  # the day facts are aged against; None: today
    fact_max_age_days: dict | None = None  # overrides patient_facts.MAX_AGE_DAYS (configuration)


class OtherOn(StrEnum):
    PRESCRIPTION = "prescription"  # another line of the prescription being checked
    ACTIVE_MEDICATION = "active_medication"  # something the patient is still taking


@dataclass(frozen=True)
class Finding:
    severity: Severity
    kind: Kind
    rule_id: str
    drug_code: str  # the drug on this prescription the finding is about
    line: int
    message_en: str
    message_zh: str
    source: str
    other_code: str | None = None  # the other drug of an interaction or duplicate
    other_on: OtherOn | None = None
    other_line: int | None = None
    other_source: MedicationSource | None = None
    other_reference: str | None = None

    @property
    def drug_codes(self) -> tuple[str, ...]:
        return (self.drug_code,) if self.other_code is None else (self.drug_code, self.other_code)

    def message(self, language: str) -> str:
        return self.message_zh if language == "zh" else self.message_en

    def sort_key(self) -> tuple:
        return (-self.severity.rank, self.line, KIND_ORDER[self.kind], self.rule_id, self.other_code or "",
                self.other_line or 0, self.other_reference or "")

    def to_dict(self) -> dict:
        other = None
        if self.other_code is not None:
            other = {"drug": self.other_code, "on": str(self.other_on), "line": self.other_line,
                     "source": str(self.other_source) if self.other_source else None,
                     "reference": self.other_reference}
        return {"severity": str(self.severity), "kind": str(self.kind), "rule_id": self.rule_id,
                "drugs": list(self.drug_codes), "line": self.line, "other": other,
                "message_en": self.message_en, "message_zh": self.message_zh, "source": self.source}


KIND_ORDER = {kind: n for n, kind in enumerate((
    Kind.NOT_ONLINE, Kind.INACTIVE, Kind.WEEKLY_ONLY, Kind.ALLERGY, Kind.INTERACTION, Kind.CROSS_REACTIVITY,
    Kind.RENAL, Kind.HEPATIC, Kind.PREGNANCY, Kind.PAEDIATRIC, Kind.OLDER_ADULT, Kind.DRUG_DISEASE,
    Kind.DUPLICATE, Kind.MAX_DOSE, Kind.DOSE_FORM, Kind.INDICATION, Kind.LONG_EXCLUDED, Kind.SUPPLY_LIMIT,
    Kind.NOT_DELIVERABLE))}

# Words that go into the messages, in both languages (GLOSSARY.md for the Chinese terms).
FREQUENCY_WORDS = {
    Frequency.QD: ("once daily", "每日一次"), Frequency.BID: ("twice daily", "每日两次"),
    Frequency.TID: ("three times daily", "每日三次"), Frequency.QID: ("four times daily", "每日四次"),
    Frequency.Q8H: ("every 8 hours", "每8小时一次"), Frequency.Q12H: ("every 12 hours", "每12小时一次"),
    Frequency.QN: ("at night", "睡前"), Frequency.QW: ("once weekly", "每周一次"),
    Frequency.BIW: ("twice weekly", "每周两次"), Frequency.PRN: ("as needed", "必要时"),
}
CONTROLLED_WORDS = {
    ControlledClass.NARCOTIC: ("narcotic", "麻醉药品"),
    ControlledClass.PSYCHOTROPIC_1: ("class 1 psychotropic", "第一类精神药品"),
    ControlledClass.PSYCHOTROPIC_2: ("class 2 psychotropic", "第二类精神药品"),
    ControlledClass.TOXIC: ("toxic", "医疗用毒性药品"),
    ControlledClass.RADIOACTIVE: ("radioactive", "放射性药品"),
    ControlledClass.PRECURSOR: ("precursor chemical", "药品类易制毒化学品"),
}
CATEGORY_WORDS = {SupplyCategory.NORMAL: ("normal", "普通"), SupplyCategory.CHRONIC: ("chronic", "慢性病"),
                  SupplyCategory.LONG: ("long", "长期")}
REACTION_WORDS = {"mild": ("mild", "轻度"), "moderate": ("moderate", "中度"), "severe": ("severe", "重度"),
                  "anaphylaxis": ("anaphylaxis", "过敏性休克")}
SEVERE_REACTIONS = frozenset({"severe", "anaphylaxis"})


@dataclass
class _Other:
    """The second drug of a pair: another line, or an active medication."""

    drug: DrugFacts
    on: OtherOn
    line: int | None = None
    source: MedicationSource | None = None
    reference: str | None = None
    prescribed: Line | None = None  # the other line itself, whose dose an interaction may depend on


@dataclass
class _Findings:
    items: dict = field(default_factory=dict)

    def add(self, rule: Rule, line: Line, values_en: dict, values_zh: dict, other: _Other | None = None,
            note: tuple[str, str] = ("", "")):
        """`note`: said after the message in each language (a finding resting on an old measurement)."""
        finding = Finding(
            severity=rule.severity, kind=rule.kind, rule_id=rule.rule_id, drug_code=line.drug.code,
            line=line.position, message_en=rule.message_en.format_map(values_en) + note[0],
            message_zh=rule.message_zh.format_map(values_zh) + note[1], source=rule.source,
            other_code=other.drug.code if other else None, other_on=other.on if other else None,
            other_line=other.line if other else None, other_source=other.source if other else None,
            other_reference=other.reference if other else None)
        # One finding per rule, line and other drug, whichever way round the pair was met; a finding
        # about the line alone (two allergies, say) is told apart by what it says.
        key = (rule.rule_id, line.position, finding.other_code, finding.other_line, finding.other_reference,
               None if other else finding.message_en)
        self.items.setdefault(key, finding)


def check(lines, context: PatientContext | None = None, supply_category=SupplyCategory.NORMAL,
          kb: KnowledgeBase | None = None) -> list[Finding]:
    """Every finding for the prescription `lines` given the patient, worst first, in a stable order."""
    kb = kb or loader.get()
    context = context or PatientContext()
    supply_category = SupplyCategory(supply_category)
    lines = list(lines)
    found = _Findings()
    profiles = [_profile(kb, line.drug) for line in lines]
    # The prescription's own diagnoses are conditions of the patient too (a drug–disease pair, a Beers
    # disease), and the conditions are diagnoses a drug may be indicated for.
    diagnoses = tuple(dict.fromkeys((*context.diagnosis_codes, *context.condition_codes)))
    state = patient_facts.assess(context.facts, diagnoses, age=context.age, sex=context.sex,
                                 today=context.today or date.today(), max_age_days=context.fact_max_age_days)
    for line, profile in zip(lines, profiles, strict=True):
        adult_maximum = not patient_rules.replaces_adult_maximum(kb, profile, state)
        _check_line(kb, line, supply_category, found, adult_maximum=adult_maximum)
        patient_rules.check_line(kb, line, profile, state, diagnoses, found)
    for line, profile in zip(lines, profiles, strict=True):
        for allergy in context.allergies:
            _check_allergy(kb, line, profile, allergy, found)
    for (i, first), (j, second) in combinations(enumerate(lines), 2):
        other = _Other(second.drug, OtherOn.PRESCRIPTION, line=second.position, prescribed=second)
        _check_pair(kb, first, profiles[i], other, profiles[j], found)
    for medication in context.active_medications:
        medication_profile = _profile(kb, medication.drug)
        other = _Other(medication.drug, OtherOn.ACTIVE_MEDICATION, source=MedicationSource(medication.source),
                       reference=medication.reference or None)
        for line, profile in zip(lines, profiles, strict=True):
            _check_pair(kb, line, profile, other, medication_profile, found)
    return sorted(found.items.values(), key=Finding.sort_key)


def _profile(kb: KnowledgeBase, drug: DrugFacts) -> Profile:
    return kb.profile(drug.atc_code, drug.ingredients)


def _names(drug: DrugFacts) -> tuple[dict, dict]:
    return {"drug": drug.name_en}, {"drug": drug.name_zh}


# ---- one line at a time --------------------------------------------------------------------------

def _check_line(kb: KnowledgeBase, line: Line, category: SupplyCategory, found: _Findings, *,
                adult_maximum: bool) -> None:
    drug = line.drug
    en, zh = _names(drug)
    if drug.controlled_class != ControlledClass.NONE:
        words = CONTROLLED_WORDS[ControlledClass(drug.controlled_class)]
        found.add(kb.rules["not-online-controlled"], line, en | {"class": words[0]}, zh | {"class": words[1]})
    elif not drug.is_online_prescribable:
        found.add(kb.rules["not-online-catalogue"], line, en, zh)
    if not drug.is_active:
        found.add(kb.rules["inactive-drug"], line, en, zh)
    frequency = Frequency(line.frequency)
    freq_en, freq_zh = FREQUENCY_WORDS[frequency]
    if drug.is_weekly_only and frequency != Frequency.QW:
        found.add(kb.rules["weekly-only"], line, en | {"frequency": freq_en}, zh | {"frequency": freq_zh})
    if adult_maximum:  # a child's dose rows replace it (patient_rules.replaces_adult_maximum)
        _check_max_dose(kb, line, found, en | {"frequency": freq_en}, zh | {"frequency": freq_zh})
    dose_form.check(kb, line, found)
    if not drug.is_deliverable:
        found.add(kb.rules["not-deliverable"], line, en, zh)
    if category == SupplyCategory.LONG:
        # 长期处方管理规范: never on a long prescription (app/prescribing/rules.py, as at signing).
        if drug.controlled_class in NEVER_LONG:
            found.add(kb.rules["long-excluded-controlled"], line, en, zh)
        if drug.is_antimicrobial:
            found.add(kb.rules["long-excluded-antimicrobial"], line, en, zh)
        if drug.is_cold_chain:
            found.add(kb.rules["long-excluded-cold-chain"], line, en, zh)
    limit = SUPPLY_LIMIT_DAYS[category]
    if line.duration_days > limit:
        category_en, category_zh = CATEGORY_WORDS[category]
        common = {"days": line.duration_days, "limit": limit}
        found.add(kb.rules["supply-limit"], line, en | common | {"category": category_en},
                  zh | common | {"category": category_zh})


def _check_max_dose(kb: KnowledgeBase, line: Line, found: _Findings, en: dict, zh: dict) -> None:
    drug = line.drug
    if drug.max_daily_dose is None or not drug.max_daily_dose_unit:
        return
    daily = amounts.daily_in(line, str(drug.max_daily_dose_unit))
    if daily is None or daily <= Fraction(drug.max_daily_dose):
        return
    numbers = {"daily": amounts.number(daily), "max": amounts.number(Fraction(drug.max_daily_dose)),
               "unit": str(drug.max_daily_dose_unit)}
    found.add(kb.rules["max-daily-dose"], line, en | numbers, zh | numbers)


# ---- allergies -----------------------------------------------------------------------------------

def _drug_names(drug: DrugFacts) -> set[str]:
    names = {drug.code.casefold(), drug.name_en.casefold(), drug.name_zh, *drug.ingredients,
             *drug.ingredients_zh}
    if drug.brand_name:
        names.add(drug.brand_name.casefold())
        names.update(part.casefold() for part in drug.brand_name.split())
    return names


def _allergen_words(allergy: PatientAllergy) -> tuple[str, str]:
    if allergy.kind == "class":
        entry = patient_catalog.allergy_classes().get(allergy.substance)
        if entry is not None:
            return entry.name_en, entry.name_zh
    return allergy.substance, allergy.substance


def _check_allergy(kb: KnowledgeBase, line: Line, profile: Profile, allergy: PatientAllergy,
                   found: _Findings) -> None:
    if allergy.kind == "class":
        direct, classes = False, frozenset({allergy.substance})
    else:
        # A listed synonym ("sulfa", "青霉素类", "Augmentin") stands for its classes or ingredients.
        named_classes, named_ingredients = kb.allergen_targets(allergy.substance)
        allergen = {normalise_term(allergy.substance), *allergy.ingredients, *named_ingredients}
        direct = bool(allergen & _drug_names(line.drug))
        classes = kb.classes_of(allergy.atc_codes, allergen) | named_classes
    allergen_en, allergen_zh = _allergen_words(allergy)
    reaction_en, reaction_zh = REACTION_WORDS.get(allergy.severity, (allergy.severity, allergy.severity))
    en = {"drug": line.drug.name_en, "allergen": allergen_en, "reaction": reaction_en}
    zh = {"drug": line.drug.name_zh, "allergen": allergen_zh, "reaction": reaction_zh}
    if direct or classes & profile.classes:
        rule_id = "allergy-severe" if allergy.severity in SEVERE_REACTIONS else "allergy"
        found.add(kb.rules[rule_id], line, en, zh)
        return
    for number in sorted(profile.cross_rules):
        rule = kb.cross_reactivity[number]
        if rule.allergy_class in classes:
            found.add(rule, line, {"drug": en["drug"], "allergen": allergen_en},
                      {"drug": zh["drug"], "allergen": allergen_zh})


# ---- pairs: interactions and duplicate therapy ---------------------------------------------------

def _check_pair(kb: KnowledgeBase, line: Line, profile: Profile, other: _Other, other_profile: Profile,
                found: _Findings) -> None:
    drug = line.drug
    shared = set(drug.ingredients) & set(other.drug.ingredients)
    if shared:
        # The same substance twice is a duplicate, never an interaction of a drug with itself. The same
        # product (or composition) still being taken is the refill this prescription continues.
        if other.on == OtherOn.ACTIVE_MEDICATION and set(drug.ingredients) == set(other.drug.ingredients):
            return
        ingredient = sorted(shared)[0]
        zh_names = dict(zip(drug.ingredients, drug.ingredients_zh, strict=False))
        ingredient_zh = zh_names.get(ingredient, ingredient)
        found.add(kb.rules["duplicate-ingredient"], line,
                  {"a": drug.name_en, "b": other.drug.name_en, "ingredient": ingredient},
                  {"a": drug.name_zh, "b": other.drug.name_zh, "ingredient": ingredient_zh}, other)
        return
    en = {"a": drug.name_en, "b": other.drug.name_en}
    zh = {"a": drug.name_zh, "b": other.drug.name_zh}
    swapped_en = {"a": other.drug.name_en, "b": drug.name_en}
    swapped_zh = {"a": other.drug.name_zh, "b": drug.name_zh}
    for number in sorted(profile.a_rules & other_profile.b_rules):
        rule = kb.interactions[number]
        if _doses_hold(rule, line, other.prescribed):
            found.add(rule, line, en, zh, other)
    for number in sorted(profile.b_rules & other_profile.a_rules):
        rule = kb.interactions[number]
        if _doses_hold(rule, other.prescribed, line):
            found.add(rule, line, swapped_en, swapped_zh, other)
    for number in sorted(profile.duplicate_rules & other_profile.duplicate_rules):
        found.add(kb.duplicates[number], line, en, zh, other)


def _doses_hold(rule: Rule, a: Line | None, b: Line | None) -> bool:
    """A row with a daily-dose condition (`>20 mg`) holds only at those doses; a side without a known
    dose (an active medication) counts as the worst case (DoseLimit.holds)."""
    for limit, line in ((rule.a_dose, a), (rule.b_dose, b)):
        if limit is not None and not limit.holds(amounts.daily_in(line, limit.unit) if line else None):
            return False
    return True
