"""The whole run: refuse a database that holds patients, then write every kind of row in FK order."""

import random
import time
from dataclasses import dataclass

import sqlalchemy as sa

from app.accounts.passwords import hash_password
from app.benchdata import catalogue, clinical, messages, people, prescriptions
from app.benchdata.volumes import BENCH_ROLES, DEFAULT_SEED, Clock, Volumes, bench_email, bench_password
from app.benchdata.world import World
from app.benchdata.writer import BulkWriter


class AlreadySeeded(RuntimeError):
    """The database already holds patients: bench rows are never mixed into it."""


@dataclass(frozen=True)
class Report:
    volumes: Volumes
    counts: dict[str, int]
    seconds: float
    logins: list[tuple[str, str]]
    password: str


def estimated_rows(volumes: Volumes, catalogue_size: int = 225) -> int:
    """Rows the run will write, near enough for a progress bar."""
    drugs = max(volumes.drugs, catalogue_size)
    return round(volumes.patients * 9.7 + drugs * 1.5 + volumes.stores * drugs * volumes.lots_per_drug * 2.15
                 + volumes.consultations * 3.5 + volumes.prescriptions * 4.0 + volumes.sms
                 + volumes.audit_events + volumes.doctors + volumes.stores * 5)


def refuse_if_seeded(connection: sa.Connection) -> None:
    if connection.execute(sa.text("SELECT 1 FROM users WHERE role = 'patient' LIMIT 1")).first():
        raise AlreadySeeded("This database already holds patients; bench data goes only into a freshly "
                            "migrated database (flask db upgrade on an empty one).")


def seed(session, scale: float, *, random_seed: int = DEFAULT_SEED, progress=None,
         now: float | None = None) -> Report:
    """Write the bench data for `scale` through the session's connection; the caller commits."""
    volumes = Volumes.at(scale)
    started = time.monotonic()
    refuse_if_seeded(session.connection())
    rng = random.Random(random_seed)  # noqa: S311  (invented data, repeatable on purpose)
    password = bench_password()
    # The catalogue goes through the app's own loader (ORM, in this session) before the bulk writes.
    world = World(rng=rng, clock=Clock(rng, now), writer=None, volumes=volumes,
                  password_hash=hash_password(password))
    world.writer = BulkWriter(session.connection(), progress)
    drugs = catalogue.write_drugs(world)
    session.flush()
    world.writer.start()
    world.drugs = [drug for drug in drugs if drug.prescribable]
    world.long_drugs = [drug for drug in world.drugs if not drug.is_antimicrobial and not drug.is_cold_chain]
    people.write_stores(world)
    people.write_staff(world)
    people.write_patients(world)
    catalogue.write_stock(world, drugs)
    clinical.write_consultations(world)
    prescriptions.write_prescriptions(world)
    messages.write_sms(world)
    messages.write_audit(world)
    world.writer.finish()
    counts = dict(world.writer.counts)
    counts["drugs"] = len(drugs)
    return Report(volumes=volumes, counts=counts, seconds=time.monotonic() - started,
                  logins=[(role, bench_email(role)) for role in BENCH_ROLES], password=password)
