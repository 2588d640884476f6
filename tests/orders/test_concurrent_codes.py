"""One pack, one patient: two stores scan the same traceability code at the same moment, on PostgreSQL
with a connection each. One dispenses; the other is told to scan again and writes nothing — its order
stays paid with its reservation, no pack, no ledger row, no event for the data platform."""

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from app.accounts.models import Role, User
from app.consultations.models import Consultation
from app.consultations.states import ConsultationStatus
from app.database import utcnow
from app.errors import DomainError
from app.extensions import db
from app.inventory import ledger
from app.inventory import services as inventory
from app.inventory.models import MovementKind, StockMovement
from app.orders import dispensing
from app.orders import services as orders
from app.orders.models import PAYABLE, Dispense, DispensedPack, Order
from app.orders.states import OrderStatus
from app.patients.models import Condition, ConditionStatus, UploadPurpose
from app.patients.uploads import save_upload
from app.payments import services as payments
from app.prescribing import services as rx
from app.review import services as review
from tests import factories
from tests.consultations.conftest import upload_file
from tests.inventory.conftest import AMLODIPINE
from tests.prescribing.conftest import load_shipped_rows

pytestmark = pytest.mark.postgres_only

CODE = "86900010000000000042"
CHECKS = [code for code, _label in dispensing.CHECKLIST]
JUST_TAKEN = ("One of these traceability codes has just been dispensed elsewhere. Scan the packs "
              "again.")
ALREADY = f"Traceability code {CODE} has already been dispensed."


def _paid_order(store, lot_number: str, number: int) -> int:
    """A patient's approved amlodipine prescription ordered for pickup at `store` and paid by wallet
    (the webhook's own handler confirms it); the order's id."""
    patient = factories.make_patient(display_name=f"Patient {number}")
    doctor = factories.make_user(Role.DOCTOR)
    proof = save_upload(upload_file(), patient=patient, uploaded_by=patient,
                        purpose=UploadPurpose.CONDITION_PROOF)
    condition = Condition(patient_id=patient.id, icd10_code="I10", name="Essential hypertension",
                          hospital="Ruijin Hospital", diagnosed_on=utcnow().date(), proof_upload_id=proof.id,
                          status=ConditionStatus.VERIFIED, reviewed_by_id=doctor.id, reviewed_at=utcnow())
    db.session.add(condition)
    db.session.flush()
    visit = Consultation(patient_id=patient.id, doctor_id=doctor.id, condition_id=condition.id,
                         reason="Blood pressure follow-up.", status=ConsultationStatus.IN_PROGRESS,
                         fee_fen=3000, paid_at=utcnow(), accepted_at=utcnow())
    db.session.add(visit)
    db.session.flush()
    prescription = rx.start(visit, doctor, condition_id=condition.id)
    rx.add_item(prescription, doctor, drug_id=store.drug.id, dose="5", dose_unit="mg", frequency="QD",
                duration_days=7)
    review.submit(rx.sign(prescription, doctor, factories.PASSWORD))
    reviewer = factories.make_user(Role.PHARMACIST)
    review.claim(prescription, reviewer)
    review.decide(prescription, reviewer, "approved")
    order = orders.place(prescription, patient, store_id=store.id, fulfilment="pickup")
    payment = orders.start_payment(order, method_type="alipay")
    intent = {"id": f"pi_race_{payment.id}", "object": "payment_intent", "status": "succeeded",
              "amount": payment.amount_fen, "currency": payment.currency.lower(),
              "metadata": {"payment_id": str(payment.id), "payable": f"order:{order.id}"}}
    event = {"id": f"evt_race_{payment.id}", "object": "event", "type": "payment_intent.succeeded",
             "data": {"object": intent}}
    assert payments.handle_event(event) == "applied"
    return order.id


@pytest.fixture
def two_stores(committed_postgres_app):
    """Two stores, each with its pharmacist, a lot of amlodipine and one paid order waiting."""
    application = committed_postgres_app
    with application.app_context():
        drug = load_shipped_rows(db, (AMLODIPINE,))[AMLODIPINE]
        drug.traceability_prefix = CODE[:7]
        made = []
        for number in (1, 2):
            store = factories.make_store(code=f"RACE{number}")
            store.drug = drug
            pharmacist = factories.make_user(Role.PHARMACIST)
            pharmacist.pharmacist_profile.home_store_id = store.id
            lot_number = f"RACE-LOT-{number}"
            inventory.receive(store, drug, lot_number, (utcnow() + timedelta(days=400)).date(), 5, 1500,
                              pharmacist)
            made.append(dict(order=_paid_order(store, lot_number, number), pharmacist=pharmacist.id,
                             lot=lot_number))
        db.session.commit()
        db.session.remove()
    return made


