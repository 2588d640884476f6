"""Generated over the URL map: on every route that takes an id of someone's record, another patient,
a doctor who is not on the consultation and a pharmacist get 403 or 404, and nothing changes."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app import create_app
from app.accounts.models import Role
from app.audit.models import AuditEvent
from app.consultations import services as consultations
from app.database import utcnow
from app.delivery.models import Delivery
from app.drugs import services as drug_services
from app.extensions import db as _db
from app.orders.models import Order, OrderLine
from app.outbox.models import OutboxEvent, OutboxStatus
from app.outbox.services import emit, event_row, new_key
from app.patients.models import Address, Allergy, AllergyKind, ConsentKind, Severity
from app.patients.services import grant_consent
from app.prescribing import services as rx
from app.reminders.models import ReminderLine
from tests import factories
from tests.consultations.conftest import (  # noqa: F401  (fixtures used by name)
    as_user,
    deliver,
    flow,
    stripe_client,
    upload_file,
)
from tests.drugs.conftest import drug_row
from tests.patients.conftest import PNG

# Catalogue rows and stock are not anyone's record, and recalls are admins' only: role checks guard
# them (test_routes_access), and tests/stock checks a pharmacist stays in their own store.
NOT_PATIENT_DATA = {"drug_id", "filename", "store_id", "lot_id", "transfer_id", "recall_id", "step",
                    "section"}


def routes_with_ids() -> list[tuple[str, str, str]]:
    app = create_app("testing")
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.arguments or rule.arguments <= NOT_PATIENT_DATA:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append((rule.endpoint, rule.rule, method))
    return sorted(found)


ROUTES = routes_with_ids()


@pytest.fixture
def record_of_a(db, flow):  # noqa: F811  (the imported fixture)
    """Patient A's record, reachable through every kind of id a route takes."""
    consultation = flow.accepted(files=[upload_file()])
    patient = consultation.patient
    message = consultations.post_message(consultation, patient, "my readings", upload_file(PNG, "bp.png"))
    address = Address(patient_id=patient.id, recipient=patient.display_name, phone=patient.phone,
                      province="Shanghai", city="Shanghai", street="1 Example Road", is_default=True)
    allergy = Allergy(patient_id=patient.id, kind=AllergyKind.CLASS, substance="penicillins",
                      reaction="rash", severity=Severity.MODERATE)
    db.session.add_all([address, allergy])
    # A draft, so that a missing object check on any prescribing verb would visibly change it.
    drug = drug_services.create_drug(drug_row())
    prescription = rx.start(consultation, consultation.doctor, condition_id=consultation.condition_id)
    line = rx.add_item(prescription, consultation.doctor, drug_id=drug.id, dose="5", dose_unit="mg",
                       frequency="QD", duration_days=7)
    # An order of A's awaiting payment: the outsiders must not see, pay or cancel it.
    store = factories.make_store()
    order = Order(prescription_id=prescription.id, patient_id=patient.id, store_id=store.id,
                  fulfilment="pickup", goods_fen=3920, total_fen=3920, currency="CNY",
                  lines=[OrderLine(position=1, prescription_item_id=line.id, drug_id=drug.id, packs=1,
                                   days_supply=7, unit_price_fen=3920)])
    db.session.add(order)
    db.session.flush()
    courier = factories.make_user(Role.COURIER)
    delivery = Delivery(order_id=order.id, store_id=store.id, courier_id=courier.id,
                        packed_by_id=factories.make_user(Role.PHARMACIST).id)
    db.session.add(delivery)
    # A medicine A receives reminders for: the outsiders must not switch it.
    reminder = ReminderLine(patient_id=patient.id, order_line_id=order.lines[0].id, drug_id=drug.id,
                            frequency="QD", doses_per_day=1, days_supply=7, starts_at=utcnow())
    db.session.add(reminder)
    # A dead data-platform event of A's, A still sharing: a replay an outsider got through would queue it.
    grant_consent(patient, ConsentKind.DATA_SHARING)
    key = new_key()
    event = event_row("medication.dispensed", "order_lines", order.lines[0].id, patient.id,
                      {"resourceType": "MedicationDispense", "status": "completed",
                       "medicationCodeableConcept": {"text": "amlodipine"}}, key=key)
    emit([{**event, "status": OutboxStatus.DEAD, "last_error": "refused by the platform (422)"}])
    db.session.commit()
    return consultation, {
        "prescription_id": prescription.id,
        "item_id": line.id,
        "consultation_id": consultation.id,
        "upload_id": message.upload_id,
        "condition_id": consultation.condition_id,
        "address_id": address.id,
        "allergy_id": allergy.id,
        "user_id": patient.id,
        "order_id": order.id,
        "delivery_id": delivery.id,
        "line_id": reminder.id,
        "event_id": db.session.scalar(select(OutboxEvent.id).where(OutboxEvent.idempotency_key == key)),
    }


def test_every_id_a_route_takes_is_covered_by_this_test(record_of_a):
    _, ids = record_of_a
    unknown = {(endpoint, rule) for endpoint, rule, _ in ROUTES
               if not {arg.split(":")[-1] for arg in _arguments(rule)} <= set(ids)}
    assert not unknown, f"routes with ids this test does not know how to fill: {sorted(unknown)}"
    assert {"consultations.detail", "patients.upload", "patients.remove_address",
            "patients.withdraw_allergy", "admin.user_detail", "prescribing.remove_item",
            "prescribing.sign"} <= {endpoint for endpoint, _, _ in ROUTES}


def _arguments(rule: str) -> list[str]:
    return [part.split(">")[0].lstrip("<") for part in rule.split("<")[1:]]


def _path(rule: str, ids: dict) -> str:
    path = rule
    for argument in _arguments(rule):
        path = path.replace(f"<{argument}>", str(ids[argument.split(':')[-1]]))
    return path


def _changes() -> int:
    # Refusals may be audited, but no clinical row may change: count everything except audit rows.
    return sum(_db.session.scalar(select(func.count()).select_from(table))
               for table in _db.metadata.sorted_tables if table.name != AuditEvent.__tablename__)


@pytest.mark.parametrize(("endpoint", "rule", "method"), ROUTES, ids=[f"{m} {e}" for e, _, m in ROUTES])
def test_other_patients_and_unrelated_doctors_are_refused(db, record_of_a, as_user, endpoint, rule,  # noqa: F811
                                                       method):
    consultation, ids = record_of_a
    path = _path(rule, ids)
    rows_before = _changes()
    status_before = consultation.status
    for outsider in (factories.make_patient(), factories.make_user(Role.DOCTOR),
                     factories.make_user(Role.PHARMACIST), factories.make_user(Role.COURIER)):
        response = as_user(outsider).open(path, method=method, data={
            "reason": "x", "body": "x", "rating": "5", "note": "x", "decision": "verify", "kind": "weight",
            "value": "70", "measured_on": (utcnow().date() - timedelta(days=1)).isoformat()})
        assert response.status_code in (403, 404), f"{outsider.role} {method} {path} → {response.status_code}"
    db.session.expire_all()
    assert db.session.get(type(consultation), consultation.id).status == status_before
    assert db.session.get(OutboxEvent, ids["event_id"]).status == OutboxStatus.DEAD
    # The outsiders' accounts were created above; nothing else may have been written.
    # Four users, three profiles (doctor, pharmacist, courier), the pharmacist's store.
    assert _changes() == rows_before + 4 + 3 + 1
