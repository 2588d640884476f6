"""Prescriptions in every status with their items, signed ones frozen with the hash the app computes,
and chains of versions where a newer signed version superseded an older one."""

import hashlib
import json
import math
import time
from datetime import date, timedelta
from decimal import Decimal

from app.benchdata import reviews
from app.benchdata.world import World
from app.benchdata.writer import Batch, moment
from app.drugs.models import format_decimal

# The status a chain of versions ends in; every earlier version of a chain is superseded.
# A chain's review queue is drained within hours: about one prescription in a thousand is still waiting
# for a pharmacist (1,000 at scale 20), and fewer sit signed or in draft.
TAIL_WEIGHTS = {"approved": 45, "returned": 8, "cancelled": 6, "draft": 0.1, "awaiting_review": 0.05,
                "signed": 0.005}
CHAIN_LENGTHS, CHAIN_WEIGHTS = (1, 2, 3), (88, 10, 2)
UNSIGNED = frozenset({"draft", "cancelled"})
# Open work is written on consultations accepted in the last few days.
OPEN = frozenset({"awaiting_review", "signed", "draft"})
CATEGORY_WEIGHTS = {"normal": 70, "chronic": 25, "long": 5}
DURATIONS = {"normal": (3, 5, 7), "chronic": (14, 28), "long": (56, 84)}
FREQUENCIES = {"QD": (1, "08:00"), "BID": (2, "08:00,20:00"), "TID": (3, "08:00,14:00,20:00")}
INSTRUCTIONS = ("Take after meals.", "Take with a glass of water.", "Do not crush or chew.", "")
WHOLE_UNITS = frozenset({"tablet", "capsule", "patch", "dose"})
SUBSTANCE_UNITS = frozenset({"mg", "µg", "g", "IU"})
# Shanghai keeps no daylight saving: the prescribing day is the UTC moment shifted by eight hours.
PRESCRIBING_OFFSET = 8 * 3_600
BATCH = 5_000
EPOCH_DAY = date(1970, 1, 1)


