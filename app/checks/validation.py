"""Reading the knowledge-base files: every problem is reported by file, line and column."""

import hashlib
import re
import string
from pathlib import Path

from app.checks.family_files import FAMILY_COLUMNS, dose_limit, read_patient_files
from app.checks.knowledge import (
    FIXED_RULES,
    Kind,
    KnowledgeBase,
    KnowledgeBaseError,
    Problem,
    Rule,
    Severity,
    normalise_term,
)
from app.drugs.catalogue import read_csv
from app.patients import catalog as patient_catalog

COLUMNS = {
    "groups.csv": ("group", "member", "source"),
    "allergy_classes.csv": ("class", "member", "source"),
    "interactions.csv": ("rule_id", "a", "b", "severity", "message_en", "message_zh", "source", "a_dose",
                         "b_dose"),
    "cross_reactivity.csv": ("rule_id", "allergy_class", "target", "severity", "message_en", "message_zh",
                             "source"),
    "duplicate_classes.csv": ("rule_id", "selector", "severity", "message_en", "message_zh", "source"),
    "rules.csv": ("rule_id", "kind", "severity", "message_en", "message_zh", "source"),
    "allergy_synonyms.csv": ("term", "language", "target", "source"),
    **FAMILY_COLUMNS,
}
OPTIONAL_COLUMNS = {"interactions.csv": ("a_dose", "b_dose")}  # blank when absent
PLACEHOLDERS = {"interactions.csv": frozenset({"a", "b"}), "duplicate_classes.csv": frozenset({"a", "b"}),
                "cross_reactivity.csv": frozenset({"drug", "allergen"})}

RULE_ID = re.compile(r"^[a-z0-9]+(?:[.-][a-z0-9]+)*$")
GROUP_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
INGREDIENT = re.compile(r"^[a-z0-9][a-z0-9 \-]*[a-z0-9]$")
ATC_PREFIX = re.compile(r"^[A-Z](?:\d\d(?:[A-Z](?:[A-Z](?:\d\d)?)?)?)?$")
VERSION = re.compile(r"^\d+\.\d+\.\d+$")
CJK = re.compile(r"[\u4e00-\u9fff]")


def _file_text(path: Path) -> str:
    """A file's text. "utf-8-sig": an editor on Windows may save a byte-order mark before the first
    line, which would otherwise be read as part of the version or of the first column's name."""
    return path.read_text(encoding="utf-8-sig")


