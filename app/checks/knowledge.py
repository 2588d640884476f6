"""The knowledge base of the automatic checks: its rules and the indexes built over them once."""

# The rules are data, not code (app/checks/data/README.md describes the files), so a pharmacist can
# review and change them; everything the engine needs per drug is precomputed here once, which is
# what keeps a check of a whole prescription well under a millisecond.

import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"


class Severity(StrEnum):
    """Worst first in this order; comparisons follow clinical weight, not the alphabet."""

    CONTRAINDICATED = "contraindicated"
    MAJOR = "major"
    MODERATE = "moderate"
    MINOR = "minor"

    @property
    def rank(self) -> int:
        return _RANK[self]

    def __lt__(self, other):
        return self.rank < Severity(other).rank

    def __le__(self, other):
        return self.rank <= Severity(other).rank

    def __gt__(self, other):
        return self.rank > Severity(other).rank

    def __ge__(self, other):
        return self.rank >= Severity(other).rank


_RANK = {Severity.MINOR: 1, Severity.MODERATE: 2, Severity.MAJOR: 3, Severity.CONTRAINDICATED: 4}


class Kind(StrEnum):
    NOT_ONLINE = "not_online"
    INACTIVE = "inactive"
    WEEKLY_ONLY = "weekly_only"
    ALLERGY = "allergy"
    CROSS_REACTIVITY = "cross_reactivity"
    INTERACTION = "interaction"
    DUPLICATE = "duplicate"
    MAX_DOSE = "max_dose"
    LONG_EXCLUDED = "long_excluded"
    SUPPLY_LIMIT = "supply_limit"
    DOSE_FORM = "dose_form"  # a dose that is no whole or half tablet; a combination dosed in one part's mg
    RENAL = "renal"
    HEPATIC = "hepatic"
    PREGNANCY = "pregnancy"  # and breastfeeding
    OLDER_ADULT = "older_adult"
    PAEDIATRIC = "paediatric"
    DRUG_DISEASE = "drug_disease"
    INDICATION = "indication"
    NOT_DELIVERABLE = "not_deliverable"


# The checks written in code (engine.py) and what their messages may name; rules.csv gives each its
# severity, wording and source, so those stay reviewable data too.
FIXED_RULES: dict[str, tuple[Kind, frozenset[str]]] = {
    "not-online-controlled": (Kind.NOT_ONLINE, frozenset({"drug", "class"})),
    "not-online-catalogue": (Kind.NOT_ONLINE, frozenset({"drug"})),
    "inactive-drug": (Kind.INACTIVE, frozenset({"drug"})),
    "weekly-only": (Kind.WEEKLY_ONLY, frozenset({"drug", "frequency"})),
    "max-daily-dose": (Kind.MAX_DOSE, frozenset({"drug", "daily", "max", "unit", "frequency"})),
    "long-excluded-controlled": (Kind.LONG_EXCLUDED, frozenset({"drug"})),
    "long-excluded-antimicrobial": (Kind.LONG_EXCLUDED, frozenset({"drug"})),
    "long-excluded-cold-chain": (Kind.LONG_EXCLUDED, frozenset({"drug"})),
    "supply-limit": (Kind.SUPPLY_LIMIT, frozenset({"drug", "days", "limit", "category"})),
    "duplicate-ingredient": (Kind.DUPLICATE, frozenset({"a", "b", "ingredient"})),
    "allergy-severe": (Kind.ALLERGY, frozenset({"drug", "allergen", "reaction"})),
    "allergy": (Kind.ALLERGY, frozenset({"drug", "allergen", "reaction"})),
    "dose-not-whole-unit": (Kind.DOSE_FORM, frozenset({"drug", "dose", "units", "form"})),
    "combination-dose-in-mass": (Kind.DOSE_FORM, frozenset({"drug", "dose", "units", "strength"})),
    "paediatric-weight-unknown": (Kind.PAEDIATRIC, frozenset({"drug", "age"})),
    "no-matching-diagnosis": (Kind.INDICATION, frozenset({"drug", "diagnoses"})),
    "not-deliverable": (Kind.NOT_DELIVERABLE, frozenset({"drug"})),
}

# The patient-aware rule files, each read into PatientRule rows (family_files.py), with their kind.
PATIENT_FAMILIES: dict[str, Kind] = {
    "renal": Kind.RENAL, "hepatic": Kind.HEPATIC, "pregnancy": Kind.PREGNANCY,
    "older_adults": Kind.OLDER_ADULT, "paediatric": Kind.PAEDIATRIC, "drug_disease": Kind.DRUG_DISEASE,
}

# The levels of a WHO ATC code: C, C10, C10A, C10AA, C10AA01.
ATC_PREFIX_LENGTHS = (1, 3, 4, 5, 7)


