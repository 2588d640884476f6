"""OMOP CDM v5.4 DRUG_EXPOSURE rows of the dispenses handed over since a date, written as CSV."""

import csv
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select

from app.extensions import db
from app.orders.models import Order
from app.platform import facts, fhir
from app.platform.models import ResearchToken
from app.platform.tokens import PATIENT

CHUNK = 500  # orders loaded at once: memory stays flat however long the period is

COLUMNS = (
    "drug_exposure_id", "person_id", "drug_concept_id", "drug_exposure_start_date",
    "drug_exposure_start_datetime", "drug_exposure_end_date", "drug_exposure_end_datetime",
    "verbatim_end_date", "drug_type_concept_id", "stop_reason", "refills", "quantity", "days_supply",
    "sig", "route_concept_id", "lot_number", "provider_id", "visit_occurrence_id", "visit_detail_id",
    "drug_source_value", "drug_source_concept_id", "route_source_value", "dose_unit_source_value",
)
EHR_DISPENSING_RECORD = 32825  # drug_type_concept_id: "EHR dispensing record"
NO_MATCHING_CONCEPT = 0  # the app keeps no mapping from its drug codes to OMOP standard concepts
ROUTE_CONCEPTS = {  # OMOP standard route concepts (SNOMED-derived, domain Route)
    "oral": 4132161, "sublingual": 4292110, "subcutaneous": 4142048, "intramuscular": 4302612,
    "intravenous": 4171047, "inhalation": 4120036, "transdermal": 4262099, "topical": 4263689,
}


def handed_over_ids(since: datetime) -> Iterator[list[int]]:
    """Ids of the orders handed over on or after `since` (the backfill's selection), CHUNK at a time.

    Keyset pages rather than one list of ids, so a year of orders is never held at once.
    """
    last = 0
    while True:
        ids = db.session.scalars(select(Order.id).where(
            facts.handed_over_since(since), Order.id > last)
            .order_by(Order.id).limit(CHUNK)).all()
        if not ids:
            return
        yield list(ids)
        last = ids[-1]


def person_ids(patient_ids) -> dict[int, int]:
    """{patient id: OMOP person_id}, the row id of each patient's research token (already made)."""
    ordered = sorted(set(patient_ids))
    found: dict[int, int] = {}
    for start in range(0, len(ordered), 1000):  # bound the IN list
        found.update(db.session.execute(select(ResearchToken.subject_id, ResearchToken.id).where(
            ResearchToken.subject_type == PATIENT,
            ResearchToken.subject_id.in_(ordered[start:start + 1000]))).all())
    return found


def main_lot(product: fhir.Product) -> str:
    """The lot most units came from (the later expiry on a tie), as the Medication resource names it."""
    if not product.lots:
        return ""
    return max(product.lots, key=lambda lot: (lot.units, lot.expiry)).number


def row(number: int, person_id: int, dispense: fhir.DispenseFacts, zone: ZoneInfo) -> list:
    """One DRUG_EXPOSURE row, placed field by field from de-identified facts (an allow-list)."""
    moment = dispense.handed_over_at.astimezone(UTC)
    start = moment.astimezone(zone).date()
    # OMOP needs end >= start: a supply of d days covers the start day and the d - 1 after it.
    end = start + timedelta(days=max(dispense.days_supply, 1) - 1)
    sig = dispense.sig
    product = dispense.product
    return [
        number, person_id, NO_MATCHING_CONCEPT, start.isoformat(),
        moment.isoformat(timespec="seconds"), end.isoformat(), "",
        "", EHR_DISPENSING_RECORD, "", "", dispense.units, dispense.days_supply,
        sig.text, ROUTE_CONCEPTS.get(sig.route, NO_MATCHING_CONCEPT), main_lot(product),
        # Staff are known to the platform only by tokens; OMOP provider ids are integers we do not export.
        "", "", "",
        product.atc_code or product.code, NO_MATCHING_CONCEPT, sig.route, sig.dose_unit,
    ]


def write_drug_exposure(since: datetime, output) -> int:
    """Write the header and one row per dispensed line of the orders handed over since `since`, for
    patients with a current data-sharing consent; returns the number of rows. The caller commits
    (research tokens are made for patients exported the first time)."""
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    writer = csv.writer(output, lineterminator="\n")
    writer.writerow(COLUMNS)
    written = 0
    for ids in handed_over_ids(since):
        orders = facts.load_orders(ids)
        patient_of = {order.id: order.patient_id for order in orders}
        lines = facts.dispense_lines(orders, facts.dispenses_of(ids), status="completed")
        people = person_ids(patient_of[line.order_id] for line, _dispense in lines)
        for line, dispense in lines:
            written += 1
            writer.writerow(row(written, people[patient_of[line.order_id]], dispense, zone))
    return written