class _Reader:
    def __init__(self, directory: Path):
        self.directory = directory
        self.problems: list[Problem] = []
        self.rule_lines: dict[str, tuple[str, int]] = {}

    def problem(self, file: str, line: int, column: str, message: str) -> None:
        self.problems.append(Problem(file, line, column, message))

    def mark(self) -> int:
        """Where the problems stand before a row is read, for clean_since() after it."""
        return len(self.problems)

    def clean_since(self, mark: int) -> bool:
        """No problem recorded since `mark`: the row read since then may become a rule."""
        return len(self.problems) == mark

    def rows(self, file: str) -> list[tuple[int, dict[str, str]]]:
        path = self.directory / file
        if not path.is_file():
            self.problem(file, 0, "", "The file is missing.")
            return []
        header, rows = read_csv(_file_text(path))
        expected = COLUMNS[file]
        optional = OPTIONAL_COLUMNS.get(file, ())
        missing = [c for c in expected if c not in header and c not in optional]
        unknown = [c for c in header if c not in expected]
        for column in missing:
            self.problem(file, 1, column, "This column is missing from the header.")
        for column in unknown:
            self.problem(file, 1, column, f"Unknown column; expected {', '.join(expected)}.")
        if missing or unknown:
            return []
        result = []
        for line, raw in rows:
            if raw.get(""):
                self.problem(file, line, "", "This row has more values than the header has columns.")
                continue
            result.append((line, {column: (raw.get(column) or "").strip() for column in expected}))
        return result

    def version(self) -> str | None:
        """The version line; None, with a problem, when there is none (the load then fails)."""
        path = self.directory / "VERSION"
        if not path.is_file():
            self.problem("VERSION", 0, "", "The file is missing.")
            return None
        for number, text in enumerate(_file_text(path).splitlines(), start=1):
            text = text.strip()
            if text and not text.startswith("#"):
                if not VERSION.match(text):
                    self.problem("VERSION", number, "version", "Write the version as MAJOR.MINOR.PATCH.")
                return text
        self.problem("VERSION", 1, "version", "No version line.")
        return None

    def digest(self) -> str:
        """Part of the reported version: an edited file is visible even if nobody bumped VERSION."""
        # Read once every file is known to be there. Each check result records the version, so the same
        # files must give the same digest in every release.
        sha = hashlib.sha256()
        for name in ("VERSION", *sorted(COLUMNS)):
            sha.update(name.encode() + b"\0" + (self.directory / name).read_bytes() + b"\0")
        return sha.hexdigest()[:8]

    # The checks below record what is wrong and return nothing: the caller keeps a row only if reading
    # it added no problem.

    def rule_id(self, file: str, line: int, value: str) -> None:
        if not RULE_ID.match(value):
            self.problem(file, line, "rule_id", "Use lower-case letters, digits, dots and hyphens.")
        elif value in self.rule_lines:
            other_file, other_line = self.rule_lines[value]
            self.problem(file, line, "rule_id", f"Already used in {other_file} line {other_line}.")
        else:
            self.rule_lines[value] = (file, line)

    def selector(self, file: str, line: int, column: str, value: str, kinds: tuple[str, ...],
                 groups: dict, classes: dict | None = None) -> None:
        kind, _sep, name = value.partition(":")
        if kind not in kinds or not name:
            self.problem(file, line, column, f"Write a selector: {' / '.join(k + ':…' for k in kinds)}.")
            return
        checks = {
            "ingredient": (INGREDIENT.match(name), "An ingredient is its lower-case English INN, e.g. "
                                                   "ingredient:simvastatin."),
            "atc": (ATC_PREFIX.match(name), "Not a WHO ATC code or level, e.g. atc:J02AC or atc:C10AA01."),
            "group": (name in groups, f"No group named {name!r} in groups.csv."),
            "class": (classes is not None and name in classes, f"No allergy class {name!r}."),
        }
        found, message = checks[kind]
        if not found:
            self.problem(file, line, column, message)

    def severity(self, file: str, line: int, value: str) -> Severity | None:
        try:
            return Severity(value)
        except ValueError:
            self.problem(file, line, "severity", f"Not one of: {', '.join(s.value for s in Severity)}.")
            return None

    def texts(self, file: str, line: int, row: dict[str, str], allowed: frozenset[str]) -> None:
        """The two messages and the source: each placeholder one the row fills in, the same in both."""
        before = self.mark()
        fields = {}
        for column in ("message_en", "message_zh"):
            text = row[column]
            if not text:
                self.problem(file, line, column, "This field is required.")
                continue
            try:
                parsed = string.Formatter().parse(text)
                names = {name for _text, name, _spec, _conv in parsed if name is not None}
            except ValueError:
                self.problem(file, line, column, "Unbalanced { or }; write {a} for a placeholder.")
                continue
            if names - allowed:
                self.problem(file, line, column, f"Unknown placeholder {sorted(names - allowed)[0]!r}; "
                                                 f"allowed: {', '.join(sorted(allowed))}.")
            fields[column] = names
        if row["message_zh"] and not CJK.search(row["message_zh"]):
            self.problem(file, line, "message_zh", "The Chinese message has no Chinese text.")
        # Compared only when both were read cleanly, so one mistake is not reported twice.
        if self.clean_since(before) and fields["message_en"] != fields["message_zh"]:
            self.problem(file, line, "message_zh", "Use the same placeholders as message_en.")
        if len(row["source"]) < 10:
            self.problem(file, line, "source", "Say where the rule comes from (label, guideline, list).")


def _groups(r: _Reader) -> dict[str, tuple[str, ...]]:
    file = "groups.csv"
    rows = r.rows(file)
    names = {row["group"] for _line, row in rows if GROUP_NAME.match(row["group"])}
    groups: dict[str, list[str]] = {}
    first_line: dict[str, int] = {}
    seen: dict[tuple[str, str], int] = {}
    for line, row in rows:
        name, member = row["group"], row["member"]
        if not GROUP_NAME.match(name):
            r.problem(file, line, "group", "Use lower-case letters, digits and underscores.")
            continue
        first_line.setdefault(name, line)
        before = r.mark()
        r.selector(file, line, "member", member, ("ingredient", "atc", "group"), names)
        if (name, member) in seen:
            r.problem(file, line, "member", f"Already a member (line {seen[name, member]}).")
        seen.setdefault((name, member), line)
        if len(row["source"]) < 10:
            r.problem(file, line, "source", "Say where the membership comes from.")
        if r.clean_since(before):  # a row with a problem adds no member
            groups.setdefault(name, []).append(member)
    for name in sorted(groups):
        if cycle := _cycle(name, groups):
            r.problem(file, first_line[name], "member", f"The group contains itself: {' → '.join(cycle)}.")
    return {name: tuple(members) for name, members in groups.items()}


