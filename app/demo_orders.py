"""Demo orders (all invented): the demo patient's follow-up consultations, each ending in an e-signed
prescription the demo pharmacist approved, and one order at SH01 in each state.

Every step is the service a page, the courier's phone or the payment webhook calls, done by the demo user
whose step it is, so the ledger, reservations, payments, audit rows and outbox agree with what the pages
show. Nothing is sent anywhere: payments are settled through the webhook's own handler with invented
intent and event ids, and the SMS and data-platform rows wait for the worker like any others.
"""

import logging
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from io import BytesIO
from types import SimpleNamespace

from flask import current_app
from flask_login import login_user
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from app.accounts.models import User
from app.consultations import services as consultations
from app.consultations.models import Consultation
from app.delivery import services as deliveries
from app.drugs.models import Drug
from app.errors import DomainError
from app.extensions import db
from app.inventory.models import Store
from app.orders import dispensing
from app.orders import services as orders
from app.orders.models import Fulfilment, Order
from app.orders.states import OrderStatus as S
from app.patients import services as patients
from app.patients.models import Condition, ConditionStatus
from app.patients.queries import active_addresses
from app.payments import services as payments
from app.payments.models import Payment
from app.prescribing import services as prescribing
from app.prescribing.models import Prescription, SupplyCategory
from app.prescribing.rules import MAX_VALID_DAYS
from app.review import services as review

log = logging.getLogger(__name__)

STORE = "SH01"  # the demo pharmacist's and courier's store; it keeps the cold chain
CITY = "Shanghai"  # in SH01's delivery area
DIABETES = "E11.9"
# A wallet is charged at once, so nothing is left to capture or cancel later: localstripe, which has never
# heard of these invented intents, is never asked about them.
METHOD = "alipay"
DAYS = 28
CHRONIC_REASON = "Stable chronic condition, treated for years; monthly refill."


@dataclass(frozen=True)
class Scenario:
    reason: str  # what the patient wrote when booking; a second run finds the scenario by it
    findings: str  # the doctor's note
    condition: str  # ICD-10 code of the verified diagnosis prescribed for
    drug: str
    sig: dict
    fulfilment: Fulfilment
    until: S  # how far the order goes


# Oldest first. Five drugs of five classes, so no prescription duplicates another the patient takes.
SCENARIOS = (
    Scenario("Monthly refill of amlodipine, please. Home blood pressure about 130/80.",
             "Home BP 126-134/78-84 mmHg; no ankle swelling.", "I10", "AMLODIPINE-5MG-TAB",
             dict(dose="5", dose_unit="mg", frequency="QD"), Fulfilment.DELIVERY, S.COMPLETED),
    Scenario("Refill of insulin glargine, 10 units at bedtime. Fasting glucose 6-7 mmol/L.",
             "Fasting glucose 6.1-7.0 mmol/L; no hypoglycaemia.", DIABETES, "INSULIN-GLARGINE-300IU-PEN",
             dict(dose="10", dose_unit="IU", frequency="QN"), Fulfilment.DELIVERY, S.OUT_FOR_DELIVERY),
    Scenario("Refill of losartan. No dizziness, no cough.",
             "Home BP stable; creatinine normal at the last hospital visit.", "I10", "LOSARTAN-50MG-TAB",
             dict(dose="50", dose_unit="mg", frequency="QD"), Fulfilment.PICKUP, S.READY_FOR_PICKUP),
    Scenario("Refill of metformin, taken with breakfast and dinner.",
             "HbA1c 6.8% three months ago; no stomach upset.", DIABETES, "METFORMIN-500MG-TAB",
             dict(dose="500", dose_unit="mg", frequency="BID"), Fulfilment.PICKUP, S.PAID),
    Scenario("Refill of atorvastatin, as the hospital started it for my diabetes.",
             "LDL-C 2.4 mmol/L; no muscle pain.", DIABETES, "ATORVASTATIN-20MG-TAB",
             dict(dose="20", dose_unit="mg", frequency="QN"), Fulfilment.PICKUP, S.AWAITING_PAYMENT),
)