def normalise_term(text: str) -> str:
    """How a typed allergy name is compared: NFKC (full-width letters), case-folded, spaces collapsed.

    No stemming: "青霉素类" and "penicillins" are listed as terms of their own, so what matches is
    exactly what the synonym file says.
    """
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


@dataclass(frozen=True)
class Problem:
    """What is wrong in which data file, at which line (1 = the header) and column."""

    file: str
    line: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.message}"


class KnowledgeBaseError(Exception):
    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass(frozen=True)
class Rule:
    """One row of interactions / duplicate_classes / cross_reactivity / rules: it fires as a finding."""

    file: str
    line: int
    rule_id: str
    kind: Kind
    severity: Severity
    message_en: str
    message_zh: str
    source: str
    a: str = ""  # selector tags: both sides of an interaction; the class of a duplicate
    b: str = ""  # the cross-reactive target of an allergy class
    allergy_class: str = ""
    a_dose: "DoseLimit | None" = None  # an interaction that holds only at some daily doses
    b_dose: "DoseLimit | None" = None


@dataclass(frozen=True)
class DoseLimit:
    """A condition on a daily dose, as written in a rule: `>20 mg`, `<=20 mg`."""

    operator: str  # > >= < <=
    amount: Fraction
    unit: str  # mg µg g IU

    def holds(self, daily: Fraction | None) -> bool:
        """`daily` in this limit's unit; unknown (an active medication's dose) counts as the worst case:
        a rule for high doses applies, one for low doses does not."""
        if daily is None:
            return self.operator in (">", ">=")
        return {">": daily > self.amount, ">=": daily >= self.amount, "<": daily < self.amount,
                "<=": daily <= self.amount}[self.operator]

    def __str__(self) -> str:
        return f"{self.operator}{self.amount} {self.unit}"


@dataclass(frozen=True)
class PatientRule(Rule):
    """One row of a patient-aware file (renal, hepatic, pregnancy, older adults, children, disease);
    each family reads the fields it has (app/checks/data/README.md)."""

    selector: str = ""
    action: str = ""  # avoid / adjust / max_daily / max_daily_per_kg / "" (fires when it applies)
    low: Decimal | None = None  # [low, high): renal function, age in years, weeks of gestation
    high: Decimal | None = None
    weight_low: Decimal | None = None  # [weight_low, weight_high) kg, children
    weight_high: Decimal | None = None
    classes: frozenset[str] = frozenset()  # Child-Pugh classes
    state: str = ""  # pregnancy / breastfeeding
    conditions: tuple[str, ...] = ()  # ICD-10 prefixes
    dose: Fraction | None = None  # a daily maximum (or, older adults, the dose above which it applies)
    per_kg: Fraction | None = None
    unit: str = ""


@dataclass(frozen=True)
class Profile:
    """What the knowledge base knows about one drug (by ATC code and ingredients), computed once."""

    tags: frozenset[str]
    a_rules: frozenset[int]  # interaction rules whose side a this drug matches
    b_rules: frozenset[int]
    duplicate_rules: frozenset[int]
    cross_rules: frozenset[int]  # cross-reactivity rules whose target this drug matches
    classes: frozenset[str]  # allergy classes this drug belongs to
    patient_rules: dict = field(default_factory=dict)  # family → rule numbers this drug matches
    indications: frozenset[str] = frozenset()  # ICD-10 prefixes it is indicated for; empty: not known


def selector_tags(atc_code: str | None, ingredients) -> set[str]:
    """The selectors a drug matches directly: each ingredient and every level of its ATC code."""
    tags = {f"ingredient:{name}" for name in ingredients}
    if atc_code:
        tags.update(f"atc:{atc_code[:n]}" for n in ATC_PREFIX_LENGTHS if n <= len(atc_code))
    return tags


