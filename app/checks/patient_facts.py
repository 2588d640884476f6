"""What the checks know of the patient's body: dated facts, how old they may be, and what codes imply."""

# Pure (no database, no Flask): the engine, the patient record pages and the case reader all ask the
# same questions here, so a fact the record shows as stale is the fact the checks call stale.

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

# How old a fact may be before it is stale: still used, but every finding built on it says so.
# Renal and hepatic function change with illness (KDIGO 2024 monitors CKD 3–4 at least every 6 months);
# a child's weight changes within months.
MAX_AGE_DAYS = {"renal": 183, "hepatic": 183, "weight": 365, "weight_child": 90, "height": 365 * 2,
                "breastfeeding": 365}
ADULT_AGE = 18
PREGNANCY_TERM_WEEKS = 42  # counted forward past this, a recorded pregnancy has ended

RENAL_KINDS = ("egfr", "crcl")
FACT_KINDS = ("weight", "height", "egfr", "crcl", "child_pugh", "pregnancy", "breastfeeding")
CHILD_PUGH_CLASSES = ("A", "B", "C")

# KDIGO G-stages as coded in ICD-10-CM N18.x: [from, below) in mL/min/1.73 m².
CKD_STAGES = {"N18.1": (Decimal(90), None), "N18.2": (Decimal(60), Decimal(90)),
              "N18.3": (Decimal(30), Decimal(60)), "N18.4": (Decimal(15), Decimal(30)),
              "N18.5": (Decimal(0), Decimal(15))}  # N18.6, end-stage on dialysis, is a dialysis code
DIALYSIS_CODES = ("N18.6", "Z99.2", "Z49")  # end-stage disease, dependence on dialysis, dialysis care
# Pregnant now: Z33 pregnant state, Z34 supervision of normal pregnancy, Z3A weeks of gestation,
# O09–O48 pregnancy and its complications (O00–O08 end a pregnancy; O60 onwards are labour and after).
PREGNANCY_CODES = ("Z33", "Z34", "Z3A", *(f"O{n:02d}" for n in range(9, 49)))
BREASTFEEDING_CODES = ("Z39.1", "O91", "O92")


@dataclass(frozen=True)
class Fact:
    """One measurement as recorded: kind as app.patients.models.FactKind, value a number or a class."""

    kind: str
    value: Decimal | str
    measured_on: date | None = None  # None: measured on the day of the check
    source: str = "doctor"  # doctor / patient


@dataclass(frozen=True)
class Reading:
    """A fact as the checks use it, with the words a finding quotes."""

    words_en: str
    words_zh: str
    stale: bool = False
    limit_days: int | None = None  # how old it may be, for the stale note
    value: Decimal | str | None = None  # what a rule compares: a weight in kg, a Child-Pugh class


@dataclass(frozen=True)
class Renal:
    low: Decimal  # the patient's renal function lies in [low, high)
    high: Decimal | None
    reading: Reading
    dialysis: bool = False


@dataclass(frozen=True)
class Pregnancy:
    weeks: int | None  # None: pregnant, weeks not known (from a code)
    reading: Reading


@dataclass(frozen=True)
class ClinicalState:
    """The patient as the patient-aware rules see them on the day of the check."""

    age: int | None = None
    conditions: tuple[str, ...] = ()
    weight: Reading | None = None
    renal: Renal | None = None
    child_pugh: Reading | None = None
    pregnancy: Pregnancy | None = None
    breastfeeding: Reading | None = None

    @property
    def is_child(self) -> bool:
        return self.age is not None and self.age < ADULT_AGE


def code_matches(code: str, prefixes) -> str | None:
    """The first prefix an ICD-10 code falls under ("I50.9" under "I50"), or None."""
    code = code.upper()
    for prefix in prefixes:
        if code.startswith(prefix):
            return prefix
    return None


def _number(value) -> str:
    text = format(Decimal(value).normalize(), "f")
    return text


def _is_stale(measured_on: date | None, today: date, limit: int | None) -> bool:
    return limit is not None and measured_on is not None and (today - measured_on).days > limit


def newest(facts, kinds) -> Fact | None:
    """The fact in force: the latest measured (a fact without a date counts as today's)."""
    chosen = None
    for fact in facts:
        if fact.kind not in kinds:
            continue
        if chosen is None or (fact.measured_on or date.max) >= (chosen.measured_on or date.max):
            chosen = fact
    return chosen