def _cycle(start: str, groups: dict[str, list[str]]) -> list[str] | None:
    """The path by which `start` contains itself, if it does."""
    pending = [(start, [start])]
    visited = set()
    while pending:
        name, path = pending.pop()
        for member in groups.get(name, ()):
            if not member.startswith("group:"):
                continue
            inner = member[6:]
            if inner == start:
                return [*path, inner]
            if inner not in visited:
                visited.add(inner)
                pending.append((inner, [*path, inner]))
    return None


def _allergy_classes(r: _Reader, groups: dict) -> dict[str, tuple[str, ...]]:
    file = "allergy_classes.csv"
    known = patient_catalog.allergy_classes()
    classes: dict[str, list[str]] = {}
    for line, row in r.rows(file):
        code, before = row["class"], r.mark()
        if code not in known:
            r.problem(file, line, "class", "Not an allergy class of app/patients/data/allergy_classes.csv.")
        r.selector(file, line, "member", row["member"], ("ingredient", "atc", "group"), groups)
        if row["member"] in classes.get(code, ()):
            r.problem(file, line, "member", "Already a member of this class.")
        if len(row["source"]) < 10:
            r.problem(file, line, "source", "Say where the membership comes from.")
        if r.clean_since(before):
            classes.setdefault(code, []).append(row["member"])
    for code in known:
        if code not in classes:
            r.problem(file, 1, "class", f"The allergy class {code!r} has no members; it would never match.")
    return {code: tuple(members) for code, members in classes.items()}


def _interactions(r: _Reader, groups: dict) -> tuple[Rule, ...]:
    file = "interactions.csv"
    rules, pairs = [], {}
    kinds = ("ingredient", "atc", "group")
    for line, row in r.rows(file):
        before = r.mark()
        r.rule_id(file, line, row["rule_id"])
        r.selector(file, line, "a", row["a"], kinds, groups)
        r.selector(file, line, "b", row["b"], kinds, groups)
        severity = r.severity(file, line, row["severity"])
        r.texts(file, line, row, PLACEHOLDERS[file])
        a_dose = dose_limit(r, file, line, "a_dose", row["a_dose"])
        b_dose = dose_limit(r, file, line, "b_dose", row["b_dose"])
        # One row per pair, except rows told apart by a dose condition (>20 mg major, <=20 mg moderate).
        pair = frozenset(((row["a"], row["a_dose"]), (row["b"], row["b_dose"])))
        if pair in pairs:
            r.problem(file, line, "b", f"The same pair is already on line {pairs[pair]}.")
        pairs.setdefault(pair, line)
        if r.clean_since(before):
            rules.append(Rule(file, line, row["rule_id"], Kind.INTERACTION, severity, row["message_en"],
                              row["message_zh"], row["source"], a=row["a"], b=row["b"], a_dose=a_dose,
                              b_dose=b_dose))
    return tuple(rules)


def _duplicates(r: _Reader, groups: dict) -> tuple[Rule, ...]:
    file = "duplicate_classes.csv"
    rules, selectors = [], {}
    for line, row in r.rows(file):
        before = r.mark()
        r.rule_id(file, line, row["rule_id"])
        r.selector(file, line, "selector", row["selector"], ("ingredient", "atc", "group"), groups)
        if row["selector"] in selectors:
            r.problem(file, line, "selector", f"This class is already on line {selectors[row['selector']]}.")
        selectors.setdefault(row["selector"], line)
        severity = r.severity(file, line, row["severity"])
        r.texts(file, line, row, PLACEHOLDERS[file])
        if r.clean_since(before):
            rules.append(Rule(file, line, row["rule_id"], Kind.DUPLICATE, severity, row["message_en"],
                              row["message_zh"], row["source"], a=row["selector"]))
    return tuple(rules)


def _cross_reactivity(r: _Reader, groups: dict, classes: dict) -> tuple[Rule, ...]:
    file = "cross_reactivity.csv"
    rules = []
    for line, row in r.rows(file):
        before = r.mark()
        r.rule_id(file, line, row["rule_id"])
        if row["allergy_class"] not in classes:
            r.problem(file, line, "allergy_class", "Not an allergy class listed in allergy_classes.csv.")
        r.selector(file, line, "target", row["target"], ("ingredient", "atc", "group", "class"), groups,
                   classes)
        if row["target"] == f"class:{row['allergy_class']}":
            r.problem(file, line, "target", "A class is not cross-reactive with itself (a direct match).")
        severity = r.severity(file, line, row["severity"])
        r.texts(file, line, row, PLACEHOLDERS[file])
        if r.clean_since(before):
            rules.append(Rule(file, line, row["rule_id"], Kind.CROSS_REACTIVITY, severity, row["message_en"],
                              row["message_zh"], row["source"], b=row["target"],
                              allergy_class=row["allergy_class"]))
    return tuple(rules)


