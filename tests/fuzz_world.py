"""The world the route fuzz (tests/test_fuzz_routes.py) works in: one of everything a route takes an
id of, owned by the users signed in, and a good value for every input a view reads."""

from datetime import date, timedelta

from sqlalchemy import select

from app.accounts.models import Role
from app.database import utcnow
from app.delivery.models import Delivery
from app.inventory import services as inventory
from app.inventory import transfers
from app.inventory.models import Store
from app.inventory.recall import recall_lot
from app.orders import services as orders
from app.outbox.models import OutboxEvent, OutboxStatus
from app.outbox.services import emit, event_row, new_key
from app.patients.models import Address, Allergy, AllergyKind, ConditionStatus, Severity
from app.prescribing import services as rx
from app.reminders.models import ReminderLine
from app.review import services as review
from tests import factories
from tests.consultations.conftest import upload_file
from tests.drugs.conftest import drug_row
from tests.prescribing.conftest import load_shipped_rows


class World:
    """One of everything a route can take an id of, owned by the users that will be signed in."""

    def __init__(self, db, flow):
        drugs = load_shipped_rows(db, ("AMLODIPINE-5MG-TAB", "METFORMIN-500MG-TAB"))
        self.drug = drugs["AMLODIPINE-5MG-TAB"]
        consultation = flow.accepted(files=[upload_file()])
        self.consultation, self.patient, self.doctor = (consultation, consultation.patient,
                                                         consultation.doctor)
        self.condition = consultation.condition
        self.pending_condition = flow.condition(self.patient, status=ConditionStatus.PENDING)
        self.pharmacist = factories.make_user(Role.PHARMACIST)
        self.admin = factories.make_user(Role.ADMIN)
        self.courier = factories.make_user(Role.COURIER)
        self.bystander = factories.make_patient()
        self.unverified_doctor = factories.make_user(Role.DOCTOR)
        self.unverified_doctor.doctor_profile.is_verified = False
        self.store = db.session.get(Store, self.pharmacist.pharmacist_profile.home_store_id)
        self.other_store = factories.make_store()
        expiry = date.today() + timedelta(days=700)
        self.lot = inventory.receive(self.store, self.drug, "FZ-LOT-1", expiry, 200, 1500, self.pharmacist)
        inventory.receive(self.other_store, drugs["METFORMIN-500MG-TAB"], "FZ-RECALL-1", expiry, 5, 900,
                          self.admin)
        self.recall = recall_lot(drugs["METFORMIN-500MG-TAB"], "FZ-RECALL-1", self.admin, "Notice 1")
        self.transfer = transfers.request_transfer(self.store, self.other_store, self.drug, 2,
                                                   self.pharmacist)
        self.address = Address(patient_id=self.patient.id, recipient="Fuzz", phone=self.patient.phone,
                               province="Shanghai", city="Shanghai", street="1 Road", is_default=True)
        self.allergy = Allergy(patient_id=self.patient.id, kind=AllergyKind.CLASS, substance="penicillins",
                               reaction="rash", severity=Severity.MODERATE)
        db.session.add_all([self.address, self.allergy])
        # A signed prescription (in the review queue) and a draft with one line.
        self.signed = rx.start(consultation, self.doctor, condition_id=self.condition.id)
        rx.add_item(self.signed, self.doctor, drug_id=self.drug.id, dose="5", dose_unit="mg", frequency="QD",
                    duration_days=7)
        review.submit(rx.sign(self.signed, self.doctor, factories.PASSWORD))
        # Two approved prescriptions: one ordered (the order's pages), one to choose a store for.
        self.ordered, self.orderable = (self._approved(consultation) for _ in range(2))
        db.session.flush()
        self.order = orders.place(self.ordered, self.patient, store_id=self.store.id, fulfilment="pickup")
        # A parcel assigned to the courier (its order's own state does not matter to the pages' ids).
        self.delivery = Delivery(order_id=self.order.id, store_id=self.store.id, courier_id=self.courier.id,
                                 packed_by_id=self.pharmacist.id)
        db.session.add(self.delivery)
        # A medicine the patient is reminded of (its order's own state does not matter to the page).
        self.reminder = ReminderLine(patient_id=self.patient.id, order_line_id=self.order.lines[0].id,
                                     drug_id=self.drug.id, frequency="QD", doses_per_day=1, days_supply=28,
                                     starts_at=utcnow())
        db.session.add(self.reminder)
        self.draft = rx.start(consultation, self.doctor, condition_id=self.condition.id)
        self.line = rx.add_item(self.draft, self.doctor, drug_id=self.drug.id, dose="5", dose_unit="mg",
                                frequency="QD", duration_days=7)
        # A data-platform event of the patient's, dead, so its page offers the replay.
        key = new_key()
        event = event_row("medication.dispensed", "order_lines", self.order.lines[0].id, self.patient.id,
                          {"resourceType": "MedicationDispense", "status": "completed",
                           "medicationCodeableConcept": {"text": "amlodipine"}}, key=key)
        emit([{**event, "status": OutboxStatus.DEAD, "last_error": "refused by the platform (422)"}])
        self.event_id = db.session.scalar(select(OutboxEvent.id).where(OutboxEvent.idempotency_key == key))
        db.session.commit()
        self.users = {str(Role.PATIENT): self.patient, str(Role.DOCTOR): self.doctor,
                      str(Role.PHARMACIST): self.pharmacist, str(Role.ADMIN): self.admin,
                      str(Role.COURIER): self.courier}

    def _approved(self, consultation):
        prescription = rx.start(consultation, self.doctor, condition_id=self.condition.id)
        rx.add_item(prescription, self.doctor, drug_id=self.drug.id, dose="5", dose_unit="mg", frequency="QD",
                    duration_days=7)
        review.submit(rx.sign(prescription, self.doctor, factories.PASSWORD))
        review.claim(prescription, self.pharmacist)
        review.decide(prescription, self.pharmacist, "approved")
        return prescription

    def ids(self, endpoint: str) -> dict[str, int]:
        ids = {"consultation_id": self.consultation.id, "prescription_id": self.draft.id,
               "item_id": self.line.id, "upload_id": self.condition.proof_upload_id,
               "condition_id": self.pending_condition.id, "address_id": self.address.id,
               "allergy_id": self.allergy.id, "user_id": self.bystander.id, "store_id": self.store.id,
               "lot_id": self.lot.id, "transfer_id": self.transfer.id, "recall_id": self.recall.id,
               "drug_id": self.drug.id, "order_id": self.order.id, "delivery_id": self.delivery.id,
               "line_id": self.reminder.id, "event_id": self.event_id}
        if endpoint == "orders.choose":
            ids["prescription_id"] = self.orderable.id
        if endpoint.startswith("review.") or endpoint in ("prescribing.extend", "prescribing.revise",
                                                          "prescribing.confirm"):
            ids["prescription_id"] = self.signed.id
        if endpoint == "admin.verify_doctor":
            ids["user_id"] = self.unverified_doctor.id
        return ids

    def good(self, endpoint: str) -> dict[str, str]:
        """A value each input accepts, so that one hostile value at a time reaches the service."""
        soon = date.today() + timedelta(days=700)
        values = {
            "identifier": self.bystander.login_name, "password": factories.PASSWORD,
            "confirm": factories.PASSWORD, "display_name": "Fuzz Person", "email": "fuzz@example.com",
            "phone": "+8613912345678", "locale": "en", "code": "123456", "next": "/", "language": "zh",
            "legal_name": "Fuzz Person", "sex": "female", "date_of_birth": "1980-05-01",
            "time_zone": "Asia/Shanghai", "recipient": "Fuzz", "province": "Shanghai", "city": "Shanghai",
            "street": "1 Road", "postal_code": "200000", "is_default": "y", "kind": "drug",
            "substance": "amoxicillin", "reaction": "rash", "severity": "mild", "icd10_code": "E11.9",
            "hospital": "Test Hospital", "diagnosed_on": "2020-01-01", "note": "checked",
            "condition_id": str(self.condition.id), "doctor_id": str(self.doctor.id), "reason": "Follow-up",
            "method_type": "card", "test_card": "pm_card_visa", "rating": "5", "comment": "fine",
            "complaint": "x", "findings": "x", "assessment": "x", "plan": "x", "body": "hello",
            "query": "aml", "drug_id": str(self.drug.id), "dose": "5", "dose_unit": "mg", "frequency": "QD",
            "duration_days": "7", "supply_category": "normal", "decision": "approved",
            "role": "doctor", "licence_number": "DOC-FZ-1", "department": "Cardiology",
            "home_store_id": str(self.store.id), "name_en": "Fuzz Store", "name_zh": "门店",
            "address": "1 Road", "latitude": "31.2", "longitude": "121.4", "delivery_radius_km": "10",
            "is_active": "y", "lot_number": "FZ-LOT-2", "expiry_date": soon.isoformat(), "quantity": "1",
            "unit_cost": "15.00", "counted": "200", "change": "1", "from_store_id": str(self.store.id),
            "to_store_id": str(self.other_store.id), "packs": "1", "min_packs": "5", "target_packs": "20",
            "q": "aml", "page": "1", "after": "0", "near_expiry": "90", "days": "90", "cold_chain": "1",
            "actor_id": str(self.doctor.id), "patient_id": str(self.patient.id), "action": "consultation",
            "date_from": "2024-01-01", "date_to": "2030-12-31", "valid_until": "",
            "store_id": str(self.store.id), "fulfilment": "pickup", "address_id": "", "step": "in_transit",
            "temperature": "5.0", "courier_id": str(self.courier.id), "ice_packs": "2",
            "packing_temperature": "5.0", "relationship": "son",
        }
        values.update({name: value for name, value in drug_row(code="FUZZ-AMLO-1").items()
                       if name not in ("code", "price_fen")} | {"price_yuan": "39.20"})
        values.update(ENDPOINT_GOOD.get(endpoint, {}))
        return values


ENDPOINT_GOOD = {
    "stock.adjust": {"reason": "found"},
    "stock.write_off": {"reason": "damaged"},
    "stock.recalls_page": {"reason": "Notice 2", "lot_number": "FZ-LOT-1"},
    "patients.grant_consent": {"kind": "sms_reminders"},
    "patients.revoke_consent": {"kind": "sms_reminders"},
    "drugs.new": {"code": "FUZZ-AMLO-2"},
    "admin.new_store": {"code": "FZ-01"},
    "admin.edit_store": {"code": "FZ-02"},
    "accounts.login": {"identifier": "nobody@example.com"},
    # A health measurement: a kind, a plausible number, a day before today in any zone.
    "patients.record_fact": {"kind": "weight", "value": "70",
                             "measured_on": (date.today() - timedelta(days=2)).isoformat()},
    "consultations.record_fact": {"kind": "egfr", "value": "45",
                                  "measured_on": (date.today() - timedelta(days=2)).isoformat()},
}
