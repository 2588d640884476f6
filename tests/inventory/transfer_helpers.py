"""Shared by the transfer, recall, reorder and availability tests: a second and third store, and a
refusal check that also covers the transfer tables."""

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.errors import DomainError
from app.inventory.models import LotRecall, ReorderPoint, StockTransfer, StockTransferLine
from tests import factories
from tests.inventory.conftest import footprint


def everything(db) -> tuple:
    """The stock footprint plus the transfer, recall and reorder-point tables, row by row."""
    transfers = db.session.execute(select(StockTransfer.id, StockTransfer.status)
                                   .order_by(StockTransfer.id)).all()
    lines = db.session.execute(select(StockTransferLine.id, StockTransferLine.packs_received)
                               .order_by(StockTransferLine.id)).all()
    recalls = db.session.scalar(select(func.count()).select_from(LotRecall))
    points = db.session.execute(select(ReorderPoint.id, ReorderPoint.min_packs, ReorderPoint.target_packs)
                                .order_by(ReorderPoint.id)).all()
    return footprint(db), transfers, lines, recalls, points


def refused(db, call, *args, **kwargs) -> str:
    """Call a service that must refuse; check it wrote nothing at all; return its message."""
    before = everything(db)
    with pytest.raises(DomainError) as error:
        call(*args, **kwargs)
    db.session.flush()
    assert everything(db) == before
    return str(error.value)


def make_store(code: str, *, cold_chain: bool = True, lat=None, lng=None, **fields):
    coordinates = {}
    if lat is not None:
        coordinates = dict(latitude=Decimal(str(lat)), longitude=Decimal(str(lng)))
    return factories.make_store(code=code, name_en=f"Store {code}", is_cold_chain_capable=cold_chain,
                                **coordinates, **fields)
