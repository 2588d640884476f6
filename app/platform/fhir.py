"""FHIR R4 resources for the data platform, built field by field from de-identified facts (pure).

Nothing here reads the database: the caller gathers the allowed facts (app/platform/facts.py) and
these functions place them. `validate` checks a resource against the fhir.resources R4B models.
"""

import functools
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from app.platform.deidentify import PROVINCES, PatientFacts

SYSTEM_BASE = "https://fhir.internet-hospital.example"
EVENT_SYSTEM = f"{SYSTEM_BASE}/sid/event"  # the event's idempotency key
RESEARCH_SYSTEM = f"{SYSTEM_BASE}/sid/research-token"
LINKAGE_SYSTEM = f"{SYSTEM_BASE}/sid/linkage-token"
STAFF_SYSTEM = f"{SYSTEM_BASE}/sid/staff-token"
PRESCRIPTION_SYSTEM = f"{SYSTEM_BASE}/sid/prescription-token"
DISPENSE_SYSTEM = f"{SYSTEM_BASE}/sid/dispense"  # order token + line position: one dispensed line
STORE_SYSTEM = f"{SYSTEM_BASE}/sid/store"
DRUG_SYSTEM = f"{SYSTEM_BASE}/sid/drug"
CODES = f"{SYSTEM_BASE}/CodeSystem/platform"
RETURN_REASONS = f"{SYSTEM_BASE}/CodeSystem/return-reason"
PROVINCE_SYSTEM = "urn:oid:2.16.156.10011.2.3.3.5"  # GB/T 2260 administrative division codes
LOT_EXTENSION = f"{SYSTEM_BASE}/StructureDefinition/dispensed-lot"
ATC = "http://www.whocc.no/atc"
UCUM = "http://unitsofmeasure.org"
SNOMED = "http://snomed.info/sct"
GTS = "http://terminology.hl7.org/CodeSystem/v3-GTSAbbreviation"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"

ROUTES = {  # SNOMED CT route of administration
    "oral": ("26643006", "Oral route"), "sublingual": ("37839007", "Sublingual route"),
    "subcutaneous": ("34206005", "Subcutaneous route"), "intramuscular": ("78421000", "Intramuscular route"),
    "intravenous": ("47625008", "Intravenous route"), "inhalation": ("447694001", "Respiratory tract route"),
    "transdermal": ("45890007", "Transdermal route"), "topical": ("6064005", "Topical route"),
}
# Frequency -> (Timing.repeat, GTS abbreviation where HL7 has one).
TIMINGS = {
    "QD": ({"frequency": 1, "period": 1, "periodUnit": "d"}, "QD"),
    "BID": ({"frequency": 2, "period": 1, "periodUnit": "d"}, "BID"),
    "TID": ({"frequency": 3, "period": 1, "periodUnit": "d"}, "TID"),
    "QID": ({"frequency": 4, "period": 1, "periodUnit": "d"}, "QID"),
    "Q8H": ({"frequency": 1, "period": 8, "periodUnit": "h"}, "Q8H"),
    "Q12H": ({"frequency": 1, "period": 12, "periodUnit": "h"}, None),
    "QN": ({"frequency": 1, "period": 1, "periodUnit": "d", "when": ["HS"]}, "BED"),
    "QW": ({"frequency": 1, "period": 1, "periodUnit": "wk"}, "WK"),
    "BIW": ({"frequency": 2, "period": 1, "periodUnit": "wk"}, None),
    "PRN": ({}, None),
}
UCUM_UNITS = {"mg": "mg", "µg": "ug", "g": "g", "IU": "[iU]", "mL": "mL"}


@dataclass(frozen=True)
class Sig:
    """The structured directions (never the doctor's free-text note)."""

    dose: Decimal
    dose_unit: str
    frequency: str
    route: str
    duration_days: int
    text: str  # the prescriber's shorthand built from the fields above: "5 mg QD ×28d"
    max_doses_per_day: int | None = None
    times_of_day: tuple[str, ...] = ()


@dataclass(frozen=True)
class Lot:
    number: str
    expiry: date
    units: int


@dataclass(frozen=True)
class Product:
    code: str
    atc_code: str | None
    name: str  # generic name and strength in English
    lots: tuple[Lot, ...] = ()


@dataclass(frozen=True)
class DispenseFacts:
    key: str
    status: str  # completed | declined | stopped
    patient: PatientFacts
    product: Product
    dispense_id: str
    store_code: str
    pharmacist_token: str
    prescriber_token: str
    prescription_token: str
    units: int
    unit: str
    days_supply: int
    prepared_at: datetime
    handed_over_at: datetime | None
    sig: Sig
    reason: str | None = None  # why a prepared dispense never reached the patient


