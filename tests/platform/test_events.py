"""Events written with what they record: a handover writes one MedicationDispense per line, valid FHIR,
only for patients who share data; a return writes a declined dispense; nothing is written twice."""

import json

from app.extensions import db as _db
from app.orders.models import Dispense
from app.platform import events as platform_events
from app.platform import fhir
from tests.platform.conftest import METFORMIN_BID, events


def test_a_handover_writes_one_valid_dispense_per_line(sharing, receive):
    order = receive(("AMLODIPINE-5MG-TAB", {}), METFORMIN_BID)
    written = events("medication.dispensed")
    assert [e.aggregate_id for e in written] == [line.id for line in order.lines]
    resource = json.loads(written[0].payload)
    assert fhir.validate(resource) is None
    assert resource["status"] == "completed" and resource["resourceType"] == "MedicationDispense"
    medication = resource["contained"][0]
    assert medication["code"]["coding"][0] == {"system": fhir.ATC, "code": "C08CA01"}
    dispensed = _db.session.query(Dispense).filter_by(order_id=order.id).one()
    assert medication["batch"]["lotNumber"] == dispensed.packs[0].lot.lot_number
    assert resource["whenHandedOver"] and resource["whenPrepared"]
    assert resource["identifier"][0] == {"system": fhir.EVENT_SYSTEM, "value": written[0].idempotency_key}
    dosage = json.loads(written[1].payload)["dosageInstruction"][0]
    assert dosage["timing"]["code"]["coding"][0]["code"] == "BID"
    assert dosage["route"]["coding"][0]["code"] == "26643006"
    assert dosage["doseAndRate"][0]["doseQuantity"] == {"value": 500, "unit": "mg",
                                                       "system": fhir.UCUM, "code": "mg"}


def test_nothing_is_written_for_a_patient_who_does_not_share(visit, receive):
    receive()
    assert events() == []


def test_writing_the_same_handover_again_adds_nothing(sharing, receive):
    order = receive()
    assert platform_events.medicines_received(order) == 0
    assert len(events("medication.dispensed")) == 1
