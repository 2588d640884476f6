"""Read-only stock questions the pages and services share: what each store can send of a drug."""

from datetime import datetime

from sqlalchemy import select

from app.extensions import db
from app.inventory.availability import StoreDates, stock_by_store
from app.inventory.models import Store
from app.inventory.rules import TRANSFER_MIN_SHELF_DAYS


def free_to_send(drug_id: int, stores: list[Store] | None = None, *, now: datetime | None = None,
                 shelf_days: int = TRANSFER_MIN_SHELF_DAYS) -> dict[int, int]:
    """{store id: packs of the drug a transfer's pick could take now} — available lots in date for at
    least `shelf_days` more days in the store's calendar, less what orders and transfers hold (the same
    rule as app.inventory.transfers.pick). Stores with none are left out."""
    if stores is None:
        stores = list(db.session.scalars(select(Store).where(Store.is_active)))
    stock = stock_by_store([drug_id], StoreDates(stores, now), shelf_days, shelf_days)
    wanted = {store.id for store in stores}
    return {store_id: packs for (store_id, _drug), (packs, _movable) in stock.items()
            if store_id in wanted and packs > 0}
