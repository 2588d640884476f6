"""Benchmark: chain-wide availability of a 5-item prescription on PostgreSQL: 40 stores × 2,000 drugs × 3
lots.

Run with `.venv/bin/python bench/availability.py [N] [--server URL] [--keep]`. It creates its own database
(`bench_availability` on the server, by default postgresql://postgres@127.0.0.1:5432), builds the schema with
the migrations, fills it with invented data by COPY (40 stores in 8 cities, 2,000 synthetic drugs of which
every tenth is cold-chain, 3 lots of each drug in each store: 240,000 lots and their receipt rows), then
times `stores_that_can_fill` N times (default 500) for random 5-item prescriptions, for pickup and for
delivery, each call in a fresh session as in a request. Prints median and 95th percentile; drops the
database at the end unless --keep. Not a test: the machines are shared and noisy, so the figures go in
the README instead.
"""

import argparse
import os
import random
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa

from app import create_app
from app.extensions import db
from app.inventory import services
from app.inventory.availability import StoreDates, stock_by_store
from app.inventory.models import Store, StoreServiceCity
from app.schema import upgrade
from config import normalise_database_url

ROOT = Path(__file__).resolve().parent.parent
STORES, DRUGS, LOTS = 40, 2_000, 3
CITIES = [  # (city, latitude, longitude) of the city centre; stores and patients scatter around it
    ("Shanghai", 31.2304, 121.4737), ("Beijing", 39.9042, 116.4074), ("Guangzhou", 23.1291, 113.2644),
    ("Shenzhen", 22.5431, 114.0579), ("Hangzhou", 30.2741, 120.1551), ("Chengdu", 30.5728, 104.0668),
    ("Wuhan", 30.5928, 114.3055), ("Nanjing", 32.0603, 118.7969),
]
SEED = 20261127
STOCKED = 0.6  # the share of lots with packs on hand


