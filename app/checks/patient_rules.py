"""The patient-aware checks: kidneys, liver, pregnancy and breastfeeding, older age, children, diseases,
and whether a drug fits a diagnosis. Pure, like engine.py, which calls these once per line."""

from decimal import Decimal
from fractions import Fraction

from app.checks import amounts
from app.checks.knowledge import KnowledgeBase, PatientRule, Profile
from app.checks.patient_facts import ClinicalState, Reading, code_matches

# Said after the message of a finding that rests on an old measurement (patient_facts.MAX_AGE_DAYS).
STALE_EN = " Based on {what}, more than {days} days old: confirm it is still current."
STALE_ZH = "（依据{what}，已超过{days}天，请确认是否仍然准确。）"
PER_KG_ACTIONS = ("max_daily_per_kg",)


def stale_note(reading: Reading | None) -> tuple[str, str]:
    if reading is None or not reading.stale:
        return "", ""
    return (STALE_EN.format(what=reading.words_en, days=reading.limit_days),
            STALE_ZH.format(what=reading.words_zh, days=reading.limit_days))


def _rules(kb: KnowledgeBase, profile: Profile, family: str):
    rules = kb.patient_rules.get(family, ())
    return [rules[number] for number in profile.patient_rules.get(family, ())]


def _daily(line, unit: str) -> Fraction | None:
    return amounts.daily_in(line, unit) if unit else None


def _dose_words(rule: PatientRule, daily: Fraction | None) -> dict:
    values = {"unit": rule.unit}
    if rule.dose is not None:
        values["dose"] = amounts.number(rule.dose)
    if daily is not None:
        values["daily"] = amounts.number(daily)
    return values


def _over_maximum(rule: PatientRule, line) -> tuple[bool, Fraction | None]:
    """Whether a max_daily row fires: the prescribed daily dose is above the row's maximum."""
    daily = _daily(line, rule.unit)
    return daily is not None and rule.dose is not None and daily > rule.dose, daily


def _in_band(low, high, value: Decimal) -> bool:
    return (low is None or value >= low) and (high is None or value < high)


def check_line(kb: KnowledgeBase, line, profile: Profile, state: ClinicalState, diagnoses, found) -> None:
    """Every patient-aware finding for one line (the caller has checked the drug–drug pairs)."""
    en, zh = {"drug": line.drug.name_en}, {"drug": line.drug.name_zh}
    if state.renal is not None:
        _renal(kb, line, profile, state, en, zh, found)
    if state.child_pugh is not None:
        _hepatic(kb, line, profile, state, en, zh, found)
    if state.pregnancy is not None or state.breastfeeding is not None:
        _pregnancy(kb, line, profile, state, en, zh, found)
    if state.age is not None:
        _older_adult(kb, line, profile, state, en, zh, found)
        if state.is_child:
            _child(kb, line, profile, state, en, zh, found)
    if state.conditions:
        for rule in _rules(kb, profile, "drug_disease"):
            code = next((c for c in state.conditions if code_matches(c, rule.conditions)), None)
            if code:
                found.add(rule, line, en | {"condition": code}, zh | {"condition": code})
    _indication(kb, line, profile, diagnoses, en, zh, found)


def _renal(kb, line, profile, state, en, zh, found) -> None:
    renal = state.renal
    for rule in _rules(kb, profile, "renal"):
        if renal.low == renal.high:  # a measured value
            applies = _in_band(rule.low, rule.high, renal.low)
        else:  # a range known from a CKD stage: every band it overlaps
            applies = ((rule.high is None or renal.low < rule.high)
                       and (renal.high is None or rule.low is None or rule.low < renal.high))
        if applies:
            _add_organ_rule(rule, line, renal.reading, en, zh, found)


def _hepatic(kb, line, profile, state, en, zh, found) -> None:
    for rule in _rules(kb, profile, "hepatic"):
        if state.child_pugh.value in rule.classes:
            _add_organ_rule(rule, line, state.child_pugh, en, zh, found)


def _add_organ_rule(rule: PatientRule, line, reading: Reading, en, zh, found) -> None:
    """A renal or hepatic row that applies: avoid and adjust always fire, max_daily above its maximum."""
    daily = None
    if rule.action == "max_daily":
        over, daily = _over_maximum(rule, line)
        if not over:
            return
    words = _dose_words(rule, daily)
    found.add(rule, line, en | {"value": reading.words_en} | words, zh | {"value": reading.words_zh} | words,
              note=stale_note(reading))


