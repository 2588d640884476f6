"""The validation before sending: parts remembered from earlier events never let a broken one through, and a
refused resource reads the same errors as a whole-resource validation."""

import copy
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from fhir.resources.R4B.medicationdispense import MedicationDispense
from pydantic import ValidationError

from app.platform import fhir
from app.platform.deidentify import PatientFacts


def _dispense(key: str = "7d3c1a52-2f6e-4c8e-9a51-0c6f8f1b2a10") -> dict:
    return fhir.medication_dispense(fhir.DispenseFacts(
        key=key, status="completed", patient=PatientFacts("a" * 32, "female", "1958", "31", None),
        product=fhir.Product("AMLODIPINE-5MG-TAB", "C08CA01", "Amlodipine 5 mg",
                             (fhir.Lot("L2703A", date(2027, 3, 1), 28),)),
        dispense_id="b" * 32 + "-1", store_code="BN001", pharmacist_token="c" * 32, prescriber_token="d" * 32,
        prescription_token="e" * 32, units=28, unit="tablet", days_supply=28,
        prepared_at=datetime(2026, 11, 20, 9, tzinfo=UTC),
        handed_over_at=datetime(2026, 11, 20, 10, tzinfo=UTC),
        sig=fhir.Sig(Decimal(1), "tablet", "QD", "oral", 28, "1 tablet QD ×28d", None, ("08:00",))))


def _whole(resource: dict) -> str:
    """The message validate() gives, from one validation of the whole resource."""
    with pytest.raises(ValidationError) as refused:
        MedicationDispense.model_validate(resource)
    return "; ".join(f"{'.'.join(map(str, problem['loc']))}: {problem['msg']}"
                     for problem in refused.value.errors()[:3])[:480]


@pytest.mark.parametrize(("where", "broken"), [
    ("contained.1.birthDate", lambda r: r["contained"][1].update(birthDate="19x")),
    ("contained.2.subject", lambda r: r["contained"][2].pop("subject")),
    ("contained.0.code", lambda r: r["contained"][0].update(code="x")),
    ("dosageInstruction.0", lambda r: r["dosageInstruction"][0]["timing"]["repeat"].update(frequency="x")),
    ("contained: None", lambda r: r["contained"].append(None)),
    ("quantity.value", lambda r: r["quantity"].update(value="many")),
])
def test_a_part_broken_after_the_same_part_passed_is_refused_with_the_whole_resources_errors(where, broken):
    assert fhir.validate(_dispense()) is None
    assert fhir.validate(_dispense("0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0")) is None  # its parts remembered
    resource = _dispense("1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d")
    broken(resource)
    problem = fhir.validate(copy.deepcopy(resource))
    assert problem == _whole(resource)
    assert where in problem


def test_a_part_of_a_kind_the_models_do_not_expect_is_refused():
    resource = _dispense()
    resource["contained"].append({"resourceType": "MedicationDispense", "status": "completed"})
    resource["dosageInstruction"].append({"resourceType": "Dosage"})
    assert fhir.validate(copy.deepcopy(resource)) == _whole(resource)
