"""Inventory fixtures: catalogue drugs, a store and a pharmacist, lots received through the service."""

from datetime import date, datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from app.accounts.models import Role
from app.audit.models import AuditEvent
from app.database import utcnow
from app.extensions import db as _db
from app.inventory import services
from app.inventory.models import StockLot, StockMovement
from tests import factories
from tests.prescribing.conftest import load_shipped_rows

AMLODIPINE = "AMLODIPINE-5MG-TAB"  # 28 tablets a pack
METFORMIN = "METFORMIN-500MG-TAB"
INSULIN = "INSULIN-GLARGINE-300IU-PEN"  # cold chain (2–8 °C), one pen a pack
CODES = (AMLODIPINE, METFORMIN, INSULIN)
SHANGHAI = ZoneInfo("Asia/Shanghai")  # the test stores' time zone: expiry dates are judged in it


def today() -> date:
    return utcnow().astimezone(SHANGHAI).date()


def in_days(days: int) -> date:
    return today() + timedelta(days=days)


@pytest.fixture
def stock(db):
    """The drugs, an active cold-chain-capable store, a pharmacist and a receive() shortcut."""
    drugs = load_shipped_rows(db, CODES)
    store = factories.make_store()
    pharmacist = factories.make_user(Role.PHARMACIST)
    db.session.commit()

    def receive(lot_number, expiry, quantity, code=AMLODIPINE, *, at=None, cost=1500, temperature=None,
                into=None):
        """Receive a lot; `at` is the day of receipt (for lots that must be near expiry today)."""
        now = None if at is None else moment(at)
        return services.receive(into or store, drugs[code], lot_number, expiry, quantity, cost, pharmacist,
                                arrival_temperature=temperature, now=now)

    return SimpleNamespace(drugs=drugs, store=store, pharmacist=pharmacist, receive=receive)


def ledger_rows(lot: StockLot) -> list[StockMovement]:
    return list(_db.session.scalars(select(StockMovement).where(StockMovement.lot_id == lot.id)
                                   .order_by(StockMovement.id)))


def footprint(db) -> tuple:
    """Everything a failed service call must leave as it was: lots, their quantities, ledger, audit."""
    lots = db.session.execute(select(StockLot.id, StockLot.quantity_on_hand, StockLot.quantity_reserved,
                                     StockLot.status, StockLot.unit_cost_fen).order_by(StockLot.id)).all()
    movements = db.session.scalar(select(func.count()).select_from(StockMovement))
    audits = db.session.scalar(select(func.count()).select_from(AuditEvent))
    return lots, movements, audits


def moment(day: date) -> datetime:
    """Now, moved to `day` (for a service's `now=`)."""
    return utcnow() + timedelta(days=(day - today()).days)