def _pregnancy(kb, line, profile, state, en, zh, found) -> None:
    for rule in _rules(kb, profile, "pregnancy"):
        if rule.state == "pregnancy" and state.pregnancy is not None:
            weeks = state.pregnancy.weeks
            if weeks is not None and not _in_band(rule.low, rule.high, Decimal(weeks)):
                continue
            reading = state.pregnancy.reading
        elif rule.state == "breastfeeding" and state.breastfeeding is not None:
            reading = state.breastfeeding
        else:
            continue
        found.add(rule, line, en | {"value": reading.words_en}, zh | {"value": reading.words_zh},
                  note=stale_note(reading))


def _older_adult(kb, line, profile, state, en, zh, found) -> None:
    for rule in _rules(kb, profile, "older_adults"):
        if state.age < rule.low:
            continue
        code = None
        if rule.conditions:
            code = next((c for c in state.conditions if code_matches(c, rule.conditions)), None)
            if code is None:
                continue
        daily = None
        if rule.dose is not None:
            daily = _daily(line, rule.unit)
            if daily is None or daily <= rule.dose:
                continue
        words = _dose_words(rule, daily) | {"age": state.age} | ({"condition": code} if code else {})
        found.add(rule, line, en | words, zh | words)


def _child_rules(kb, profile, state) -> list[PatientRule]:
    """The children's rows for this child's age (weight bands are judged by the caller)."""
    age = Decimal(state.age)
    return [rule for rule in _rules(kb, profile, "paediatric") if _in_band(rule.low, rule.high, age)]


def replaces_adult_maximum(kb: KnowledgeBase, profile: Profile, state: ClinicalState) -> bool:
    """A child's dose row with what it needs (the weight, for a per-kg or weight-banded row) replaces
    the catalogue's adult maximum daily dose."""
    if not state.is_child:
        return False
    weight = state.weight
    for rule in _child_rules(kb, profile, state):
        if rule.action == "avoid":
            continue
        banded = rule.weight_low is not None or rule.weight_high is not None
        if banded and (weight is None or not _in_band(rule.weight_low, rule.weight_high, weight.value)):
            continue  # a band for other weights says nothing about this child's maximum
        if rule.action not in PER_KG_ACTIONS or weight is not None:
            return True
    return False


def _child(kb, line, profile, state, en, zh, found) -> None:
    weight = state.weight
    note = stale_note(weight)
    weight_missing = False
    for rule in _child_rules(kb, profile, state):
        banded = rule.weight_low is not None or rule.weight_high is not None
        if weight is None and (banded or rule.action in PER_KG_ACTIONS):
            weight_missing = True  # even an age limit by weight ("not under 35 kg") needs the weight
            continue
        if banded and not _in_band(rule.weight_low, rule.weight_high, weight.value):
            continue
        words = {"age": state.age}
        if rule.action != "avoid":
            daily = _daily(line, rule.unit)
            maximum = rule.dose
            if rule.action in PER_KG_ACTIONS:
                maximum = rule.per_kg * Fraction(weight.value)
                if rule.dose is not None:
                    maximum = min(maximum, rule.dose)
            if daily is None or maximum is None or daily <= maximum:
                continue
            words |= {"daily": amounts.number(daily), "max": amounts.number(maximum), "unit": rule.unit,
                      "weight": amounts.number(Fraction(weight.value)) if weight else ""}
        found.add(rule, line, en | words, zh | words, note=note if rule.action != "avoid" else ("", ""))
    if weight_missing:
        age = {"age": state.age}
        found.add(kb.rules["paediatric-weight-unknown"], line, en | age, zh | age)


def _indication(kb, line, profile, diagnoses, en, zh, found) -> None:
    if not profile.indications or not diagnoses:
        return  # a drug without listed indications, or a patient without diagnoses: nothing to compare
    if any(code_matches(code, profile.indications) for code in diagnoses):
        return
    listed = ", ".join(diagnoses)
    found.add(kb.rules["no-matching-diagnosis"], line, en | {"diagnoses": listed}, zh | {"diagnoses": listed})