def create_database(server: str, name: str) -> str:
    admin = sa.create_engine(normalise_database_url(server), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = sa.make_url(normalise_database_url(server)).set(database=name)
    return url.render_as_string(hide_password=False)


def drop_database(server: str, name: str) -> None:
    admin = sa.create_engine(normalise_database_url(server), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def copy_rows(cursor, table: str, columns: tuple[str, ...], rows) -> None:
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def fill(rng: random.Random) -> None:
    """Stores through the ORM (40 rows); drugs, lots and their receipt rows by COPY."""
    stores = []
    for n in range(STORES):
        city, lat, lng = CITIES[n % len(CITIES)]
        store = Store(code=f"B{n:03d}", name_en=f"Bench store {n}", name_zh=f"测试门店{n}", city=city,
                      address=f"{n} Bench Road", latitude=round(lat + rng.uniform(-0.15, 0.15), 6),
                      longitude=round(lng + rng.uniform(-0.15, 0.15), 6), is_cold_chain_capable=n % 4 != 3,
                      delivery_radius_km=rng.choice([None, 10, 20]),
                      service_cities=[StoreServiceCity(city=city)])
        stores.append(store)
    db.session.add_all(stores)
    db.session.commit()

    now = datetime.now(UTC)
    today = now.date()
    connection = db.engine.raw_connection()
    try:
        cursor = connection.driver_connection.cursor()
        copy_rows(cursor, "drugs", (
            "code", "generic_name_en", "generic_name_zh", "brand_name", "atc_code", "strength",
            "strength_unit", "dosage_form", "route", "pack_size", "pack_unit", "price_fen", "is_cold_chain",
            "controlled_class", "is_online_prescribable", "is_deliverable", "is_antimicrobial",
            "is_weekly_only", "is_active", "notes", "created_at", "updated_at"),
            ((f"BENCH-{n:04d}", f"Benchdrug {n}", f"测试药{n}", "", None, 10, "mg", "tablet", "oral", 28,
              "tablet", 1000 + n, n % 10 == 0, "none", True, True, False, False, True,
              "synthetic benchmark drug", now, now)
             for n in range(DRUGS)))
        cursor.execute("SELECT id, is_cold_chain FROM drugs WHERE code LIKE 'BENCH-%' ORDER BY id")
        drugs = cursor.fetchall()
        # One expiry per drug and lot number, the same in every store; about 1 % of first lots expired.
        expiries = {(drug_id, k): today + timedelta(days=rng.randint(*((20, 120), (150, 400), (400, 900))[k]))
                    for drug_id, _ in drugs for k in range(LOTS)}
        for drug_id, _ in drugs:
            if rng.random() < 0.01:
                expiries[(drug_id, 0)] = today - timedelta(days=5)
        store_rows = [(store.id, store.is_cold_chain_capable) for store in stores]
        lots = []
        for store_id, cold_ok in store_rows:
            for drug_id, cold in drugs:
                for k in range(LOTS):
                    expiry: date = expiries[(drug_id, k)]
                    # Sparse, so that some stores can fill a prescription and others need a transfer.
                    stocked = not (cold and not cold_ok) and rng.random() < STOCKED
                    on_hand = rng.randint(1, 8) if stocked else 0
                    reserved = rng.randint(0, on_hand) if rng.random() < 0.1 else 0
                    status = ("expired" if expiry < today else
                              "quarantined" if rng.random() < 0.01 else "available")
                    lots.append((store_id, drug_id, f"L{drug_id}-{k}", expiry, on_hand, reserved, 900, status,
                                 now, now))
        copy_rows(cursor, "stock_lots", ("store_id", "drug_id", "lot_number", "expiry_date",
                                         "quantity_on_hand", "quantity_reserved", "unit_cost_fen", "status",
                                         "received_at", "updated_at"), lots)
        # The ledger agrees with the lots (`flask inventory verify` passes on a --keep database).
        cursor.execute("""
            INSERT INTO stock_movements (lot_id, kind, quantity, reserved_change, note, created_at)
            SELECT id, 'receipt', quantity_on_hand, 0, 'bench', received_at
            FROM stock_lots WHERE quantity_on_hand > 0
        """)
        cursor.execute("""
            INSERT INTO stock_movements (lot_id, kind, quantity, reserved_change, note, reference_type,
                                         reference_id, created_at)
            SELECT id, 'reservation', 0, quantity_reserved, 'bench', 'order', id, received_at
            FROM stock_lots WHERE quantity_reserved > 0
        """)
        cursor.execute("ANALYZE")
        connection.commit()
    finally:
        connection.close()


def timed(rng: random.Random, drug_ids: list[int], repeat: int, delivery: bool) -> tuple[list, int, int]:
    samples, can, after = [], 0, 0
    for _ in range(repeat + 10):  # the first 10 warm the connection pool and the caches, not counted
        items = {drug_id: rng.randint(1, 3) for drug_id in rng.sample(drug_ids, 5)}
        city, lat, lng = rng.choice(CITIES)
        lat, lng = lat + rng.uniform(-0.1, 0.1), lng + rng.uniform(-0.1, 0.1)
        start = time.perf_counter()
        found = services.stores_that_can_fill(items, 30, delivery_city=city if delivery else None,
                                              patient_lat=lat, patient_lng=lng)
        samples.append((time.perf_counter() - start) * 1000)
        can, after = can + len(found.now), after + len(found.after_transfer)
        db.session.remove()  # a fresh session per call, as per request
    return samples[10:], can, after


def query_only(rng: random.Random, drug_ids: list[int], repeat: int) -> list[float]:
    """The one query over the lots (grouped by store and drug), without the rest of the call."""
    stores = db.session.scalars(sa.select(Store).where(Store.is_active)).all()
    samples = []
    for _ in range(repeat + 10):
        chosen = rng.sample(drug_ids, 5)
        start = time.perf_counter()
        stock_by_store(chosen, StoreDates(stores), 30, 33)
        samples.append((time.perf_counter() - start) * 1000)
    db.session.remove()
    return sorted(samples[10:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("repeat", nargs="?", type=int, default=500)
    parser.add_argument("--server", default=os.environ.get("BENCH_DATABASE_URL",
                                                           "postgresql://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--name", default="bench_availability")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()

    url = create_database(args.server, args.name)
    try:
        app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": url})
        with app.app_context():
            upgrade(directory=str(ROOT / "migrations"))
            start = time.perf_counter()
            fill(random.Random(SEED))
            counts = db.session.execute(sa.text(
                "SELECT (SELECT count(*) FROM stores), (SELECT count(*) FROM drugs), "
                "(SELECT count(*) FROM stock_lots)")).one()
            print(f"filled {counts[0]} stores, {counts[1]} drugs, {counts[2]} lots "
                  f"in {time.perf_counter() - start:.1f} s")
            drug_ids = list(db.session.scalars(sa.text("SELECT id FROM drugs ORDER BY id")))
            db.session.remove()
            rng = random.Random(SEED + 1)
            print(f"{'5-item prescription, 30 days':<40} {'median ms':>10} {'p95 ms':>8}   "
                  f"({args.repeat} calls)")
            for label, delivery in (("pickup, nearest first", False),
                                    ("delivery to the patient's city", True)):
                samples, can, after = timed(rng, drug_ids, args.repeat, delivery)
                samples.sort()
                median, p95 = statistics.median(samples), samples[int(len(samples) * 0.95) - 1]
                print(f"{label:<40} {median:>10.2f} {p95:>8.2f}   "
                      f"(stores per call: {can / (args.repeat + 10):.1f} now, "
                      f"{after / (args.repeat + 10):.1f} after a transfer)")
            samples = query_only(rng, drug_ids, args.repeat)
            print(f"{'  of which the grouped lots query':<40} {statistics.median(samples):>10.2f} "
                  f"{samples[int(len(samples) * 0.95) - 1]:>8.2f}")
            db.engine.dispose()
    finally:
        if args.keep:
            print(f"kept database {args.name}")
        else:
            drop_database(args.server, args.name)


if __name__ == "__main__":
    main()