def _dispense(application, counter: dict, outcome: dict, before_commit=lambda: None) -> None:
    """What the dispense view does, in its own session (its own connection)."""
    with application.app_context():
        try:
            order = db.session.get(Order, counter["order"])
            [line] = order.lines
            dispensing.dispense(order, db.session.get(User, counter["pharmacist"]),
                                {line.id: (counter["lot"], CODE)}, CHECKS)
            before_commit()
            db.session.commit()
            outcome["result"] = "dispensed"
        except DomainError as error:
            db.session.rollback()
            outcome["result"] = str(error)
        except Exception as error:  # a deadlock or a raw unique violation would land here
            db.session.rollback()
            outcome["result"] = repr(error)
        finally:
            db.session.remove()


def _waiting_on_a_lock(application) -> bool:
    with application.app_context():
        try:
            return bool(db.session.scalar(text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock'")))
        finally:
            db.session.remove()


def _state_after(application, loser: dict) -> dict:
    with application.app_context():
        order = db.session.get(Order, loser["order"])
        found = dict(
            live_packs=db.session.scalar(select(func.count()).select_from(DispensedPack).where(
                DispensedPack.traceability_code == CODE, DispensedPack.freed_at.is_(None))),
            loser_status=order.status,
            loser_held=sum(ledger.holdings((PAYABLE, order.id), order.store_id).values()),
            dispense_rows=db.session.scalar(select(func.count()).select_from(StockMovement).where(
                StockMovement.kind == MovementKind.DISPENSE)),
            dispenses=db.session.scalar(select(func.count()).select_from(Dispense)),
            ledger=ledger.verify())
        db.session.remove()
    return found


def test_the_second_store_blocked_on_the_code_is_told_to_scan_again(committed_postgres_app, two_stores):
    """The first store has written the pack but not committed; the second store's insert waits on the
    live-code index and, once the first commits, is refused with a message (the savepoint path)."""
    application = committed_postgres_app
    first, second = two_stores
    written, commit_now = threading.Event(), threading.Event()
    outcomes = ({}, {})

    def hold_until_told():
        written.set()
        assert commit_now.wait(timeout=60)

    winner = threading.Thread(target=_dispense, args=(application, first, outcomes[0], hold_until_told))
    loser = threading.Thread(target=_dispense, args=(application, second, outcomes[1]))
    winner.start()
    assert written.wait(timeout=60)
    loser.start()
    deadline = utcnow() + timedelta(seconds=60)
    while not _waiting_on_a_lock(application):  # the second insert is blocked by the first's pack
        assert utcnow() < deadline and loser.is_alive(), outcomes
    commit_now.set()
    winner.join(timeout=60)
    loser.join(timeout=60)

    assert outcomes == ({"result": "dispensed"}, {"result": JUST_TAKEN})
    state = _state_after(application, second)
    assert state["live_packs"] == 1 and state["dispense_rows"] == 1 and state["dispenses"] == 1
    assert state["loser_status"] == OrderStatus.PAID and state["loser_held"] == 1  # nothing half-written
    assert state["ledger"] == []


def test_two_stores_scanning_one_code_at_once_dispense_it_once(committed_postgres_app, two_stores):
    application = committed_postgres_app
    start = threading.Barrier(2)
    outcomes = ({}, {})

    def race(counter, outcome):
        start.wait(timeout=30)
        _dispense(application, counter, outcome)

    threads = [threading.Thread(target=race, args=(counter, outcome))
               for counter, outcome in zip(two_stores, outcomes, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    results = sorted(outcome["result"] for outcome in outcomes)
    assert results.count("dispensed") == 1, results
    [refusal] = [result for result in results if result != "dispensed"]
    assert refusal in (JUST_TAKEN, ALREADY)  # refused before or at the insert, never a 500
    loser = two_stores[[outcome["result"] for outcome in outcomes].index(refusal)]
    state = _state_after(application, loser)
    assert state["live_packs"] == 1 and state["dispense_rows"] == 1 and state["dispenses"] == 1
    assert state["loser_status"] == OrderStatus.PAID and state["loser_held"] == 1
    assert state["ledger"] == []
