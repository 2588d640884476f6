"""Backfill and replay: write the events the platform has not had, in chunks, and queue dead ones again."""

from collections.abc import Callable, Iterator
from datetime import datetime

from sqlalchemy import exists, select

from app.database import utcnow
from app.delivery.models import ColdChainExcursion
from app.extensions import db
from app.orders.models import Dispense, Order
from app.orders.states import OrderStatus
from app.outbox.models import OutboxEvent, OutboxStatus
from app.outbox.services import emit
from app.outbox.states import MACHINE
from app.patients.models import Consent, ConsentKind
from app.platform import adherence_events, events, facts

CHUNK = 500  # orders per transaction: one chunk is one commit and one step of the progress bar

Batches = list[tuple[list[int], Callable[[list[int]], list[dict]]]]


def _chunks(ids: list[int], build) -> Batches:
    return [(ids[start:start + CHUNK], build) for start in range(0, len(ids), CHUNK)]


def plan(since: datetime) -> list[tuple[str, Batches, int]]:
    """What a backfill from `since` walks: (label, batches, how many), by kind of event."""
    dispensed = exists().where(Dispense.order_id == Order.id)
    handed = db.session.scalars(select(Order.id).where(facts.handed_over_since(since))
                                .order_by(Order.id)).all()
    returned = db.session.scalars(select(Order.id).where(
        Order.status == OrderStatus.REFUNDED, dispensed, Order.closed_at >= since).order_by(Order.id)).all()
    excursions = db.session.scalars(select(ColdChainExcursion.id).where(
        ColdChainExcursion.detected_at >= since).order_by(ColdChainExcursion.id)).all()
    months = [month.toordinal() for month in adherence_events.months_since(since.date())]
    return [("Dispensed orders", _chunks(handed, events.dispensed_rows), len(handed)),
            ("Returned orders", _chunks(returned, events.returned_rows), len(returned)),
            ("Cold-chain excursions", _chunks(excursions, events.excursion_rows), len(excursions)),
            ("Monthly adherence summaries", [([month], adherence_events.month_rows) for month in months],
             len(months))]


def run(batches: Batches) -> Iterator[tuple[int, int]]:
    """Write each batch's events (an event already written is skipped); yields (size, written) so the
    caller commits and reports progress after each."""
    for ids, build in batches:
        yield len(ids), emit(build(ids))


def _still_sharing():
    return exists().where(Consent.patient_id == OutboxEvent.patient_id,
                          Consent.kind == ConsentKind.DATA_SHARING, Consent.revoked_at.is_(None))


def replay_dead(event_id: int | None = None) -> int:
    """Queue dead events again, from a first attempt; never those of a patient no longer sharing."""
    condition = (OutboxEvent.status == OutboxStatus.DEAD) & _still_sharing()
    if event_id is not None:
        condition = condition & (OutboxEvent.id == event_id)
    result = db.session.execute(MACHINE.guarded_update_many(
        OutboxEvent, condition, OutboxStatus.PENDING, attempts=0, next_attempt_at=utcnow(), last_error="",
        claimed_by=None, lease_expires_at=None))
    return result.rowcount
