"""The rows bench/platform_push.py backfills, written in bulk: sharing patients, and per order a
consultation, a signed and approved prescription, a completed order of two lines and its dispense,
pack by pack."""

import math
import random
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa

from app.benchdata import catalogue, people
from app.benchdata.prescriptions import content_hash
from app.benchdata.volumes import Clock, Volumes
from app.benchdata.world import World
from app.benchdata.writer import Batch, BulkWriter
from app.extensions import db
from app.orders.dispensing import CHECKLIST
from app.patients.services import CONSENT_VERSIONS
from bench.availability import copy_rows

SEED = 20261205
LINES_PER_ORDER = 2
ORDERS_PER_PATIENT = 2
STORES = 10
LINKING_SHARE = 0.3  # patients who also agreed to record linkage
SPLIT_SHARE = 0.15  # lines of two packs or more whose packs came from two lots
WHOLE_UNITS = frozenset({"tablet", "capsule", "dose", "patch"})
SUBSTANCE_UNITS = frozenset({"mg", "µg", "IU"})
# (frequency, doses a day, times of day, weight); PRN carries its daily maximum instead of times.
FREQUENCIES = (("QD", 1, "08:00", 45), ("BID", 2, "08:00,20:00", 25), ("TID", 3, "08:00,14:00,20:00", 10),
               ("QN", 1, "21:00", 10), ("Q12H", 2, "", 5), ("PRN", 3, "", 5))
DAYS = (7, 14, 28, 28, 30)
CHECKS = ",".join(code for code, _label in CHECKLIST)
NO_LOGIN = "!bench-platform"  # not a hash: no password matches it; nobody logs in
ORDER_COLUMNS = ("id", "prescription_id", "patient_id", "store_id", "fulfilment", "address_id",
                 "delivery_address", "status", "goods_fen", "delivery_fee_fen", "total_fen", "currency",
                 "code_attempts", "placed_at", "paid_at", "dispensed_at", "handed_over_at", "completed_at",
                 "close_reason")
LINE_COLUMNS = ("id", "order_id", "position", "prescription_item_id", "drug_id", "packs", "days_supply",
                "unit_price_fen")
DISPENSE_COLUMNS = ("id", "order_id", "store_id", "patient_id", "pharmacist_id", "dispensed_at", "checklist")
PACK_COLUMNS = ("id", "dispense_id", "order_line_id", "drug_id", "lot_id", "traceability_code", "returned_to")


def seed(lines: int, now: datetime, window: timedelta) -> tuple[int, int]:
    """Everything a dispense event is built from, handed over in the `window` before `now` (at least an hour
    ago); returns (patients, orders). The caller commits."""
    rng = random.Random(SEED)
    orders = math.ceil(lines / LINES_PER_ORDER)
    patients = math.ceil(orders / ORDERS_PER_PATIENT)
    volumes = Volumes(scale=0, patients=patients, doctors=40, stores=STORES, drugs=0, consultations=0,
                      prescriptions=0, sms=0, admins=1)
    connection = db.session.connection()
    world = World(rng=rng, clock=Clock(rng, now.timestamp()), writer=BulkWriter(connection), volumes=volumes,
                  password_hash=NO_LOGIN)
    drugs = [d for d in catalogue.write_drugs(world) if d.prescribable and not d.is_weekly_only
             and (d.pack_unit in WHOLE_UNITS or d.strength_unit in SUBSTANCE_UNITS)]
    db.session.flush()
    world.writer.start()
    people.write_stores(world)
    people.write_staff(world)
    people.write_patients(world)  # each with a profile, an address and a data-sharing consent
    _linkage_consents(world)
    catalogue.write_stock(world, drugs)
    lots = _lots(connection)
    for start in range(0, orders, 5_000):
        _orders(world, connection, drugs, lots, range(start, min(start + 5_000, orders)), now, window)
    world.writer.finish()
    return patients, orders


def _linkage_consents(world: World) -> None:
    """A share of the patients also agreed that the platform may link their records."""
    chosen = [n for n in range(world.volumes.patients) if world.rng.random() < LINKING_SHARE]
    first, batch = world.writer.ids("consents", len(chosen)), Batch()
    granted = datetime.fromtimestamp(world.clock.start, UTC)
    for k, n in enumerate(chosen):
        batch.add("consents", (first + k, world.patient_id(n), "record_linkage",
                               CONSENT_VERSIONS["record_linkage"], granted, None, "10.0.0.1"))
    world.writer.flush(batch)


def _lots(connection) -> dict[tuple[int, int], list[int]]:
    """{(store, drug): ids of the lots a pharmacist could dispense from}."""
    found: dict[tuple[int, int], list[int]] = defaultdict(list)
    for lot_id, store_id, drug_id in connection.execute(sa.text(
            "SELECT id, store_id, drug_id FROM stock_lots WHERE status = 'available' ORDER BY id")):
        found[(store_id, drug_id)].append(lot_id)
    return found


def _sig(rng, drug) -> tuple:
    """(dose, unit, frequency, max a day, times, doses a day) of one prescription item."""
    frequency, per_day, times, _weight = rng.choices(FREQUENCIES, weights=[f[3] for f in FREQUENCIES])[0]
    if drug.pack_unit in WHOLE_UNITS:
        dose, unit = rng.choice((Decimal(1), Decimal(1), Decimal(2))), drug.pack_unit
    else:
        dose, unit = drug.strength, drug.strength_unit
    return dose, unit, frequency, 3 if frequency == "PRN" else None, times, per_day


