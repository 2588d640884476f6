"""How many rows of each kind a scale asks for, the bench accounts and the shared clock."""

import os
import time
from dataclasses import dataclass

MIN_SCALE = 0.0  # exclusive: a scale must be above it
MAX_SCALE = 50.0
DEFAULT_PASSWORD = "Bench-Hospital-2026"  # noqa: S105  (invented bench accounts only; see bench/load.py)
PASSWORD_ENV = "BENCH_PASSWORD"  # noqa: S105  (the variable's name, not a secret)
BENCH_ROLES = ("patient", "doctor", "pharmacist", "admin", "courier")
# Dates spread over this many days before the run.
HISTORY_DAYS = 730
# Work still open (queues, unpaid bookings) happened in the last few days.
RECENT_DAYS = 3
DAY = 86_400

# The random seed `flask bench seed` uses unless told otherwise: the same scale gives the same rows.
DEFAULT_SEED = 20_261_130


def bench_email(role: str) -> str:
    return f"bench-{role}@bench.example"


def bench_password() -> str:
    return os.environ.get(PASSWORD_ENV) or DEFAULT_PASSWORD


class ScaleError(ValueError):
    """A scale outside (MIN_SCALE, MAX_SCALE]."""


@dataclass(frozen=True)
class Volumes:
    scale: float
    patients: int
    doctors: int
    stores: int
    drugs: int
    consultations: int
    prescriptions: int
    sms: int
    audit_per_patient: int = 10
    lots_per_drug: int = 3
    pharmacists_per_store: int = 2
    couriers_per_store: int = 1
    admins: int = 2

    @classmethod
    def at(cls, scale: float) -> "Volumes":
        if not (MIN_SCALE < scale <= MAX_SCALE):
            raise ScaleError(f"--scale must be above {MIN_SCALE:g} and at most {MAX_SCALE:g} "
                             f"(got {scale:g}).")

        def count(per_unit: float, least: int = 1) -> int:
            return max(least, round(per_unit * scale))

        return cls(scale=scale, patients=count(10_000), doctors=count(25), stores=min(40, count(2, least=2)),
                   drugs=min(2_000, count(100)), consultations=count(25_000), prescriptions=count(50_000),
                   sms=count(250_000))

    @property
    def pharmacists(self) -> int:
        return self.stores * self.pharmacists_per_store

    @property
    def couriers(self) -> int:
        return self.stores * self.couriers_per_store

    @property
    def audit_events(self) -> int:
        return self.patients * self.audit_per_patient


class Clock:
    """One 'now' for the whole run, as epoch seconds, and random moments before it."""

    def __init__(self, rng, now: float | None = None):
        self.rng = rng
        self.now = int(now if now is not None else time.time())
        self.start = self.now - HISTORY_DAYS * DAY

    def past(self) -> int:
        """A whole second in the history window (signatures cover whole seconds)."""
        return self.rng.randint(self.start, self.now - RECENT_DAYS * DAY)

    def recent(self, seconds: int = RECENT_DAYS * DAY) -> int:
        return self.rng.randint(self.now - seconds, self.now - 60)
