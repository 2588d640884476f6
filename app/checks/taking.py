"""What a patient is taking on a day: the one reading the checks, the review page and the doctor share."""

from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import date
from functools import cache

import sqlalchemy as sa
from sqlalchemy import bindparam, exists, select, union_all
from sqlalchemy.orm import selectinload

from app.checks.engine import MedicationSource
from app.drugs.models import Drug
from app.extensions import db
from app.inventory.models import Store
from app.prescribing.models import Prescription, PrescriptionItem
from app.prescribing.rules import supply_last_day
from app.prescribing.services import local_date
from app.prescribing.states import NOT_TAKEN

DISPENSED, PRESCRIBED = 0, 1  # the rank of each source in the statement: dispensings first


@dataclass(frozen=True)
class Supply:
    """A drug counted as taken from `first_day` through `last_day`: handed out by `store`, or, until a
    store dispenses it, on a signed prescription (counted from the signing day)."""

    drug: Drug
    source: MedicationSource
    reference: str  # what a check finding names it by, e.g. "dispense 7" or "prescription 12 v1 line 2"
    first_day: date
    last_day: date
    store: Store | None = None


def version_chain(prescription: Prescription | None) -> set[int]:
    """The ids of a prescription and of the versions it replaces: none of them is already being taken
    while it is written or checked."""
    ids = set()
    while prescription is not None:
        if prescription.id is not None:
            ids.add(prescription.id)
        prescription = prescription.previous_version
    return ids


@cache
def _supplies(with_ingredients: bool):
    """Every order line the patient was handed (with whether a pack of it is still out, not returned)
    and every line of their signed prescriptions not superseded, returned or cancelled, with the drug
    and the dispensing store: one statement, however many there are."""
    # Imported here: orders import prescribing, which imports the checks (a cycle at module level).
    from app.orders.models import Dispense, DispensedPack, Order, OrderLine

    patient_id = bindparam("patient_id")
    still_out = exists().where(DispensedPack.dispense_id == Dispense.id,
                               DispensedPack.order_line_id == OrderLine.id,
                               DispensedPack.returned_at.is_(None))
    dispensed = (
        select(sa.literal_column(str(DISPENSED)).label("rank"), Dispense.id.label("record_id"),
               sa.literal_column("0").label("version"), OrderLine.position.label("position"),
               Dispense.dispensed_at.label("started_at"), OrderLine.days_supply.label("days_supply"),
               Order.prescription_id.label("prescription_id"), still_out.label("still_out"),
               OrderLine.drug_id.label("drug_id"), Dispense.store_id.label("store_id"))
        .join(Order, Order.id == Dispense.order_id).join(OrderLine, OrderLine.order_id == Order.id)
        .where(Dispense.patient_id == patient_id))
    prescribed = (
        select(sa.literal_column(str(PRESCRIBED)), Prescription.id, Prescription.version,
               PrescriptionItem.position, Prescription.signed_at, PrescriptionItem.days_supply,
               Prescription.id, sa.true(), PrescriptionItem.drug_id, sa.cast(sa.null(), sa.Integer))
        .join(PrescriptionItem, PrescriptionItem.prescription_id == Prescription.id)
        .where(Prescription.patient_id == patient_id, Prescription.signed_at.is_not(None),
               Prescription.status.not_in(NOT_TAKEN)))
    rows = union_all(dispensed, prescribed).subquery("supplies")
    statement = (select(rows, Drug, Store).join(Drug, Drug.id == rows.c.drug_id)
                 .outerjoin(Store, Store.id == rows.c.store_id)
                 .order_by(rows.c.rank, rows.c.started_at, rows.c.record_id, rows.c.position))
    return statement.options(selectinload(Drug.ingredients)) if with_ingredients else statement


def running_supplies(patient_id: int, today: date, exclude: AbstractSet[int] = frozenset(), *,
                     with_ingredients: bool = False) -> list[Supply]:
    """Every supply the patient is taking `today` (its first day on or before it, its last day on or
    after it): what was dispensed, less lines whose packs all came back, then the lines of signed
    prescriptions no store has dispensed. A dispensing's day replaces the signing day, so one supply
    is not counted twice (and packs that came back do not count from the signing day either).
    `exclude` holds prescriptions that do not count (the one being written or checked and the
    versions it replaces). `with_ingredients` loads what the checks read of each drug."""
    rows = db.session.execute(_supplies(with_ingredients), {"patient_id": patient_id}).all()
    filled = {row.prescription_id for row in rows if row.rank == DISPENSED}
    supplies = []
    for row in rows:
        if row.rank == DISPENSED:
            if not row.still_out:
                continue
            source, reference = MedicationSource.DISPENSING, f"dispense {row.record_id}"
        elif row.record_id in exclude or row.record_id in filled:
            continue
        else:
            source = MedicationSource.PRESCRIPTION
            reference = f"prescription {row.record_id} v{row.version} line {row.position}"
        first_day = local_date(row.started_at)
        last_day = supply_last_day(first_day, row.days_supply)
        if first_day <= today <= last_day:
            supplies.append(Supply(drug=row.Drug, source=source, reference=reference, first_day=first_day,
                                   last_day=last_day, store=row.Store))
    return supplies


def taking_now(patient_id: int, today: date, exclude: AbstractSet[int] = frozenset()) -> list[Supply]:
    """What the pages list as taken now: one supply per drug, the one lasting longest (a dispensing
    before a prescription ending the same day), those running out first at the top."""
    longest: dict[int, Supply] = {}
    for supply in running_supplies(patient_id, today, exclude):
        kept = longest.get(supply.drug.id)
        if kept is None or supply.last_day > kept.last_day:
            longest[supply.drug.id] = supply
    return sorted(longest.values(), key=lambda supply: (supply.last_day, supply.drug.id))