def seed_demo_orders(doctor_password: str, proof_pdf: bytes) -> None:
    """Play each scenario the demo patient does not have yet; one that cannot be played (say an admin
    emptied SH01's shelves) is left out with a warning and rolled back, never half made."""
    cast = _cast()
    if cast is None:
        return
    booked = set(db.session.scalars(select(Consultation.reason)
                                    .where(Consultation.patient_id == cast.patient.id)))
    for scenario in SCENARIOS:
        if scenario.reason in booked:
            continue
        try:
            with db.session.begin_nested():
                _play(scenario, cast, doctor_password, proof_pdf)
        except DomainError as error:
            log.warning("demo order %s (%s) not created: %s", scenario.drug, scenario.until, error)


def _cast() -> SimpleNamespace | None:
    people = {user.email: user for user in db.session.scalars(select(User).where(User.email.in_(
        [f"{role}@demo.example" for role in ("patient", "doctor", "pharmacist", "courier", "admin")])))}
    store = db.session.scalar(select(Store).where(Store.code == STORE))
    if len(people) < 5 or store is None:
        return None
    return SimpleNamespace(store=store, **{email.split("@")[0]: user for email, user in people.items()})


@contextmanager
def _acting_as(user: User):
    """A request context signed in as `user`: services that do not name the actor take it from the
    signed-in user, so each audit row says who did the step, as it would from the page."""
    with current_app.test_request_context():
        login_user(user)
        yield user


def _play(scenario: Scenario, cast, password: str, proof_pdf: bytes) -> Order:
    prescription = _prescribed(scenario, cast, password, _condition(scenario.condition, cast, proof_pdf))
    patient = cast.patient
    delivery = scenario.fulfilment == Fulfilment.DELIVERY
    with _acting_as(patient):
        order = orders.place(prescription, patient, store_id=cast.store.id, fulfilment=scenario.fulfilment,
                             address_id=_home_address(patient).id if delivery else None)
        if scenario.until == S.AWAITING_PAYMENT:
            return order
        payment = orders.start_payment(order, method_type=METHOD)
    _settle(payment)
    if scenario.until == S.PAID:
        return order
    with _acting_as(cast.pharmacist):
        dispensing.dispense(order, cast.pharmacist, _scans(order),
                            [code for code, _label in dispensing.CHECKLIST])
        if not delivery:
            return order  # ready for pickup, with its code on the patient's order page
        cold = any(line.drug.is_cold_chain for line in order.lines)
        parcel = deliveries.pack(order, cast.pharmacist, courier_id=cast.courier.id, cold_box=cold,
                                 ice_packs=2 if cold else 0, packing_temperature="4.5" if cold else None)
    with _acting_as(cast.courier):
        deliveries.picked_up(parcel, cast.courier, "4.8" if cold else None)
        if cold:
            deliveries.in_transit(parcel, cast.courier, "5.0", "Cold box closed, ice packs still frozen.")
        if scenario.until == S.COMPLETED:
            deliveries.delivered(parcel, cast.courier, code=order.handover_code,
                                 reading="5.2" if cold else None)
    return order


def _prescribed(scenario: Scenario, cast, password: str, condition: Condition) -> Prescription:
    """A consultation booked and paid by the patient, held by the doctor, who signs a 4-week chronic
    prescription and completes it; the pharmacist approves the prescription."""
    patient, doctor, pharmacist = cast.patient, cast.doctor, cast.pharmacist
    with _acting_as(patient):
        consultation = consultations.book(patient, condition_id=condition.id, doctor_id=doctor.id,
                                          reason=scenario.reason)
        payment = consultations.start_payment(consultation, method_type=METHOD)
    _settle(payment)
    drug = db.session.scalar(select(Drug).where(Drug.code == scenario.drug))
    if drug is None:
        raise DomainError(f"{scenario.drug} is not in the catalogue")
    with _acting_as(doctor):
        consultations.accept(consultation, doctor)
        consultations.save_note(consultation, doctor, complaint=scenario.reason, findings=scenario.findings,
                                assessment=f"{condition.name}: stable on treatment.",
                                plan=f"Continue {drug.generic_name_en} for {DAYS} days; review in 4 weeks.")
        prescription = prescribing.start(consultation, doctor, condition_id=condition.id)
        prescribing.set_supply(prescription, doctor, SupplyCategory.CHRONIC, reason=CHRONIC_REASON)
        prescribing.add_item(prescription, doctor, drug_id=drug.id, duration_days=DAYS, **scenario.sig)
        review.submit(prescribing.sign(prescription, doctor, password))
        if scenario.until == S.AWAITING_PAYMENT:
            # A prescription is valid on the day it is signed; extended to the most allowed, the unpaid
            # order can still be paid whatever the hour the demo was seeded.
            latest = prescription.valid_until + timedelta(days=MAX_VALID_DAYS - 1)
            prescribing.extend_validity(prescription, doctor, latest)
        consultations.complete(consultation, doctor)
    with _acting_as(pharmacist):
        review.claim(prescription, pharmacist)
        review.decide(prescription, pharmacist, "approved")
    return prescription