def _renal(facts, conditions, today: date, limits: dict) -> Renal | None:
    dialysis = next((c for c in conditions if code_matches(c, DIALYSIS_CODES)), None)
    if dialysis:
        words = (f"dialysis ({dialysis})", f"透析（{dialysis}）")
        return Renal(Decimal(0), Decimal(15), Reading(*words), dialysis=True)
    staged = [(CKD_STAGES[prefix], code) for code in conditions
              if (prefix := code_matches(code, CKD_STAGES))]
    fact = newest(facts, RENAL_KINDS)
    if fact is not None:
        limit = limits["renal"]
        stale = _is_stale(fact.measured_on, today, limit)
        if not (stale and staged):  # a stale value gives way to a coded stage, else it is used, flagged
            value = Decimal(fact.value)
            measure_en, measure_zh, unit = (("eGFR", "eGFR", "mL/min/1.73 m²") if fact.kind == "egfr"
                                            else ("creatinine clearance", "肌酐清除率", "mL/min"))
            dated = f" ({fact.measured_on.isoformat()})" if fact.measured_on else ""
            reading = Reading(f"{measure_en} {_number(value)} {unit}{dated}",
                              f"{measure_zh} {_number(value)} {unit}{dated}", stale, limit)
            return Renal(value, value, reading)
    if staged:
        (low, high), code = min(staged, key=lambda item: item[0][0])
        band = f"{_number(low)}–{_number(high)}" if high is not None else f"≥{_number(low)}"
        reading = Reading(f"CKD {code}, eGFR {band} mL/min/1.73 m²",
                          f"慢性肾脏病 {code}，eGFR {band} mL/min/1.73 m²")
        return Renal(low, high, reading)
    return None


def _pregnancy(facts, conditions, today: date) -> Pregnancy | None:
    fact = newest(facts, ("pregnancy",))
    if fact is not None:  # a recorded fact, even "not pregnant", outranks codes that carry no date
        weeks = int(Decimal(fact.value))
        if weeks <= 0:
            return None
        elapsed = (today - fact.measured_on).days // 7 if fact.measured_on else 0
        now = weeks + elapsed
        if now > PREGNANCY_TERM_WEEKS:
            return None
        dated = f" ({fact.measured_on.isoformat()})" if fact.measured_on else ""
        return Pregnancy(now, Reading(f"pregnant, {now} weeks{dated}", f"妊娠{now}周{dated}"))
    code = next((c for c in conditions if code_matches(c, PREGNANCY_CODES)), None)
    if code:
        return Pregnancy(None, Reading(f"pregnant ({code}), weeks not recorded",
                                       f"妊娠（{code}），孕周未记录"))
    return None


def _breastfeeding(facts, conditions, today: date, limits: dict) -> Reading | None:
    fact = newest(facts, ("breastfeeding",))
    if fact is not None:
        if Decimal(fact.value) <= 0:
            return None
        limit = limits["breastfeeding"]
        dated = f" ({fact.measured_on.isoformat()})" if fact.measured_on else ""
        return Reading(f"breastfeeding{dated}", f"哺乳期{dated}", _is_stale(fact.measured_on, today, limit),
                       limit)
    code = next((c for c in conditions if code_matches(c, BREASTFEEDING_CODES)), None)
    if code:
        return Reading(f"breastfeeding ({code})", f"哺乳期（{code}）")
    return None


def assess(facts, conditions, *, age: int | None, sex: str | None, today: date,
           max_age_days: dict | None = None) -> ClinicalState:
    """Everything the patient-aware rules ask about, computed once per check."""
    limits = MAX_AGE_DAYS | (max_age_days or {})
    conditions = tuple(c.upper() for c in conditions)
    weight = None
    if (fact := newest(facts, ("weight",))) is not None:
        limit = limits["weight_child" if age is not None and age < ADULT_AGE else "weight"]
        dated = f" ({fact.measured_on.isoformat()})" if fact.measured_on else ""
        value = Decimal(fact.value)
        weight = Reading(f"weight {_number(value)} kg{dated}", f"体重 {_number(value)} kg{dated}",
                         _is_stale(fact.measured_on, today, limit), limit, value)
    child_pugh = None
    if (fact := newest(facts, ("child_pugh",))) is not None:
        limit = limits["hepatic"]
        dated = f" ({fact.measured_on.isoformat()})" if fact.measured_on else ""
        child_pugh = Reading(f"Child-Pugh class {fact.value}{dated}", f"Child-Pugh {fact.value}级{dated}",
                             _is_stale(fact.measured_on, today, limit), limit, str(fact.value))
    pregnancy = _pregnancy(facts, conditions, today) if sex != "male" else None
    breastfeeding = _breastfeeding(facts, conditions, today, limits) if sex != "male" else None
    return ClinicalState(age=age, conditions=conditions, weight=weight,
                         renal=_renal(facts, conditions, today, limits), child_pugh=child_pugh,
                         pregnancy=pregnancy, breastfeeding=breastfeeding)


def stale_kinds(facts, *, age: int | None, today: date, max_age_days: dict | None = None) -> set[str]:
    """Which of the facts in force are stale (the record pages mark them)."""
    limits = MAX_AGE_DAYS | (max_age_days or {})
    stale = set()
    for kind in FACT_KINDS:
        fact = newest(facts, (kind,))
        if fact is None:
            continue
        if kind in RENAL_KINDS:
            limit = limits["renal"]
        elif kind == "child_pugh":
            limit = limits["hepatic"]
        elif kind == "weight":
            limit = limits["weight_child" if age is not None and age < ADULT_AGE else "weight"]
        elif kind == "pregnancy":
            if fact.measured_on and Decimal(fact.value) > 0:
                weeks = int(Decimal(fact.value)) + (today - fact.measured_on).days // 7
                if weeks > PREGNANCY_TERM_WEEKS:
                    stale.add(kind)
            continue
        else:
            limit = limits[kind]
        if _is_stale(fact.measured_on, today, limit):
            stale.add(kind)
    return stale
