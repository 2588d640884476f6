"""On PostgreSQL with a connection each: a transfer is picked once however many pharmacists press the
button, packs picked for a transfer are never also reserved for an order, and the reservation-expiry job
never releases what a pharmacist is dispensing at that moment."""

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.accounts.models import Role, User
from app.database import utcnow
from app.errors import DomainError
from app.extensions import db
from app.inventory import ledger, services
from app.inventory.models import MovementKind, StockLot, StockMovement, StockTransfer, StockTransferLine
from tests import factories
from tests.inventory.conftest import AMLODIPINE, in_days
from tests.prescribing.conftest import load_shipped_rows

pytestmark = pytest.mark.postgres_only


def run_together(application, calls) -> list[str]:
    """Run each call in its own thread and session at the same moment; 'ok' or the error, in order."""
    start = threading.Barrier(len(calls))
    outcomes: list[str] = [""] * len(calls)

    def run(index, call):
        start.wait(timeout=30)
        with application.app_context():
            try:
                call()
                db.session.commit()
                outcomes[index] = "ok"
            except DomainError as error:
                db.session.rollback()
                outcomes[index] = str(error)
            except Exception as error:  # a deadlock or a CHECK violation would land here
                db.session.rollback()
                outcomes[index] = repr(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(index, call)) for index, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


def setup_chain(application, packs: int):
    with application.app_context():
        drug = load_shipped_rows(db, (AMLODIPINE,))[AMLODIPINE]
        sender, receiver = factories.make_store(), factories.make_store()
        pharmacist = factories.make_user(Role.PHARMACIST)
        services.receive(sender, drug, "C-1", in_days(200), packs // 2, 1500, pharmacist)
        services.receive(sender, drug, "C-2", in_days(300), packs - packs // 2, 1500, pharmacist)
        transfer = services.request_transfer(sender, receiver, drug, 6, pharmacist)
        db.session.commit()
        return transfer.id, sender.id, drug.id, pharmacist.id


def test_eight_pharmacists_picking_one_transfer_pick_it_once(committed_postgres_app):
    application = committed_postgres_app
    transfer_id, _sender_id, _drug_id, pharmacist_id = setup_chain(application, 10)

    def pick():
        services.pick(transfer_id, db.session.get(User, pharmacist_id))

    outcomes = run_together(application, [pick] * 8)
    assert outcomes.count("ok") == 1
    assert set(outcomes) - {"ok"} == {f"Transfer {transfer_id} is picked; it cannot be picked."}
    with application.app_context():
        assert db.session.scalar(select(func.sum(StockLot.quantity_reserved))) == 6
        assert db.session.scalar(select(func.count()).select_from(StockTransferLine)) == 2
        assert ledger.verify() == []


def test_a_transfer_pick_and_orders_never_hold_the_same_packs(committed_postgres_app):
    application = committed_postgres_app
    transfer_id, sender_id, drug_id, pharmacist_id = setup_chain(application, 10)

    def pick():
        services.pick(transfer_id, db.session.get(User, pharmacist_id))

    def order(number):
        return lambda: services.reserve(sender_id, {drug_id: 1}, 30, ("order", number),
                                        db.session.get(User, pharmacist_id))

    outcomes = run_together(application, [pick] + [order(number) for number in range(1, 10)])
    assert outcomes[0] == "ok" or "free to send" in outcomes[0], outcomes
    assert all(result == "ok" or result.startswith("Not enough stock") for result in outcomes[1:]), outcomes
    with application.app_context():
        reserved = db.session.scalar(select(func.sum(StockLot.quantity_reserved)))
        picked = db.session.scalar(select(StockTransfer.status).where(StockTransfer.id == transfer_id))
        orders = outcomes[1:].count("ok")
        assert reserved == orders + (6 if outcomes[0] == "ok" else 0) <= 10
        assert (outcomes[0] == "ok") == (picked == "picked")
        assert ledger.verify() == []


def test_the_reservation_expiry_job_and_dispensing_pharmacists_never_both_take_an_order(
        committed_postgres_app):
    application = committed_postgres_app
    _transfer_id, store_id, drug_id, pharmacist_id = setup_chain(application, 10)
    with application.app_context():
        patient_id = factories.make_patient().id
        for order in range(1, 9):
            services.reserve(store_id, {drug_id: 1}, 30, ("order", order),
                             db.session.get(User, pharmacist_id))
        db.session.commit()

    def dispense(order):
        return lambda: services.dispense(store_id, {drug_id: 1}, ("order", order),
                                         db.session.get(User, pharmacist_id), patient=patient_id)

    def expire():
        services.release_expired_reservations(100, now=utcnow() + timedelta(hours=49))

    outcomes = run_together(application, [expire, expire] + [dispense(order) for order in range(1, 9)])
    assert outcomes[:2] == ["ok", "ok"]
    assert all(outcome in ("ok", "Nothing of Amlodipine (AMLODIPINE-5MG-TAB) is reserved for this order at "
                                 "this store.") for outcome in outcomes[2:]), outcomes
    with application.app_context():
        taken = (MovementKind.DISPENSE, MovementKind.RELEASE)
        kinds = db.session.execute(select(StockMovement.reference_id, StockMovement.kind).where(
            StockMovement.reference_type == "order", StockMovement.kind.in_(taken))).all()
        assert sorted(order for order, _kind in kinds) == list(range(1, 9))  # each order exactly once
        dispensed = {order for order, kind in kinds if kind == MovementKind.DISPENSE}
        assert dispensed == {order for order, outcome in enumerate(outcomes[2:], start=1) if outcome == "ok"}
        assert db.session.scalar(select(func.sum(StockLot.quantity_reserved))) == 0
        assert ledger.verify() == []