def _settle(payment: Payment) -> None:
    """The payment confirmed as Stripe's verified webhook confirms it (no one signed in): the event goes to
    the webhook's own handler, payments.handle_event, with an invented intent and event id that no Stripe
    account has. Nothing is sent to Stripe."""
    intent = {"id": f"pi_demo_{payment.id}", "object": "payment_intent", "status": "succeeded",
              "amount": payment.amount_fen, "currency": payment.currency.lower(),
              "metadata": {"payment_id": str(payment.id),
                           "payable": f"{payment.payable_type}:{payment.payable_id}"}}
    outcome = payments.handle_event({"id": f"evt_demo_{payment.id}", "object": "event",
                                     "type": "payment_intent.succeeded", "data": {"object": intent}})
    if outcome != "applied":
        raise DomainError(f"the demo payment {payment.id} was not applied: {outcome}")


def _condition(code: str, cast, proof_pdf: bytes) -> Condition:
    """The patient's verified diagnosis; type 2 diabetes is added (as the patient and the admin would)
    the first time a scenario needs it."""
    patient = cast.patient
    condition = db.session.scalar(select(Condition).where(
        Condition.patient_id == patient.id, Condition.icd10_code == code,
        Condition.status == ConditionStatus.VERIFIED))
    if condition is not None:
        return condition
    if code != DIABETES:
        raise DomainError(f"the demo patient has no verified {code}")
    with _acting_as(patient):
        if patient.patient_profile is None:  # staff compare a proof with the legal name and birth date
            patients.save_profile(patient, legal_name="李演示", sex="male", date_of_birth=date(1961, 5, 14),
                                  id_document_number=None, time_zone="Asia/Shanghai")
        condition = patients.add_condition(
            patient, icd10_code=DIABETES, hospital="Demo People's Hospital", diagnosed_on=date(2021, 9, 3),
            proof_file=FileStorage(BytesIO(proof_pdf), filename="outpatient-record-diabetes-demo.pdf"),
            uploaded_by=patient)
    with _acting_as(cast.admin):
        return patients.review_condition(condition, cast.admin, verify=True, note="Demo data")


def _home_address(patient: User):
    """The patient's address in SH01's delivery area, added the first time a delivery needs one."""
    for address in active_addresses(patient):
        if address.city == CITY:
            return address
    return patients.add_address(patient, recipient=patient.display_name, phone=patient.phone,
                                province=CITY, city=CITY, district="Xuhui District",
                                street="100 Demo Lane, Flat 6-302", postal_code="200030", make_default=True)


def _scans(order: Order) -> dict:
    """What the pharmacist's scanner types for each line: the lot the order holds, and one invented
    traceability code per pack (the drug's demo product code, the order, the pack)."""
    held = dispensing.held(order)
    scans = {}
    for line in order.lines:
        lot, _packs = held[line.drug_id][0]
        prefix = line.drug.traceability_prefix or ""
        width = 20 - len(prefix) - 3
        scans[line.id] = (lot.lot_number, "\n".join(f"{prefix}{order.id:0{width}d}{pack:03d}"
                                                     for pack in range(1, line.packs + 1)))
    return scans