def _stamp(epoch: int | None) -> str | None:
    """As app.prescribing.signature._stamp, from epoch seconds."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch)) if epoch is not None else None


def content_hash(head: dict, items: list[tuple]) -> str:
    """The SHA-256 app.prescribing.signature.content_hash computes, from the rows before they are written
    (tests compare the two on generated prescriptions)."""
    content = {
        "prescription": {"consultation_id": head["consultation_id"], "version": head["version"],
                         "previous_version_id": head["previous_version_id"]},
        "patient": {"id": head["patient_id"]},
        "doctor": {"id": head["doctor_id"], "signed_by": head["doctor_id"]},
        "condition": {"id": head["condition_id"], "icd10_code": head["icd"].code,
                      "name": head["icd"].name_en},
        "supply": {"category": head["category"], "chronic_reason": head["chronic_reason"],
                   "long_assessment": head["long_assessment"]},
        "times": {"signed_at": _stamp(head["signed_at"]),
                  "patient_confirmed_long_at": _stamp(head["confirmed"])},
        "items": [{"position": i[2], "drug_id": i[3], "drug_code": code, "dose": format_decimal(i[4]),
                   "dose_unit": i[5], "route": i[6], "frequency": i[7], "max_doses_per_day": i[8],
                   "times_of_day": i[9], "duration_days": i[10], "instructions": i[11],
                   "quantity_packs": i[12], "days_supply": i[13]} for i, code in items],
    }
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _dose(drug) -> tuple[Decimal, str, Decimal]:
    """(dose, unit, fraction of a pack unit one dose uses) for a plain sig of the drug."""
    if drug.pack_unit in WHOLE_UNITS:
        return Decimal(1), drug.pack_unit, Decimal(1)
    if drug.strength_unit in SUBSTANCE_UNITS:
        return drug.strength, drug.strength_unit, Decimal(1)
    if drug.strength_unit == "µg/h":
        return Decimal(1), "patch", Decimal(1)
    return Decimal(5), "mL", Decimal(5)


def _item(world: World, item_id: int, prescription_id: int, position: int, drug, category: str) -> tuple:
    rng = world.rng
    dose, unit, units_per_dose = _dose(drug)
    days = rng.choice(DURATIONS[category])
    prn = None
    if drug.is_weekly_only:
        frequency, per_day, times = "QW", Decimal(1) / 7, "08:00"
    elif rng.random() < 0.05:
        frequency, per_day, times, prn = "PRN", Decimal(3), "", 3
    else:
        frequency = rng.choice(("QD", "QD", "BID", "TID"))
        per_day, times = Decimal(FREQUENCIES[frequency][0]), FREQUENCIES[frequency][1]
    needed = per_day * days * units_per_dose
    packs = max(1, min(1_000, math.ceil(needed / drug.pack_size)))
    return (item_id, prescription_id, position, drug.id, dose, unit, drug.route, frequency, prn, times, days,
            rng.choice(INSTRUCTIONS), packs, days)


def write_prescriptions(world: World) -> None:
    rng, volumes = world.rng, world.volumes
    context = reviews.Context(world)
    batch = Batch()
    # The bench patient's history: a superseded chain, two approved, one returned, one in the queue.
    completed, in_progress = 0, 1  # their consultations were the first to reach a doctor
    for index, statuses in ((completed, ("superseded", "approved")), (completed, ("approved",)),
                            (completed, ("returned",)), (in_progress, ("awaiting_review",))):
        _chain(world, context, batch, index, statuses)
    world.writer.flush(batch)
    tails, weights = list(TAIL_WEIGHTS), list(TAIL_WEIGHTS.values())
    seen, recent = len(world.seen_id), len(world.seen_recent)
    unseen = list(range(len(tails)))
    made = 0  # the bench patient's are extra, as the bench doctor's queue is
    while made < volumes.prescriptions:
        batch, in_batch = Batch(), 0
        while in_batch < BATCH and made < volumes.prescriptions:
            # Every tail status at least once (the bench chain has a superseded one), the rest by weight.
            tail = tails[unseen.pop()] if unseen else rng.choices(tails, weights)[0]
            length = 1 if tail in UNSIGNED else rng.choices(CHAIN_LENGTHS, CHAIN_WEIGHTS)[0]
            length = min(length, volumes.prescriptions - made)
            index = (world.seen_recent[rng.randrange(recent)] if tail in OPEN and recent
                     else rng.randrange(seen))
            written = _chain(world, context, batch, index, ("superseded",) * (length - 1) + (tail,))
            made, in_batch = made + written, in_batch + written
        world.writer.flush(batch)


def _chain(world: World, context, batch: Batch, index: int, statuses) -> int:
    """Versions 1…n of one prescription on consultation `index` of the seen_* arrays."""
    rng, now = world.rng, world.clock.now
    consultation_id, doctor = world.seen_id[index], world.seen_doctor[index]
    patient_id = world.patient_id(world.seen_patient[index])
    condition_id = world.seen_condition[index]
    at = world.seen_accepted[index] + rng.randint(300, 3_600)
    category = rng.choices(list(CATEGORY_WEIGHTS), list(CATEGORY_WEIGHTS.values()))[0]
    previous = None
    for version, status in enumerate(statuses, start=1):
        prescription_id = world.writer.ids("prescriptions", 1)
        created = min(at, now - 120)
        signed = status not in UNSIGNED
        signed_at = min(created + rng.randint(60, 900), now - 60) if signed else None
        head = dict(consultation_id=consultation_id, version=version, previous_version_id=previous,
                    patient_id=patient_id, doctor_id=doctor, condition_id=condition_id,
                    icd=world.icd_of(condition_id), category=category,
                    chronic_reason=("Stable chronic condition on the same regimen." if category == "chronic"
                                    else None),
                    long_assessment=("Stable for over a year; reviewed every 12 weeks." if category == "long"
                                     else None),
                    signed_at=signed_at,
                    confirmed=created + 60 if category == "long" and signed else None)
        items = _items(world, batch, prescription_id, category)
        digest = content_hash(head, items) if signed else None
        valid_until = (EPOCH_DAY + timedelta(days=(signed_at + PRESCRIBING_OFFSET) // 86_400)
                       if signed else None)
        batch.add("prescriptions", (
            prescription_id, consultation_id, patient_id, doctor, condition_id, status, category,
            head["chronic_reason"], head["long_assessment"], moment(head["confirmed"]), version, previous,
            moment(created), moment(signed_at), doctor if signed else None, digest, valid_until))
        for row, _code in items:
            batch.add("prescription_items", row)
        decided = reviews.write(context, batch, prescription_id, status, signed_at, items) if signed else None
        at = (decided or signed_at or created) + rng.randint(600, 4 * 3_600)
        previous = prescription_id
    return len(statuses)


def _items(world: World, batch: Batch, prescription_id: int, category: str) -> list[tuple]:
    """1–3 lines of different drugs: (row, drug code) pairs."""
    rng = world.rng
    pool = world.long_drugs if category == "long" else world.drugs
    drugs = rng.sample(pool, rng.choice((1, 1, 2, 3)))
    first = world.writer.ids("prescription_items", len(drugs))
    return [(_item(world, first + n, prescription_id, n + 1, drug, category), drug.code)
            for n, drug in enumerate(drugs)]
