"""Reading the patient-aware rule files (renal … indications) and the dose columns of interactions."""

# Apart from validation.py, which reads the drug–drug files and calls read_patient_files() with its
# reader, so each file's problems are still reported by file, line and column.

import re
from decimal import Decimal, InvalidOperation
from fractions import Fraction

from app.checks.knowledge import PATIENT_FAMILIES, DoseLimit, PatientRule, Severity

COMMON = ("severity", "message_en", "message_zh", "source")
FAMILY_COLUMNS = {
    "renal.csv": ("rule_id", "selector", "measure", "from", "below", "action", "dose", "unit", *COMMON),
    "hepatic.csv": ("rule_id", "selector", "child_pugh", "action", "dose", "unit", *COMMON),
    "pregnancy.csv": ("rule_id", "selector", "state", "from_week", "before_week", *COMMON),
    "older_adults.csv": ("rule_id", "selector", "min_age", "conditions", "dose_above", "unit", *COMMON),
    "paediatric.csv": ("rule_id", "selector", "from_age", "below_age", "from_weight", "below_weight",
                       "action", "dose", "per_kg", "unit", *COMMON),
    "drug_disease.csv": ("rule_id", "selector", "conditions", *COMMON),
    "indications.csv": ("selector", "conditions", "source"),
}


def allowed_placeholders(file: str, row: dict) -> frozenset[str]:
    """What this row's messages may name: only what the engine fills in for a row like it, so a message
    can never ask for a value its action does not give (it would fail every check of the drug)."""
    names = {"drug"}
    if file in ("renal.csv", "hepatic.csv"):
        names |= {"value"}
        names |= {"dose", "unit"} if row["dose"] else set()
        names |= {"daily"} if row["action"] == "max_daily" else set()
    elif file == "pregnancy.csv":
        names |= {"value"}
    elif file == "older_adults.csv":
        names |= {"age"}
        names |= {"condition"} if row["conditions"] else set()
        names |= {"daily", "dose", "unit"} if row["dose_above"] else set()
    elif file == "paediatric.csv":
        names |= {"age"}
        dosed = row["action"] in ("max_daily", "max_daily_per_kg")
        names |= {"daily", "max", "unit"} if dosed else set()
        # The weight is known whenever a per-kg or weight-banded row fires; a row by age alone also
        # fires for a child whose weight is not recorded, so its message may not quote the weight.
        weighed = row["action"] == "max_daily_per_kg" or row["from_weight"] or row["below_weight"]
        names |= {"weight"} if dosed and weighed else set()
    elif file == "drug_disease.csv":
        names |= {"condition"}
    return frozenset(names)


ACTIONS = {"renal.csv": ("avoid", "adjust", "max_daily"), "hepatic.csv": ("avoid", "adjust", "max_daily"),
           "paediatric.csv": ("avoid", "max_daily", "max_daily_per_kg")}
UNITS = ("mg", "µg", "g", "IU")
ICD10_PREFIX = re.compile(r"^[A-Z]\d{2}(?:\.\d{1,4})?$|^[A-Z]\d[A-Z0-9](?:\.\d{1,4})?$")
DOSE_LIMIT = re.compile(r"^(>=|<=|>|<)\s*(\d{1,6}(?:\.\d{1,4})?)\s*(mg|µg|ug|g|IU)$")
SELECTOR_KINDS = ("ingredient", "atc", "group")
MAX_NUMBER = Decimal(100_000)


def _decimal(r, file, line, column, text, *, required=False) -> Decimal | None:
    """The number written, or None: left blank, or written wrong (a problem is recorded)."""
    if not text:
        if required:
            r.problem(file, line, column, "This field is required.")
        return None
    if len(text) > 12:
        r.problem(file, line, column, "Write a plain number such as 30 or 0.125.")
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        r.problem(file, line, column, "Write a plain number such as 30 or 0.125.")
        return None
    if not value.is_finite() or value < 0 or value > MAX_NUMBER:
        r.problem(file, line, column, "Write a number from 0 to 100000.")
        return None
    return value


def dose_limit(r, file: str, line: int, column: str, text: str) -> DoseLimit | None:
    """`>20 mg` → DoseLimit; blank, or written wrong (a problem is recorded) → None."""
    if not text:
        return None
    match = DOSE_LIMIT.match(text.strip())
    if not match:
        r.problem(file, line, column, "Write a daily-dose condition such as >20 mg or <=20 mg.")
        return None
    operator, amount, unit = match.groups()
    return DoseLimit(operator, Fraction(Decimal(amount)), "µg" if unit == "ug" else unit)


def _conditions(r, file, line, text, *, required=False) -> tuple[str, ...]:
    codes = tuple(text.split())
    if required and not codes:
        r.problem(file, line, "conditions", "List ICD-10 codes or prefixes, e.g. I50 or J45 J46.")
    bad = [code for code in codes if not ICD10_PREFIX.match(code)]
    if bad:
        r.problem(file, line, "conditions", f"Not an ICD-10 code or prefix: {bad[0]!r} (e.g. I50, K92.2).")
    return codes


def _band(r, file, line, low_column, high_column, row) -> tuple[Decimal | None, Decimal | None]:
    low = _decimal(r, file, line, low_column, row[low_column])
    high = _decimal(r, file, line, high_column, row[high_column])
    if low is not None and high is not None and low >= high:
        r.problem(file, line, high_column, f"{high_column} must be above {low_column}.")
    return low, high


