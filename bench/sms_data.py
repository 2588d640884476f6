"""The rows bench/sms.py plans reminders for, written in bulk: patients through app.benchdata, and for
each one a completed consultation, an approved prescription, a completed order of two lines and a reminder
line for each."""

import math
import random
from datetime import datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa

from app.benchdata import catalogue, people
from app.benchdata.prescriptions import content_hash
from app.benchdata.volumes import Clock, Volumes
from app.benchdata.world import World
from app.benchdata.writer import Batch, BulkWriter
from app.extensions import db
from app.orders.models import Fulfilment, Order, OrderLine
from app.orders.states import OrderStatus
from app.reminders.models import ReminderLine

SEED = 20261204
LINES_PER_PATIENT = 2  # a QD and a BID medicine
FREQUENCIES = (("QD", 1, "08:00"), ("BID", 2, "08:00,20:00"))
SUPPLY_DAYS = (2, 3, 5)
NO_LOGIN = "!bench-sms"  # not a hash: no password matches it; nobody logs in


def seed(lines: int, now: datetime) -> int:
    """Patients with what a reminder line points at, and the lines; returns the number of patients."""
    rng = random.Random(SEED)
    patients = math.ceil(lines / LINES_PER_PATIENT)
    volumes = Volumes(scale=0, patients=patients, doctors=20, stores=1, drugs=0, consultations=0,
                      prescriptions=0, sms=0, admins=1)
    connection = db.session.connection()
    world = World(rng=rng, clock=Clock(rng, now.timestamp()), writer=BulkWriter(connection), volumes=volumes,
                  password_hash=NO_LOGIN)
    drugs = [d for d in catalogue.write_drugs(world)
             if d.prescribable and not d.is_weekly_only and d.pack_unit in ("tablet", "capsule")][:8]
    db.session.flush()
    world.writer.start()
    people.write_stores(world)
    people.write_staff(world)
    people.write_patients(world)
    for start in range(0, patients, 5_000):
        _dispensed(world, connection, drugs, range(start, min(start + 5_000, patients)), now)
    world.writer.finish()
    return patients


def _dispensed(world: World, connection, drugs, numbers: range, now: datetime) -> None:
    """For each patient: a completed consultation, an approved prescription of two items, a completed
    pickup order of two lines, and a reminder line for each, handed over 1–20 hours before `now`."""
    rng, writer, batch = world.rng, world.writer, Batch()
    count = len(numbers)
    consultation_id = writer.ids("consultations", count)
    prescription_id = writer.ids("prescriptions", count)
    item_id = writer.ids("prescription_items", count * LINES_PER_PATIENT)
    order_id = writer.ids("orders", count)
    line_id = writer.ids("order_lines", count * LINES_PER_PATIENT)
    reminder_id = writer.ids("reminder_lines", count * LINES_PER_PATIENT)
    orders, order_lines, reminder_lines = [], [], []
    for number in numbers:
        patient, doctor = world.patient_id(number), world.doctors[number % len(world.doctors)]
        condition = world.condition_first[number]
        handed_over = now - timedelta(minutes=rng.randint(60, 20 * 60))
        signed = handed_over - timedelta(hours=3)
        batch.add("consultations", (
            consultation_id, patient, doctor, condition, "Running out of my regular medicine.", "completed",
            world.doctor_fee[doctor], "CNY", signed - timedelta(hours=2), signed - timedelta(hours=2),
            signed + timedelta(hours=22), signed - timedelta(hours=1), signed - timedelta(minutes=10), None,
            "Follow-up.", "Stable.", "Stable.", "Continue treatment.", None, None, None))
        items, goods = [], 0
        for position, (drug, (frequency, per_day, times)) in enumerate(
                zip(rng.sample(drugs, LINES_PER_PATIENT), FREQUENCIES, strict=True), start=1):
            days = rng.choice(SUPPLY_DAYS)
            packs = max(1, math.ceil(per_day * days / drug.pack_size))
            row = (item_id, prescription_id, position, drug.id, Decimal(1), drug.pack_unit, drug.route,
                   frequency, None, times, days, "Take after meals.", packs, days)
            items.append((row, drug.code))
            goods += packs * drug.price_fen
            order_lines.append(dict(id=line_id, order_id=order_id, position=position,
                                    prescription_item_id=item_id, drug_id=drug.id, packs=packs,
                                    days_supply=days, unit_price_fen=drug.price_fen))
            reminder_lines.append(dict(id=reminder_id, patient_id=patient, order_line_id=line_id,
                                       drug_id=drug.id, frequency=frequency, doses_per_day=per_day,
                                       days_supply=days, starts_at=handed_over, enabled=True,
                                       created_at=handed_over))
            item_id, line_id, reminder_id = item_id + 1, line_id + 1, reminder_id + 1
        head = dict(consultation_id=consultation_id, version=1, previous_version_id=None, patient_id=patient,
                    doctor_id=doctor, condition_id=condition, icd=world.icd_of(condition), category="normal",
                    chronic_reason=None, long_assessment=None, signed_at=int(signed.timestamp()),
                    confirmed=None)
        batch.add("prescriptions", (
            prescription_id, consultation_id, patient, doctor, condition, "approved", "normal", None, None,
            None, 1, None, signed - timedelta(minutes=5), signed, doctor, content_hash(head, items),
            (signed + timedelta(hours=8)).date() + timedelta(days=3)))
        for row, _code in items:
            batch.add("prescription_items", row)
        orders.append(dict(
            id=order_id, prescription_id=prescription_id, patient_id=patient, store_id=world.stores[0],
            fulfilment=Fulfilment.PICKUP, address_id=None, delivery_address="", status=OrderStatus.COMPLETED,
            goods_fen=goods, delivery_fee_fen=0, total_fen=goods, currency="CNY", code_attempts=0,
            placed_at=signed + timedelta(minutes=10), paid_at=signed + timedelta(minutes=11),
            dispensed_at=handed_over - timedelta(hours=1), handed_over_at=handed_over,
            completed_at=handed_over, close_reason=""))
        consultation_id, prescription_id, order_id = consultation_id + 1, prescription_id + 1, order_id + 1
    writer.flush(batch)
    connection.execute(sa.insert(Order.__table__), orders)
    connection.execute(sa.insert(OrderLine.__table__), order_lines)
    connection.execute(sa.insert(ReminderLine.__table__), reminder_lines)