@dataclass
class KnowledgeBase:
    version: str
    groups: dict[str, tuple[str, ...]]  # group → member selectors, as written
    allergy_classes: dict[str, tuple[str, ...]]
    interactions: tuple[Rule, ...]
    duplicates: tuple[Rule, ...]
    cross_reactivity: tuple[Rule, ...]
    rules: dict[str, Rule]  # the fixed checks, by rule_id
    # Normalised allergy term → its selectors (class:… / ingredient:…): allergy_synonyms.csv plus each
    # allergy class's own code and names; and the file's terms as written, by language.
    synonyms: dict[str, tuple[str, ...]] = field(default_factory=dict)
    synonym_terms: dict[str, tuple[str, ...]] = field(default_factory=dict)
    patient_rules: dict[str, tuple[PatientRule, ...]] = field(default_factory=dict)  # by family
    indications: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (selector, ICD-10 prefixes)
    _profiles: dict = field(default_factory=dict, repr=False)

    def __post_init__(self):
        flat_groups = {name: self._flatten(name, self.groups) for name in self.groups}
        self._leaf_tags: dict[str, set[str]] = defaultdict(set)  # direct selector → group:/class: tags
        for name, leaves in flat_groups.items():
            for leaf in leaves:
                self._leaf_tags[leaf].add(f"group:{name}")
        for code, members in self.allergy_classes.items():
            for member in members:
                leaves = flat_groups[member[6:]] if member.startswith("group:") else {member}
                for leaf in leaves:
                    self._leaf_tags[leaf].add(f"class:{code}")
        self._a_index = self._index(self.interactions, "a")
        self._b_index = self._index(self.interactions, "b")
        self._duplicate_index = self._index(self.duplicates, "a")
        self._cross_index = self._index(self.cross_reactivity, "b")
        self._family_index = {family: self._index(rules, "selector")
                              for family, rules in self.patient_rules.items()}
        self._indication_index: dict[str, set[str]] = defaultdict(set)
        for selector, prefixes in self.indications:
            self._indication_index[selector].update(prefixes)
        # Every ingredient a rule names, stocked or not: an allergy to one is matched once it is stocked.
        selectors = [*self._leaf_tags, *(t for targets in self.synonyms.values() for t in targets)]
        for rule in (*self.interactions, *self.duplicates, *self.cross_reactivity):
            selectors.extend((rule.a, rule.b))
        selectors.extend(rule.selector for rules in self.patient_rules.values() for rule in rules)
        selectors.extend(selector for selector, _prefixes in self.indications)
        self.ingredient_names = frozenset(s[11:] for s in selectors if s.startswith("ingredient:"))

    @staticmethod
    def _flatten(name: str, groups: dict[str, tuple[str, ...]]) -> set[str]:
        leaves, pending, seen = set(), [name], set()
        while pending:
            current = pending.pop()
            if current in seen:
                continue
            seen.add(current)
            for member in groups[current]:
                if member.startswith("group:"):
                    pending.append(member[6:])
                else:
                    leaves.add(member)
        return leaves

    @staticmethod
    def _index(rules: tuple[Rule, ...], side: str) -> dict[str, list[int]]:
        index: dict[str, list[int]] = defaultdict(list)
        for number, rule in enumerate(rules):
            index[getattr(rule, side)].append(number)
        return dict(index)

    def profile(self, atc_code: str | None, ingredients: tuple[str, ...]) -> Profile:
        key = (atc_code, ingredients)
        cached = self._profiles.get(key)
        if cached is not None:
            return cached
        base = selector_tags(atc_code, ingredients)
        tags = set(base)
        for tag in base:
            tags.update(self._leaf_tags.get(tag, ()))
        tags = frozenset(tags)

        def matching(index):
            return frozenset(n for tag in tags for n in index.get(tag, ()))

        profile = Profile(tags=tags, a_rules=matching(self._a_index), b_rules=matching(self._b_index),
                          duplicate_rules=matching(self._duplicate_index),
                          cross_rules=matching(self._cross_index),
                          classes=frozenset(t[6:] for t in tags if t.startswith("class:")),
                          patient_rules={family: tuple(sorted(matching(index)))
                                         for family, index in self._family_index.items()},
                          indications=frozenset(code for tag in tags
                                                for code in self._indication_index.get(tag, ())))
        self._profiles[key] = profile  # a plain dict write: safe enough across threads (same value)
        return profile

    def classes_of(self, atc_codes, ingredients) -> frozenset[str]:
        """Allergy classes of an allergen known by name: its catalogue ATC codes and ingredients."""
        classes = set(self.profile(None, tuple(sorted(ingredients))).classes)
        for atc in atc_codes:
            classes |= self.profile(atc, ()).classes
        return frozenset(classes)

    def allergen_targets(self, text: str) -> tuple[frozenset[str], frozenset[str]]:
        """The allergy classes and ingredients a typed allergy name stands for by the synonym list."""
        targets = self.synonyms.get(normalise_term(text), ())
        return (frozenset(t[6:] for t in targets if t.startswith("class:")),
                frozenset(t[11:] for t in targets if t.startswith("ingredient:")))

    def stats(self) -> dict[str, int]:
        return {"interactions": len(self.interactions), "groups": len(self.groups),
                "allergy_classes": len(self.allergy_classes), "cross_reactivity": len(self.cross_reactivity),
                "duplicate_classes": len(self.duplicates), "fixed_rules": len(self.rules),
                "allergy_synonyms": sum(len(terms) for terms in self.synonym_terms.values()),
                **{family: len(rules) for family, rules in self.patient_rules.items()},
                "indications": len(self.indications)}