def _dose(r, file, line, row) -> dict:
    """The dose columns an action needs: max_daily → dose + unit; max_daily_per_kg → per_kg + unit."""
    dose = _decimal(r, file, line, "dose", row["dose"])
    # Only the paediatric file has a per-kg column; elsewhere max_daily_per_kg is refused as an action.
    per_kg = _decimal(r, file, line, "per_kg", row["per_kg"]) if "per_kg" in row else None
    if row["action"] == "max_daily" and not row["dose"]:
        r.problem(file, line, "dose", "A max_daily row needs the maximum daily dose.")
    if row["action"] == "max_daily_per_kg" and "per_kg" in row and not row["per_kg"]:
        r.problem(file, line, "per_kg", "A max_daily_per_kg row needs the dose per kg a day.")
    if (dose is not None or per_kg is not None) and row["unit"] not in UNITS:
        r.problem(file, line, "unit", f"Write one of: {', '.join(UNITS)}.")
    return {"dose": Fraction(dose) if dose is not None else None,
            "per_kg": Fraction(per_kg) if per_kg is not None else None, "unit": row["unit"]}


def _family_row(r, file: str, line: int, row: dict, groups: dict) -> PatientRule | None:
    """The rule a row means, or None when the row added any problem (each is reported where it is)."""
    before = r.mark()
    r.rule_id(file, line, row["rule_id"])
    r.selector(file, line, "selector", row["selector"], SELECTOR_KINDS, groups)
    severity: Severity | None = r.severity(file, line, row["severity"])
    r.texts(file, line, row, allowed_placeholders(file, row))
    fields: dict = {}
    if file in ACTIONS:  # the other families have no action: their rules fire whenever they apply
        fields["action"] = row["action"]
        if row["action"] not in ACTIONS[file]:
            r.problem(file, line, "action", f"Write one of: {', '.join(ACTIONS[file])}.")
    if file == "renal.csv":
        if row["measure"] not in ("egfr", "crcl"):
            r.problem(file, line, "measure", "Write egfr or crcl: what the source gives the cut-off in.")
        fields["low"], fields["high"] = _band(r, file, line, "from", "below", row)
        fields |= _dose(r, file, line, row)
    elif file == "hepatic.csv":
        fields["classes"] = frozenset(row["child_pugh"].split())
        if not fields["classes"] or not fields["classes"] <= {"A", "B", "C"}:
            r.problem(file, line, "child_pugh", "Write one or more of A B C, separated by spaces.")
        fields |= _dose(r, file, line, row)
    elif file == "pregnancy.csv":
        if row["state"] not in ("pregnancy", "breastfeeding"):
            r.problem(file, line, "state", "Write pregnancy or breastfeeding.")
        fields["low"], fields["high"] = _band(r, file, line, "from_week", "before_week", row)
        if row["state"] == "breastfeeding" and (row["from_week"] or row["before_week"]):
            r.problem(file, line, "from_week", "Weeks apply to pregnancy only.")
        fields["state"] = row["state"]
    elif file == "older_adults.csv":
        fields["low"] = _decimal(r, file, line, "min_age", row["min_age"], required=True)
        if fields["low"] is not None and fields["low"] < 65:
            r.problem(file, line, "min_age", "The Beers Criteria start at 65.")
        fields["conditions"] = _conditions(r, file, line, row["conditions"])
        above = _decimal(r, file, line, "dose_above", row["dose_above"])
        if above is not None and row["unit"] not in UNITS:
            r.problem(file, line, "unit", f"Write one of: {', '.join(UNITS)}.")
        fields |= {"dose": Fraction(above) if above is not None else None, "unit": row["unit"]}
    elif file == "paediatric.csv":
        fields["low"], fields["high"] = _band(r, file, line, "from_age", "below_age", row)
        fields["weight_low"], fields["weight_high"] = _band(r, file, line, "from_weight", "below_weight", row)
        if fields["high"] is not None and fields["high"] > 18:
            r.problem(file, line, "below_age", "Children are under 18.")
        fields |= _dose(r, file, line, row)
    elif file == "drug_disease.csv":
        fields["conditions"] = _conditions(r, file, line, row["conditions"], required=True)
    if not r.clean_since(before):
        return None
    kind = PATIENT_FAMILIES[file.removesuffix(".csv")]
    return PatientRule(file, line, row["rule_id"], kind, severity, row["message_en"], row["message_zh"],
                       row["source"], selector=row["selector"], **fields)


def read_patient_files(r, groups: dict) -> tuple[dict, tuple]:
    """Every patient-aware family's rules, and the indications (selector, ICD-10 prefixes)."""
    families = {}
    for family in PATIENT_FAMILIES:
        file = f"{family}.csv"
        rules = [_family_row(r, file, line, row, groups) for line, row in r.rows(file)]
        families[family] = tuple(rule for rule in rules if rule is not None)
    indications, seen = [], {}
    file = "indications.csv"
    for line, row in r.rows(file):
        before = r.mark()
        r.selector(file, line, "selector", row["selector"], SELECTOR_KINDS, groups)
        codes = _conditions(r, file, line, row["conditions"], required=True)
        if row["selector"] in seen:
            r.problem(file, line, "selector", f"Already listed on line {seen[row['selector']]}; "
                                              "put all its codes on one row.")
        seen.setdefault(row["selector"], line)
        if len(row["source"]) < 10:
            r.problem(file, line, "source", "Say where the indications come from (label, 说明书).")
        if r.clean_since(before):
            indications.append((row["selector"], codes))
    return families, tuple(indications)