@dataclass(frozen=True)
class ExcursionFacts:
    key: str
    patient: PatientFacts
    product: Product
    dispense_ids: tuple[str, ...]
    store_code: str
    detected_at: datetime
    temperature_c: Decimal
    packs: int


@dataclass(frozen=True)
class AdherenceFacts:
    key: str
    patient: PatientFacts
    product: Product
    start: date
    end: date
    covered_days: int
    period_days: int
    fills: int
    doses: dict = field(default_factory=dict)  # taken / skipped / unanswered dose reminders


def _instant(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def _number(value) -> float | int:
    exact = Decimal(value)
    return int(exact) if exact == exact.to_integral_value() else float(exact)


def _identifier(system: str, value: str) -> dict:
    return {"system": system, "value": value}


def _ref(system: str, value: str, kind: str) -> dict:
    return {"identifier": _identifier(system, value), "type": kind}


def patient(facts: PatientFacts) -> dict:
    """The pseudonymous Patient, contained in each resource so every event stands on its own."""
    identifiers = [_identifier(RESEARCH_SYSTEM, facts.research_token)]
    if facts.linkage_token:
        identifiers.append(_identifier(LINKAGE_SYSTEM, facts.linkage_token))
    resource = {"resourceType": "Patient", "id": "patient", "identifier": identifiers}
    if facts.sex:
        resource["gender"] = facts.sex
    if facts.birth_year and facts.birth_year.isdigit():
        resource["birthDate"] = facts.birth_year
    elif facts.birth_year:  # 90 or older: no year at all, only the group
        resource["extension"] = [{"url": f"{SYSTEM_BASE}/StructureDefinition/age-group",
                                  "valueString": facts.birth_year}]
    if facts.province:
        resource["address"] = [{"state": PROVINCES[facts.province][0], "country": "CN",
                                "extension": [{"url": f"{SYSTEM_BASE}/StructureDefinition/division-code",
                                               "valueCoding": {"system": PROVINCE_SYSTEM,
                                                               "code": facts.province}}]}]
    return resource


def medication(product: Product) -> dict:
    coding = [{"system": DRUG_SYSTEM, "code": product.code, "display": product.name}]
    if product.atc_code:
        coding.insert(0, {"system": ATC, "code": product.atc_code})
    resource = {"resourceType": "Medication", "id": "med", "code": {"coding": coding, "text": product.name}}
    if product.lots:  # the lot most packs came from; every lot is listed on the dispense itself
        main = max(product.lots, key=lambda lot: (lot.units, lot.expiry))
        resource["batch"] = {"lotNumber": main.number, "expirationDate": main.expiry.isoformat()}
    return resource


def _lot_extension(lot: Lot, unit: str) -> dict:
    return {"url": LOT_EXTENSION, "extension": [
        {"url": "lotNumber", "valueString": lot.number},
        {"url": "expirationDate", "valueDate": lot.expiry.isoformat()},
        {"url": "quantity", "valueQuantity": {"value": lot.units, "unit": unit}}]}


def dosage(sig: Sig) -> dict:
    repeat, abbreviation = TIMINGS[sig.frequency]
    timing: dict = {"repeat": {**repeat, "boundsDuration": {
        "value": sig.duration_days, "unit": "day", "system": UCUM, "code": "d"}}}
    if sig.times_of_day:
        timing["repeat"]["timeOfDay"] = [f"{time}:00" for time in sig.times_of_day]
    if abbreviation:
        timing["code"] = {"coding": [{"system": GTS, "code": abbreviation}]}
    quantity = {"value": _number(sig.dose), "unit": sig.dose_unit}
    if sig.dose_unit in UCUM_UNITS:
        quantity.update(system=UCUM, code=UCUM_UNITS[sig.dose_unit])
    code, display = ROUTES[sig.route]
    result = {"text": sig.text, "timing": timing, "asNeededBoolean": sig.frequency == "PRN",
              "route": {"coding": [{"system": SNOMED, "code": code, "display": display}]},
              "doseAndRate": [{"doseQuantity": quantity}]}
    if sig.frequency == "PRN" and sig.max_doses_per_day:
        result["maxDosePerPeriod"] = {"numerator": {"value": sig.max_doses_per_day},
                                      "denominator": {"value": 1, "unit": "day", "system": UCUM, "code": "d"}}
    return result


def medication_dispense(facts: DispenseFacts) -> dict:
    """One dispensed prescription line; `status` completed once the patient has it, declined or
    stopped when a prepared line never reached them (with the reason)."""
    prescription = {"resourceType": "MedicationRequest", "id": "rx", "status": "completed", "intent": "order",
                    "identifier": [_identifier(PRESCRIPTION_SYSTEM, facts.prescription_token)],
                    "medicationReference": {"reference": "#med"}, "subject": {"reference": "#patient"},
                    "requester": _ref(STAFF_SYSTEM, facts.prescriber_token, "Practitioner")}
    resource = {
        "resourceType": "MedicationDispense",
        "identifier": [_identifier(EVENT_SYSTEM, facts.key), _identifier(DISPENSE_SYSTEM, facts.dispense_id)],
        "contained": [medication(facts.product), patient(facts.patient), prescription],
        "status": facts.status,
        "medicationReference": {"reference": "#med"},
        "subject": {"reference": "#patient"},
        "performer": [{"actor": _ref(STAFF_SYSTEM, facts.pharmacist_token, "Practitioner")}],
        "location": _ref(STORE_SYSTEM, facts.store_code, "Location"),
        "authorizingPrescription": [{"reference": "#rx"}],
        "quantity": {"value": facts.units, "unit": facts.unit},
        "daysSupply": {"value": facts.days_supply, "unit": "day", "system": UCUM, "code": "d"},
        "whenPrepared": _instant(facts.prepared_at),
        "dosageInstruction": [dosage(facts.sig)],
    }
    if len(facts.product.lots) > 1:
        resource["extension"] = [_lot_extension(lot, facts.unit) for lot in facts.product.lots]
    if facts.handed_over_at is not None:
        resource["whenHandedOver"] = _instant(facts.handed_over_at)
    if facts.reason:
        resource["statusReasonCodeableConcept"] = {
            "coding": [{"system": RETURN_REASONS, "code": facts.reason}]}
    return resource


def _celsius(value) -> dict:
    return {"value": _number(value), "unit": "°C", "system": UCUM, "code": "Cel"}


def excursion_observation(facts: ExcursionFacts) -> dict:
    """A cold-chain parcel found outside 2–8 °C: an Observation of the temperature, whose focus is the
    medicine and lot it spoiled (FHIR R4 has no resource for a product's storage breach)."""
    return {
        "resourceType": "Observation",
        "identifier": [_identifier(EVENT_SYSTEM, facts.key)],
        "contained": [medication(facts.product), patient(facts.patient)],
        "status": "final",
        "category": [{"coding": [{"system": CODES, "code": "cold-chain"}]}],
        "code": {"coding": [{"system": CODES, "code": "cold-chain-excursion",
                             "display": "Cold-chain temperature excursion"}]},
        "subject": {"reference": "#patient"},
        "focus": [{"reference": "#med"}] + [_ref(DISPENSE_SYSTEM, one, "MedicationDispense")
                                            for one in facts.dispense_ids],
        "effectiveDateTime": _instant(facts.detected_at),
        "valueQuantity": _celsius(facts.temperature_c),
        "referenceRange": [{"low": _celsius(2), "high": _celsius(8)}],
        "component": [{"code": {"coding": [{"system": CODES, "code": "packs-affected"}]},
                       "valueInteger": facts.packs},
                      {"code": {"coding": [{"system": CODES, "code": "store"}]},
                       "valueString": facts.store_code}],
    }


def _count(code: str, value: int) -> dict:
    return {"code": {"coding": [{"system": CODES, "code": code}]}, "valueInteger": value}


def adherence_observation(facts: AdherenceFacts) -> dict:
    """A month's adherence to one drug as an Observation.

    FHIR R4 has no adherence resource (MedicationStatement records what the patient says they take;
    an adherence element arrived only in R5). The Proportion of Days Covered is a value measured over
    a period, which is what Observation carries: effectivePeriod, a percentage, and the counts it was
    computed from as components, so the platform can recompute or pool it.
    """
    pdc = Decimal(facts.covered_days * 100) / Decimal(facts.period_days) if facts.period_days else Decimal(0)
    return {
        "resourceType": "Observation",
        "identifier": [_identifier(EVENT_SYSTEM, facts.key)],
        "contained": [medication(facts.product), patient(facts.patient)],
        "status": "final",
        "category": [{"coding": [{"system": OBSERVATION_CATEGORY, "code": "therapy"}]}],
        "code": {"coding": [{"system": CODES, "code": "pdc", "display": "Proportion of days covered"}]},
        "subject": {"reference": "#patient"},
        "focus": [{"reference": "#med"}],
        "effectivePeriod": {"start": facts.start.isoformat(), "end": facts.end.isoformat()},
        "valueQuantity": {"value": float(round(pdc, 1)), "unit": "%", "system": UCUM, "code": "%"},
        "component": [_count("covered-days", facts.covered_days), _count("period-days", facts.period_days),
                      _count("fills", facts.fills)]
        + [_count(f"doses-{answer}", facts.doses.get(answer, 0))
           for answer in ("taken", "skipped", "unanswered")],
    }


def entry(key: str, resource: dict) -> dict:
    """A batch entry: a conditional create on the event key, so the platform stores it once."""
    kind = resource.get("resourceType", "")
    return {"fullUrl": f"urn:uuid:{key}", "resource": resource,
            "request": {"method": "POST", "url": kind, "ifNoneExist": f"identifier={EVENT_SYSTEM}|{key}"}}


def bundle(entries: list[dict]) -> dict:
    return {"resourceType": "Bundle", "type": "batch", "entry": entries}


def validate(resource: dict) -> str | None:
    """None when the resource is valid FHIR R4 (fhir.resources' R4B models), else the first errors."""
    from pydantic import ValidationError

    models = _models()
    model = models.get(resource.get("resourceType") if isinstance(resource, dict) else None)
    if model is None:
        return "not a MedicationDispense or an Observation"
    if _valid_in_parts(model, resource, models):
        return None
    try:
        model.model_validate(resource)
    except ValidationError as error:
        return "; ".join(f"{'.'.join(map(str, problem['loc'])) or resource['resourceType']}: {problem['msg']}"
                         for problem in error.errors()[:3])[:480]
    return None


# The parts of a resource validated on their own and remembered: the contained Patient, Medication and
# MedicationRequest repeat across the events of one patient, product and prescription, the dosage
# across most events. The R4B models validate a list item with the item's own model (fhir_core's
# FhirBase.fhir_model_validator calls its model_validate), and the resource's own validators look at
# these lists only for null items (left to the whole validation), so a resource of dict parts is valid
# exactly when it is valid without them and each of them is.
PARTS = {"MedicationDispense": ("contained", "dosageInstruction"), "Observation": ("contained",)}


@functools.cache
def _models() -> dict:
    """The models by resource type, with those of the parts validated on their own where they are the
    very classes the resources' own validation picks for them (else parts are not split off)."""
    from fhir.resources.R4B.dosage import Dosage  # heavy: only the pusher needs them
    from fhir.resources.R4B.fhirtypes import DosageType, ResourceType
    from fhir.resources.R4B.medication import Medication
    from fhir.resources.R4B.medicationdispense import MedicationDispense
    from fhir.resources.R4B.medicationrequest import MedicationRequest
    from fhir.resources.R4B.observation import Observation
    from fhir.resources.R4B.patient import Patient
    from fhir_core.types import FHIR_TYPES_MAPS
    from pydantic import ImportString, TypeAdapter

    models = {"MedicationDispense": MedicationDispense, "Observation": Observation}
    try:  # how fhir_core resolves a contained resource's and a dosage's model while validating
        resolve = TypeAdapter(ImportString).validate_python
        chosen = {kind: resolve(FHIR_TYPES_MAPS[f"{ResourceType._prefix}{kind}Type"])
                  for kind in ("Patient", "Medication", "MedicationRequest")}
        chosen["Dosage"] = DosageType.get_model_klass()
    except Exception:  # another fhir_core: validate whole resources only
        return models
    parts = {"Patient": Patient, "Medication": Medication, "MedicationRequest": MedicationRequest,
             "Dosage": Dosage}
    return models | {kind: model for kind, model in parts.items() if chosen[kind] is model}


def _valid_in_parts(model, resource: dict, models: dict) -> bool:
    """True when the resource is valid, checked part by part with the parts seen before remembered;
    False when a part is invalid or not of an expected shape (the caller then validates it whole, so
    the errors it reports are those of the whole resource)."""
    from pydantic import ValidationError

    rest, parts = dict(resource), []
    for name in PARTS.get(model.__name__, ()):
        items = rest.pop(name, None)
        if items is None:
            continue
        if not isinstance(items, list) or not items or not all(isinstance(item, dict) for item in items):
            return False
        for item in items:
            kind = "Dosage" if name == "dosageInstruction" else item.get("resourceType")
            if kind not in models or kind in PARTS:
                return False
            parts.append((kind, item))
    if not all(_part_is_valid(models[kind], item) for kind, item in parts):
        return False
    try:
        model.model_validate(rest)
    except ValidationError:
        return False
    return True


# Valid parts seen, by model and repr: a JSON document's repr tells its values and their types apart
# (1, 1.0 and True differ) and costs half what json.dumps does. Emptied when full.
_VALID_PARTS: set[tuple[str, str]] = set()
VALID_PARTS_KEPT = 16_384


def _part_is_valid(model, item: dict) -> bool:
    from pydantic import ValidationError

    seen = (model.__name__, repr(item))
    if seen in _VALID_PARTS:
        return True
    try:
        model.model_validate(item)
    except ValidationError:
        return False
    if len(_VALID_PARTS) >= VALID_PARTS_KEPT:
        _VALID_PARTS.clear()
    _VALID_PARTS.add(seen)
    return True