def _packs(rng, drug, dose, per_day: int, days: int) -> int:
    if drug.pack_unit in WHOLE_UNITS:
        return max(1, min(6, math.ceil(dose * per_day * days / drug.pack_size)))
    return rng.randint(1, 3)


def _orders(world: World, connection, drugs, lots, numbers: range, now: datetime, window: timedelta) -> None:
    """For each order: consultation → signed, approved prescription → completed order → dispense."""
    rng, writer, batch = world.rng, world.writer, Batch()
    count = len(numbers)
    consultation_id = writer.ids("consultations", count)
    prescription_id = writer.ids("prescriptions", count)
    item_id = writer.ids("prescription_items", count * LINES_PER_ORDER)
    order_id = writer.ids("orders", count)
    line_id = writer.ids("order_lines", count * LINES_PER_ORDER)
    dispense_id = writer.ids("dispenses", count)
    orders, order_lines, dispenses, packs = [], [], [], []
    for number in numbers:
        patient_number = number % world.volumes.patients
        patient, doctor = world.patient_id(patient_number), world.doctors[number % len(world.doctors)]
        store_number = patient_number % len(world.stores)
        store = world.stores[store_number]
        pharmacist = world.pharmacists[store_number + len(world.stores) * (number % 2)]  # both work there
        condition = world.condition_first[patient_number]
        handed_over = now - timedelta(seconds=rng.randint(3_600, max(3_600, int(window.total_seconds()))))
        prepared = handed_over - timedelta(minutes=rng.randint(10, 600))
        signed = prepared - timedelta(hours=rng.randint(2, 30))
        batch.add("consultations", (
            consultation_id, patient, doctor, condition, "Running out of my regular medicine.", "completed",
            world.doctor_fee[doctor], "CNY", signed - timedelta(hours=2), signed - timedelta(hours=2),
            signed + timedelta(hours=22), signed - timedelta(hours=1), signed - timedelta(minutes=10), None,
            "Follow-up.", "Stable.", "Stable.", "Continue treatment.", None, None, None))
        items, goods = [], 0
        for position, drug in enumerate(rng.sample(drugs, LINES_PER_ORDER), start=1):
            dose, unit, frequency, most, times, per_day = _sig(rng, drug)
            supply = rng.choice(DAYS)
            count_packs = _packs(rng, drug, dose, per_day, supply)
            row = (item_id, prescription_id, position, drug.id, dose, unit, drug.route, frequency, most,
                   times, supply, "Take after meals.", count_packs, supply)
            items.append((row, drug.code))
            goods += count_packs * drug.price_fen
            order_lines.append((line_id, order_id, position, item_id, drug.id, count_packs, supply,
                                drug.price_fen))
            choices = lots[(store, drug.id)]
            first_lot = rng.choice(choices)
            second_lot = rng.choice(choices) if count_packs > 1 and rng.random() < SPLIT_SHARE else first_lot
            for k in range(count_packs):
                packs.append([None, dispense_id, line_id, drug.id, first_lot if k % 2 == 0 else second_lot,
                              None, ""])
            item_id, line_id = item_id + 1, line_id + 1
        head = dict(consultation_id=consultation_id, version=1, previous_version_id=None, patient_id=patient,
                    doctor_id=doctor, condition_id=condition, icd=world.icd_of(condition), category="chronic",
                    chronic_reason="Long-term treatment.", long_assessment=None,
                    signed_at=int(signed.timestamp()), confirmed=None)
        batch.add("prescriptions", (
            prescription_id, consultation_id, patient, doctor, condition, "approved", "chronic",
            "Long-term treatment.", None, None, 1, None, signed - timedelta(minutes=5), signed, doctor,
            content_hash(head, items), (signed + timedelta(hours=8)).date() + timedelta(days=3)))
        for row, _code in items:
            batch.add("prescription_items", row)
        orders.append((order_id, prescription_id, patient, store, "pickup", None, "", "completed", goods, 0,
                       goods, "CNY", 0, signed + timedelta(minutes=10), signed + timedelta(minutes=11),
                       prepared, handed_over, handed_over, ""))
        dispenses.append((dispense_id, order_id, store, patient, pharmacist, prepared, CHECKS))
        consultation_id, prescription_id = consultation_id + 1, prescription_id + 1
        order_id, dispense_id = order_id + 1, dispense_id + 1
    pack_id = writer.ids("dispensed_packs", len(packs))
    for offset, pack in enumerate(packs):
        pack[0] = pack_id + offset
        pack[5] = f"8{pack[3]:05d}{pack[0]:014d}"  # 20 digits, unique while not freed
    writer.flush(batch)
    with connection.connection.driver_connection.cursor() as cursor:
        copy_rows(cursor, "orders", ORDER_COLUMNS, orders)
        copy_rows(cursor, "order_lines", LINE_COLUMNS, order_lines)
        copy_rows(cursor, "dispenses", DISPENSE_COLUMNS, dispenses)
        copy_rows(cursor, "dispensed_packs", PACK_COLUMNS, packs)