def _fixed_rules(r: _Reader) -> dict[str, Rule]:
    file = "rules.csv"
    rules = {}
    for line, row in r.rows(file):
        rule_id = row["rule_id"]
        if rule_id not in FIXED_RULES:
            r.problem(file, line, "rule_id", f"No check in code has this rule_id; they are: "
                                             f"{', '.join(FIXED_RULES)}.")
            continue
        before = r.mark()
        r.rule_id(file, line, rule_id)
        kind, allowed = FIXED_RULES[rule_id]
        if row["kind"] != kind:
            r.problem(file, line, "kind", f"This rule's kind is {kind}.")
        severity = r.severity(file, line, row["severity"])
        r.texts(file, line, row, allowed)
        if r.clean_since(before):
            rules[rule_id] = Rule(file, line, rule_id, kind, severity, row["message_en"], row["message_zh"],
                                  row["source"])
    for rule_id in FIXED_RULES:
        if rule_id not in rules and rule_id not in r.rule_lines:
            r.problem(file, 1, "rule_id", f"The rule {rule_id!r} is missing.")
    return rules


def _synonyms(r: _Reader, classes: dict) -> tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]]:
    """Typed allergy names → class or ingredient selectors; each class's code and names count too."""
    file = "allergy_synonyms.csv"
    named: dict[str, str] = {}  # a class's own code and names: they can only mean that class
    for code, entry in patient_catalog.allergy_classes().items():
        if code in classes:
            for text in (code, entry.name_en, entry.name_zh):
                named[normalise_term(text)] = f"class:{code}"
    targets: dict[str, dict[str, set[str]]] = {}  # term → language → selectors
    seen: dict[tuple[str, str, str], int] = {}
    terms: dict[str, dict[str, str]] = {"en": {}, "zh": {}}
    for line, row in r.rows(file):
        term, language, target = normalise_term(row["term"]), row["language"], row["target"]
        before = r.mark()
        if not term or len(term) > 120:  # what an allergy's substance column holds
            r.problem(file, line, "term", "Write the term as a patient or doctor types it, at most 120 "
                                          "characters.")
        if language not in terms:
            r.problem(file, line, "language", "Write en or zh.")
        elif language == "en" and CJK.search(term):
            r.problem(file, line, "language", "The term has Chinese characters; its language is zh.")
        r.selector(file, line, "target", target, ("class", "ingredient"), {}, classes)
        # The next two only for a row read cleanly so far: they compare it with what is already known.
        if r.clean_since(before) and named.get(term, target) != target:
            r.problem(file, line, "target", f"{row['term']!r} is the name of the allergy class "
                                            f"{named[term][6:]!r}; it can only mean {named[term]}.")
        if r.clean_since(before) and (term, language, target) in seen:
            r.problem(file, line, "term", f"Already listed on line {seen[term, language, target]} "
                                          f"(the same term once normalised: {term!r}).")
        if len(row["source"]) < 10:
            r.problem(file, line, "source", "Say where the term comes from (label, ATC class, 药典).")
        if r.clean_since(before):
            seen[term, language, target] = line
            targets.setdefault(term, {}).setdefault(language, set()).add(target)
            terms[language].setdefault(term, row["term"])
    for term, by_language in targets.items():
        if len({frozenset(t) for t in by_language.values()}) > 1:
            # Matching ignores the language, so a term must mean the same in both.
            line = max(seen[term, language, t] for language, ts in by_language.items() for t in ts)
            r.problem(file, line, "target", f"{term!r} means different things in en and zh; make them agree.")
    synonyms = {term: (target,) for term, target in named.items()}
    for term, by_language in targets.items():
        # A class's own code or name is kept in the file only for that class (refused above otherwise),
        # so the file's targets for it include the class.
        synonyms[term] = tuple(sorted(set().union(*by_language.values())))
    return synonyms, {language: tuple(found.values()) for language, found in terms.items()}


def read_knowledge_base(directory: Path) -> KnowledgeBase:
    r = _Reader(directory)
    version = r.version()
    groups = _groups(r)
    classes = _allergy_classes(r, groups)
    interactions = _interactions(r, groups)
    duplicates = _duplicates(r, groups)
    cross = _cross_reactivity(r, groups, classes)
    rules = _fixed_rules(r)
    synonyms, synonym_terms = _synonyms(r, classes)
    patient_rules, indications = read_patient_files(r, groups)
    if r.problems:
        raise KnowledgeBaseError(r.problems)
    return KnowledgeBase(version=f"{version}+{r.digest()}", groups=groups, allergy_classes=classes,
                         interactions=interactions, duplicates=duplicates, cross_reactivity=cross,
                         rules=rules, synonyms=synonyms, synonym_terms=synonym_terms,
                         patient_rules=patient_rules, indications=indications)
