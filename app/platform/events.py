"""The events the data platform receives, written in the transaction of what they record.

The platform learns of a dispense once the medicines reach the patient (so it knows when they were
handed over, and a parcel brought back is never counted as supply); of a prepared dispense that
never reached them, with the reason; of a cold-chain excursion; and of each month's adherence.
Only patients with a current data-sharing consent are written; withdrawing it withdraws what is
still waiting.
"""

import json
from dataclasses import replace

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.database import utcnow
from app.delivery.models import ColdChainExcursion
from app.extensions import db
from app.inventory.models import StockLot
from app.outbox.models import OutboxEvent, OutboxStatus
from app.outbox.services import emit, event_row, new_key
from app.outbox.states import MACHINE
from app.platform import facts, fhir
from app.platform.tokens import ORDER, tokens

DISPENSED, RETURNED, EXCURSION, ADHERENCE = (
    "medication.dispensed", "medication.returned", "delivery.excursion", "adherence.summary")
EVENT_TYPES = (DISPENSED, RETURNED, EXCURSION, ADHERENCE)
# Why a prepared dispense was taken back -> its FHIR status: the patient did not want it, or it
# was halted for another reason (undeliverable, spoiled, a problem found).
DECLINED_REASONS = frozenset({"not_collected", "patient_declined"})


def _dispense_rows(event_type: str, pairs) -> list[dict]:
    rows = []
    for line, item in pairs:
        key = new_key()
        resource = fhir.medication_dispense(replace(item, key=key))
        rows.append(event_row(event_type, "order_lines", line.id, line.order.patient_id, resource, key=key))
    return rows


def dispensed_rows(order_ids) -> list[dict]:
    """The dispense events of handed-over orders (live after a handover, and for a backfill)."""
    orders, dispensed = facts.handed_over(order_ids)
    return _dispense_rows(DISPENSED, facts.dispense_lines(orders, dispensed, status="completed"))


def medicines_received(order) -> int:
    """The patient has the medicines (picked up or delivered): one event per dispensed line."""
    return emit(dispensed_rows([order.id]))


def _last_taken_back(record) -> list:
    """The packs brought back when the order was closed (one moment for all of them); packs replaced
    earlier after an excursion were reported with it."""
    moments = [pack.returned_at for pack in record.packs if pack.returned_at is not None]
    return [pack for pack in record.packs if moments and pack.returned_at == max(moments)]


def returned_rows(order_ids) -> list[dict]:
    """The events of prepared dispenses taken back before they reached the patient, by order."""
    orders = facts.load_orders(order_ids)
    dispensed = facts.dispenses_of(order_ids)
    rows = []
    for reason in sorted({order.close_reason for order in orders}):
        pairs = facts.dispense_lines(
            [order for order in orders if order.close_reason == reason], dispensed,
            status="declined" if reason in DECLINED_REASONS else "stopped", reason=reason or "other",
            packs_of=_last_taken_back)
        rows.extend(_dispense_rows(RETURNED, pairs))
    return rows


def dispense_returned(order) -> int:
    """A prepared dispense taken back before it reached the patient: one event per line."""
    return emit(returned_rows([order.id]))


def excursion_rows(excursion_ids) -> list[dict]:
    """One Observation per excursion (a lot in a parcel read outside 2–8 °C) of sharing patients."""
    excursions = db.session.scalars(
        select(ColdChainExcursion).where(ColdChainExcursion.id.in_(sorted(set(excursion_ids))))
        .order_by(ColdChainExcursion.id)
        .options(selectinload(ColdChainExcursion.lot).selectinload(StockLot.drug),
                 selectinload(ColdChainExcursion.delivery))).all()
    orders = {order.id: order for order in facts.load_orders({e.delivery.order_id for e in excursions})}
    people = facts.patients({order.patient_id for order in orders.values()}, utcnow().date())
    order_tokens = tokens(ORDER, [o.id for o in orders.values() if o.patient_id in people])
    rows = []
    for excursion in excursions:
        order = orders[excursion.delivery.order_id]
        if order.patient_id not in people:
            continue
        lot, key = excursion.lot, new_key()
        units = excursion.packs * lot.drug.pack_size
        resource = fhir.excursion_observation(fhir.ExcursionFacts(
            key=key, patient=people[order.patient_id],
            product=facts.product(lot.drug, [fhir.Lot(lot.lot_number, lot.expiry_date, units)]),
            dispense_ids=tuple(f"{order_tokens[order.id]}-{line.position}" for line in order.lines),
            store_code=order.store.code, detected_at=excursion.detected_at,
            temperature_c=excursion.temperature_c, packs=excursion.packs))
        rows.append(event_row(EXCURSION, "cold_chain_excursions", excursion.id, order.patient_id, resource,
                              key=key))
    return rows


def excursion_recorded(excursions) -> int:
    """A courier's reading outside 2–8 °C: the excursions just recorded (flushed, with ids)."""
    return emit(excursion_rows([excursion.id for excursion in excursions]))


def withdraw(patient_id: int) -> int:
    """Data-sharing consent withdrawn: the patient's unsent events are never sent."""
    result = db.session.execute(MACHINE.guarded_update_many(
        OutboxEvent, (OutboxEvent.patient_id == patient_id) & (OutboxEvent.status == OutboxStatus.PENDING),
        OutboxStatus.WITHDRAWN, last_error="data-sharing consent withdrawn", next_attempt_at=utcnow()))
    return result.rowcount


def unlink(patient_id: int) -> int:
    """Linkage consent withdrawn: the unsent events lose the linkage token (they still go, without it)."""
    changed = 0
    for event in db.session.scalars(select(OutboxEvent).where(
            OutboxEvent.patient_id == patient_id, OutboxEvent.status == OutboxStatus.PENDING)
            .with_for_update()):
        resource = json.loads(event.payload)
        for contained in resource.get("contained", []):
            if contained.get("resourceType") == "Patient":
                contained["identifier"] = [one for one in contained.get("identifier", [])
                                           if one.get("system") != fhir.LINKAGE_SYSTEM]
        event.payload = json.dumps(resource, ensure_ascii=False, separators=(",", ":"))
        changed += 1
    db.session.flush()
    return changed
