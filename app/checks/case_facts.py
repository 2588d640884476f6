"""The patient facts of a check case in JSON: weight, renal and hepatic function, pregnancy, the day."""

from datetime import date
from decimal import Decimal

from app.checks.patient_facts import CHILD_PUGH_CLASSES, Fact

FACT_KEYS = {"today", "weight_kg", "height_cm", "egfr", "crcl", "child_pugh", "pregnancy_weeks", "pregnant",
             "breastfeeding", "diagnoses"}
# The same plausible ranges as the patient record accepts (app/patients/facts.py).
NUMBER_RANGES = {"weight_kg": ("weight", 0.3, 400), "height_cm": ("height", 20, 250),
                 "egfr": ("egfr", 0, 200), "crcl": ("crcl", 0, 200), "pregnancy_weeks": ("pregnancy", 0, 44)}


def _date(text, where: str, problems: list[str]) -> date | None:
    if not isinstance(text, str) or len(text) != 10:
        problems.append(f"{where}: a date as YYYY-MM-DD.")
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        problems.append(f"{where}: a date as YYYY-MM-DD.")
        return None


def _value(key: str, raw, problems: list[str]) -> tuple[object, date | None]:
    """A fact is a bare value (measured on the case's day) or {"value": …, "measured_on": "YYYY-MM-DD"}."""
    measured_on = None
    if isinstance(raw, dict):
        unknown = set(raw) - {"value", "measured_on"}
        if unknown:
            problems.append(f"{key}: unknown key {sorted(unknown)[0]!r}; use value and measured_on.")
        if "measured_on" in raw:
            measured_on = _date(raw["measured_on"], f"{key}.measured_on", problems)
        raw = raw.get("value")
    return raw, measured_on


def parse_facts(data: dict, problems: list[str]) -> tuple[tuple[Fact, ...], date | None, tuple[str, ...]]:
    """(facts, the day of the check, the prescription's diagnoses); problems are appended to `problems`."""
    today = _date(data["today"], "today", problems) if "today" in data else None
    facts = []
    for key, (kind, low, high) in NUMBER_RANGES.items():
        if key not in data:
            continue
        raw, measured_on = _value(key, data[key], problems)
        if isinstance(raw, bool) or not isinstance(raw, int | float) or not low <= raw <= high:
            problems.append(f"{key}: a number from {low} to {high}.")
            continue
        facts.append(Fact(kind, Decimal(str(raw)), measured_on))
    if "child_pugh" in data:
        raw, measured_on = _value("child_pugh", data["child_pugh"], problems)
        if raw not in CHILD_PUGH_CLASSES:
            problems.append("child_pugh: \"A\", \"B\" or \"C\".")
        else:
            facts.append(Fact("child_pugh", raw, measured_on))
    if isinstance(data.get("pregnant"), dict):
        problems.append("pregnant: true or false, without a date (a dated pregnancy is pregnancy_weeks with "
                        "measured_on).")
    for key in ("pregnant", "breastfeeding"):
        if key in data and not (key == "pregnant" and isinstance(data[key], dict)):
            raw, measured_on = _value(key, data[key], problems)
            if not isinstance(raw, bool):
                problems.append(f"{key}: true or false.")
            elif key == "breastfeeding":
                facts.append(Fact("breastfeeding", Decimal(int(raw)), measured_on))
            elif not raw:
                facts.append(Fact("pregnancy", Decimal(0), measured_on))
    if "pregnant" in data and "pregnancy_weeks" in data:
        problems.append("pregnant: give pregnancy_weeks or pregnant, not both.")
    diagnoses = data.get("diagnoses", [])
    if not isinstance(diagnoses, list) or not all(isinstance(code, str) for code in diagnoses):
        problems.append("diagnoses: a list of ICD-10 codes such as \"I10\".")
        diagnoses = []
    return tuple(facts), today, tuple(diagnoses)


def pregnant_without_weeks(data: dict) -> tuple[str, ...]:
    """"pregnant": true without weeks reads as the pregnancy code Z33.1 (pregnant state, incidental)."""
    return ("Z33.1",) if data.get("pregnant") is True else ()
