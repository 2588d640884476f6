"""Twenty pharmacists reserve and dispense the last 10 packs at the same moment, on PostgreSQL with a
connection each: exactly 10 get a pack, the others are told it is out of stock, nothing goes negative."""

import threading

import pytest
from sqlalchemy import select

from app.accounts.models import Role, User
from app.errors import DomainError
from app.extensions import db
from app.inventory import ledger, services
from app.inventory.models import MovementKind, StockLot, StockMovement
from tests import factories
from tests.inventory.conftest import AMLODIPINE, in_days
from tests.prescribing.conftest import load_shipped_rows

pytestmark = pytest.mark.postgres_only

PHARMACISTS = 20
OUT_OF_STOCK = ("Not enough stock of Amlodipine (AMLODIPINE-5MG-TAB): 0 packs stay in date for a 30-day "
                "supply, 1 requested.")


def test_twenty_concurrent_dispensings_of_ten_packs_succeed_exactly_ten_times(committed_postgres_app,
                                                                             database_url):
    application = committed_postgres_app
    with application.app_context():
        drug = load_shipped_rows(db, (AMLODIPINE,))[AMLODIPINE]
        store = factories.make_store()
        receiver = factories.make_user(Role.PHARMACIST)
        for lot_number, months, packs in (("C-03", 3, 3), ("C-06", 6, 3), ("C-12", 12, 4)):
            services.receive(store, drug, lot_number, in_days(months * 31), packs, 1500, receiver)
        pharmacist_ids = [factories.make_user(Role.PHARMACIST).id for _ in range(PHARMACISTS)]
        patient_id = factories.make_patient().id
        db.session.commit()
        store_id, drug_id = store.id, drug.id

    start = threading.Barrier(PHARMACISTS)
    outcomes: dict[int, str] = {}

    def reserve_and_dispense(order: int, pharmacist_id: int) -> None:
        start.wait(timeout=30)
        with application.app_context():  # its own session, so its own connection
            try:
                pharmacist = db.session.get(User, pharmacist_id)
                services.reserve(store_id, {drug_id: 1}, 30, ("order", order), pharmacist)
                db.session.commit()
                services.dispense(store_id, {drug_id: 1}, ("order", order), pharmacist, patient=patient_id)
                db.session.commit()
                outcomes[order] = "dispensed"
            except DomainError as error:
                db.session.rollback()
                outcomes[order] = str(error)
            except Exception as error:  # a deadlock or a CHECK violation would land here
                db.session.rollback()
                outcomes[order] = repr(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=reserve_and_dispense, args=(order, pid))
               for order, pid in enumerate(pharmacist_ids, start=1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert len(outcomes) == PHARMACISTS
    assert sorted(set(outcomes.values())) == sorted({"dispensed", OUT_OF_STOCK})
    assert list(outcomes.values()).count("dispensed") == 10
    with application.app_context():
        lots = db.session.scalars(select(StockLot).order_by(StockLot.id)).all()
        assert [(lot.quantity_on_hand, lot.quantity_reserved) for lot in lots] == [(0, 0)] * 3
        dispensed = db.session.scalars(select(StockMovement.reference_id)
                                       .where(StockMovement.kind == MovementKind.DISPENSE))
        assert sorted(dispensed) == sorted(
            order for order, outcome in outcomes.items() if outcome == "dispensed")
        assert ledger.verify() == []
        result = application.test_cli_runner().invoke(args=["inventory", "verify"])
        assert result.exit_code == 0, result.output
