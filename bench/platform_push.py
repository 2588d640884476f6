"""Benchmark: backfill 100,000 dispensed lines into the outbox and deliver them through `flask worker`
processes to the reference receiver, on PostgreSQL.

Run with `.venv/bin/python bench/platform_push.py [--dispenses 100000] [--workers 2] [--batch 100]
[--days D] [--store sqlite|postgresql] [--server URL] [--keep] [--profile DIR]`. It creates its own database
(`bench_platform` on the server, by default postgresql://postgres@127.0.0.1:5432), builds the schema with
the migrations and writes, in bulk (bench/platform_data.py), the rows a dispense event is built from:
patients with a profile, a province and a data-sharing consent (30 % also record linkage), stores, staff,
the shipped catalogue, stock lots, and per order a consultation, an approved prescription with structured
sigs, a completed pickup order of two lines and its dispense with one row per pack and lot. The orders were
handed over since the end of the last month whose adherence is summarised, so the backfill writes dispense
events only: one per line, N lines are N events. With --days D they spread over the last D days instead,
and fills in summarised months add monthly adherence summaries (another workload, counted apart).

Step 1, the backfill alone: `flask platform backfill --since DATE` as a subprocess, no worker running;
prints events written/s. The outbox and the research tokens are then emptied again.

Step 2, end to end: the receiver (`flask platform receive`, its own process, storing into a SQLite file, or
into the database `bench_platform_received` with --store postgresql) and W `flask worker` processes run idle;
the clock starts when the backfill is launched and stops when every outbox row is delivered and the
receiver has stored them all. Prints events written/s and delivered/s, the CPU of each process group
(backfill, workers, receiver, the PostgreSQL server) and checks that the receiver holds each outbox key
once.

--profile DIR runs the step-2 backfill and workers under cProfile and prints the time per event in each
step. Drops the databases at the end unless --keep. Not a test: the figures go in the README."""

import sys
from pathlib import Path

# Run as a script, this file's folder would come first on sys.path and the file itself would stand in
# for the standard library's `platform` module: the project's folder takes that place instead.
sys.path.pop(0)
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse
import os
import pstats
import re
import signal
import subprocess
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import requests
import sqlalchemy as sa
from flask import current_app

from app import create_app
from app.extensions import db
from app.platform.adherence_events import last_month
from app.schema import upgrade
from bench.availability import create_database, drop_database
from bench.platform_data import LINES_PER_ORDER, seed
from bench.sms import print_profile, vacuum

ROOT = Path(__file__).resolve().parent.parent
TICKS = os.sysconf("SC_CLK_TCK")
SECRET = "bench-platform-push-secret"  # noqa: S105  (the local receiver's, nothing else)
DISPENSED = "medication.dispensed"
# This server runs with autovacuum off. The outbox and the research tokens grow from empty during a run, and
# without fresh statistics PostgreSQL keeps plans made for empty tables (a sort of every due row before the
# claim's LIMIT, a scan of every token per lookup), so the watch loops run ANALYZE on autovacuum's rule
# (50 rows + 10 % of the table changed), checked every second (autovacuum's naptime is a minute).
ANALYZE_THRESHOLD, ANALYZE_SCALE = 50, 0.1


def flask(url: str, *args: str, profile: Path | None = None, **overrides) -> list[str]:
    """The command line of `flask …` on the bench database with these settings."""
    settings = {"SQLALCHEMY_DATABASE_URI": url, "PLATFORM_PUSH_SECRET": SECRET, **overrides}
    command = ["-m", "flask", "--app", f"app:create_app('testing', {settings!r})", *args]
    if profile:
        command = ["-m", "cProfile", "-o", str(profile), *command]
    return [sys.executable, *command]


def environment() -> dict[str, str]:
    return {key: value for key, value in os.environ.items() if key not in ("FLASK_APP", "TEST_DATABASE_URL")}


def start(command: list[str], log: Path, **kwargs) -> subprocess.Popen:
    with log.open("ab") as out:
        return subprocess.Popen(command, cwd=ROOT, env=environment(), stdout=kwargs.pop("stdout", out),  # noqa: S603
                                stderr=out, **kwargs)


def start_receiver(url: str, store: str, folder: Path) -> tuple[subprocess.Popen, str]:
    command = flask(url, "platform", "receive", "--port", "0", "--database", store, "--secret", SECRET)
    receiver = start(command, folder / "receiver.log", stdout=subprocess.PIPE, text=True)
    line = receiver.stdout.readline()  # "Platform receiver listening on http://127.0.0.1:N/fhir, storing …"
    found = re.search(r"http://\S+/fhir", line)
    if not found:
        receiver.kill()
        raise RuntimeError(f"the receiver did not start; see {folder / 'receiver.log'}")
    return receiver, found.group(0)


def run_backfill(url: str, since: str, profile: Path | None) -> tuple[subprocess.Popen, float]:
    """The backfill with this terminal as its output (a real progress bar); returns it and its start."""
    started = time.perf_counter()
    command = flask(url, "platform", "backfill", "--since", since, profile=profile)
    return subprocess.Popen(command, cwd=ROOT, env=environment()), started  # noqa: S603


def reaped(process: subprocess.Popen) -> float | None:
    """The CPU seconds of an exited child (reaped here, with its rusage), or None while it runs."""
    pid, status, usage = os.wait4(process.pid, os.WNOHANG)
    if pid == 0:
        return None
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        raise RuntimeError(f"the backfill exited with {process.returncode}")
    return usage.ru_utime + usage.ru_stime


def cpu(pid: int, children: bool = False) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    own = int(fields[11]) + int(fields[12])  # utime + stime
    return (own + (int(fields[13]) + int(fields[14]) if children else 0)) / TICKS


def postgres_cpu(postmaster: int) -> float:
    """The server's CPU so far: the postmaster with the backends it reaped, and every live child."""
    total = cpu(postmaster, children=True)
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (FileNotFoundError, ProcessLookupError):
                continue
            if parent == postmaster:
                total += cpu(int(entry.name))
    return total


def machine_cpu() -> float:
    busy = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(busy[:8]) - busy[3] - busy[4]) / TICKS  # less idle and iowait


def postmaster_of(poll) -> int | None:
    backend = poll.execute(sa.text("SELECT pg_backend_pid()")).scalar()
    try:
        return int(Path(f"/proc/{backend}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except FileNotFoundError:  # the server runs elsewhere
        return None


def analyze_as_autovacuum(poll, last: list[float]) -> None:
    """ANALYZE the tables changed by more than autovacuum's rule since their last statistics, at most
    once a second (`last` holds the time of the last check)."""
    if time.monotonic() - last[0] < 1:
        return
    last[0] = time.monotonic()
    for table in poll.execute(sa.text(
            "SELECT s.relname FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid "
            "WHERE s.n_mod_since_analyze > :base + :scale * greatest(c.reltuples, 0)"),
            dict(base=ANALYZE_THRESHOLD, scale=ANALYZE_SCALE)).scalars().all():
        poll.execute(sa.text(f'ANALYZE "{table}"'))


def backfill_alone(url: str, since: str, poll) -> None:
    """Step 1: the backfill with nothing else running; then the outbox and tokens are emptied again."""
    process, started = run_backfill(url, since, None)
    checked = [0.0]
    while (used := reaped(process)) is None:
        time.sleep(0.05)
        analyze_as_autovacuum(poll, checked)
    seconds = time.perf_counter() - started
    events = poll.execute(sa.text("SELECT count(*) FROM outbox_events")).scalar()
    print(f"backfill alone: {events:,} events written in {seconds:.1f} s (start-up included): "
          f"{events / seconds:,.0f} events/s; its CPU {used:.1f} s")
    poll.execute(sa.text("TRUNCATE outbox_events, research_tokens RESTART IDENTITY"))
    poll.execute(sa.text("VACUUM ANALYZE outbox_events, research_tokens"))


def end_to_end(url: str, since: str, args, folder: Path, poll, store: str) -> None:
    """Step 2: receiver and workers idle, the clock runs from launching the backfill to the last stored."""
    receiver, target = start_receiver(url, store, folder)
    workers = []
    try:
        for number in range(1, args.workers + 1):
            profile = args.profile / f"worker-{number}.prof" if args.profile else None
            command = flask(url, "worker", profile=profile, PLATFORM_PUSH_URL=target,
                            PLATFORM_BATCH_SIZE=args.batch, WORKER_POLL_SECONDS=0.1,
                            UPLOAD_FOLDER=str(folder / "uploads"))
            workers.append(start(command, folder / f"worker-{number}.log"))
        wait_for_workers(poll, workers, folder)
        postmaster = postmaster_of(poll)
        before = {"workers": sum(cpu(w.pid) for w in workers), "receiver": cpu(receiver.pid),
                  "postgres": postgres_cpu(postmaster) if postmaster else 0.0, "machine": machine_cpu()}
        backfill, started = run_backfill(url, since, args.profile / "backfill.prof" if args.profile else None)
        backfill_cpu, backfill_seconds, events = watch(poll, backfill, started, workers, target, folder)
        finished = time.perf_counter()
        after = {"workers": sum(cpu(w.pid) for w in workers), "receiver": cpu(receiver.pid),
                 "postgres": postgres_cpu(postmaster) if postmaster else 0.0, "machine": machine_cpu()}
        window = finished - started
        print(f"end to end: {events:,} events delivered in {window:.1f} s: {events / window:,.0f} events/s "
              f"(the backfill wrote them in {backfill_seconds:.1f} s: {events / backfill_seconds:,.0f}/s)")
        split = {"backfill": backfill_cpu, **{name: after[name] - before[name] for name in after}}
        split["rest of the machine"] = split.pop("machine") - sum(split.values())
        print(f"CPU (core-seconds, of {window * os.cpu_count():.1f} available): " + ", ".join(
            f"{name} {seconds:.1f} ({seconds / window:.2f} cores, {seconds / events * 1000:.2f} ms/event)"
            for name, seconds in split.items()))
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
            worker.wait(timeout=120)
        check_exactly_once(poll, target, store, args.dispenses)
    finally:
        for process in (*workers, receiver):
            if process.poll() is None:
                process.kill()
            process.wait()
    if args.profile:
        print_profile(pstats.Stats(str(args.profile / "backfill.prof")), "backfill", events, BACKFILL_PARTS)
        for number in range(1, args.workers + 1):
            stats = pstats.Stats(str(args.profile / f"worker-{number}.prof"))
            print_profile(stats, f"worker {number}", events / args.workers, PUSH_PARTS)
        top_costs(pstats.Stats(str(args.profile / "backfill.prof")), "backfill", events)
        top_costs(pstats.Stats(str(args.profile / "worker-1.prof")), "worker 1", events / args.workers)


def wait_for_workers(poll, workers: list[subprocess.Popen], folder: Path) -> None:
    """Until each worker holds its database connection (it has swept once)."""
    deadline = time.monotonic() + 60
    count = sa.text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND backend_type = 'client backend' AND pid <> pg_backend_pid()")
    while poll.execute(count).scalar() < len(workers):
        if time.monotonic() > deadline or any(w.poll() is not None for w in workers):
            raise RuntimeError("the workers did not start; worker 1's log ends:\n"
                               + (folder / "worker-1.log").read_text()[-3000:])
        time.sleep(0.2)


def watch(poll, backfill, started: float, workers, target: str, folder: Path) -> tuple[float, float, int]:
    """Until the backfill is done, nothing is pending and the receiver stored every event; returns the
    backfill's CPU and seconds, and the events."""
    stats_url = target.removesuffix("/fhir") + "/stats"
    backfill_cpu, backfill_seconds, events = None, 0.0, None
    progress, shown = (0, time.monotonic()), time.monotonic()
    pending = sa.text("SELECT EXISTS (SELECT 1 FROM outbox_events WHERE status = 'pending')")
    checked = [0.0]
    while True:
        time.sleep(0.1)
        analyze_as_autovacuum(poll, checked)
        if backfill_cpu is None and (backfill_cpu := reaped(backfill)) is not None:
            backfill_seconds = time.perf_counter() - started
            events = poll.execute(sa.text("SELECT count(*) FROM outbox_events")).scalar()
        stored = requests.get(stats_url, timeout=30).json()["stored"]
        if events is not None and stored >= events and not poll.execute(pending).scalar():
            return backfill_cpu, backfill_seconds, events
        if stored != progress[0]:
            progress = (stored, time.monotonic())
        elif time.monotonic() - progress[1] > 30:
            raise RuntimeError(f"nothing was stored for 30 seconds; see {folder}")
        if any(w.poll() is not None for w in workers):
            log = (folder / "worker-1.log").read_text()[-3000:]
            raise RuntimeError(f"a worker exited; worker 1's log ends:\n{log}")
        if time.monotonic() - shown > 10:
            print(f"  … {stored:,} stored", file=sys.stderr)
            shown = time.monotonic()


def check_exactly_once(poll, target: str, store: str, lines: int) -> None:
    """The receiver holds each outbox key once, and only those; every event is delivered, none dead."""
    engine = sa.create_engine(store)
    with engine.connect() as connection:
        received = set(connection.execute(sa.text("SELECT event_key FROM received_resources")).scalars())
    engine.dispose()
    outbox = poll.execute(sa.text(
        "SELECT idempotency_key, status, attempts, event_type FROM outbox_events")).all()
    stats = requests.get(target.removesuffix("/fhir") + "/stats", timeout=30).json()
    statuses = Counter(row.status for row in outbox)
    attempts = Counter(row.attempts for row in outbox)
    kinds = Counter(row.event_type for row in outbox)
    problems = []
    if received != {row.idempotency_key for row in outbox}:
        problems.append(f"the receiver's keys differ from the outbox's ({len(received):,} received, "
                        f"{len(outbox):,} in the outbox)")
    if statuses != Counter({"delivered": len(outbox)}):
        problems.append(f"not every event is delivered: {dict(statuses)}")
    if kinds[DISPENSED] != lines:
        problems.append(f"{kinds[DISPENSED]:,} dispense events for {lines:,} dispensed lines")
    if stats["refused"] or stats["failed"] or stats["dropped"]:
        problems.append(f"the receiver refused or failed some: {stats}")
    if stats["duplicates"] and set(attempts) == {1}:
        problems.append(f"{stats['duplicates']} duplicates although no event was sent twice")
    if problems:
        raise RuntimeError("exactly-once check failed: " + "; ".join(problems))
    resent = sum(n for tries, n in attempts.items() if tries > 1)  # a lease lapsed: sent again, kept once
    print(f"exactly once: the receiver holds {len(received):,} keys, the outbox's {len(outbox):,} "
          f"({', '.join(f'{n:,} {kind}' for kind, n in kinds.items())}), all delivered, none dead; "
          f"{stats['duplicates']} duplicates answered 200 and not stored, {resent} events sent again")


# Where an event's time goes: (label, file, function); the names are those of the current code.
BACKFILL_PARTS = (
    ("backfill_command, all of it", "app/platform/cli.py", "backfill_command"),
    ("  plan: the ids to walk", "app/platform/backfill.py", "plan"),
    ("  dispensed_rows", "app/platform/events.py", "dispensed_rows"),
    ("    handed_over: orders, lines, packs (Core)", "app/platform/facts.py", "handed_over"),
    ("    dispense_lines", "app/platform/facts.py", "dispense_lines"),
    ("      patients: consents, profiles, provinces", "app/platform/facts.py", "patients"),
    ("      tokens: read and make", "app/platform/tokens.py", "tokens"),
    ("    fhir.medication_dispense", "app/platform/fhir.py", "medication_dispense"),
    ("    event_row: the JSON", "app/outbox/services.py", "event_row"),
    ("  emit: the INSERT", "app/outbox/services.py", "emit"),
    ("  commit", "sqlalchemy/orm/scoping.py", "commit"),
    ("database round trips (psycopg wait)", "psycopg/connection.py", "wait"),
)
PUSH_PARTS = (
    ("run_once: every job", "app/worker/__init__.py", "run_once"),
    ("  push_due", "app/platform/push.py", "push_due"),
    ("    take_due: the claim", "app/platform/push.py", "take_due"),
    ("    checked: parse and validate", "app/platform/push.py", "checked"),
    ("      fhir.validate", "app/platform/fhir.py", "validate"),
    ("        its parts, repeats remembered (4 a dispense)", "app/platform/fhir.py", "_part_is_valid"),
    ("    bundle_body", "app/platform/push.py", "bundle_body"),
    ("    PlatformClient.post (waits for the receiver)", "app/integrations/data_platform.py", "post"),
    ("    record: the outcomes", "app/platform/push.py", "record"),
    ("database round trips (psycopg wait)", "psycopg/connection.py", "wait"),
)


def top_costs(stats: pstats.Stats, title: str, events: float, count: int = 12) -> None:
    """The functions that cost the most in themselves, per event."""
    print(f"--- {title}: own time per event, top {count} ---")
    rows = sorted(stats.stats.items(), key=lambda item: item[1][2], reverse=True)[:count]
    for (path, line, function), (_cc, calls, own, _cumulative, _callers) in rows:
        where = "/".join(Path(path).parts[-2:]) if path != "~" else "builtin"
        print(f"  {own / events * 1e6:7.1f} µs  {calls / events:6.2f} calls  {function} ({where}:{line})")


def unsummarised(now: datetime) -> timedelta:
    """The time since the clinic's midnight that ended the last month whose adherence is summarised."""
    following = (last_month() + timedelta(days=32)).replace(day=1)
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    return now - datetime.combine(following, datetime.min.time(), zone)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dispenses", type=int, default=100_000, help="dispensed order lines (events)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batch", type=int, default=100, help="PLATFORM_BATCH_SIZE")
    parser.add_argument("--days", type=float, help="handed over in the last DAYS days (default: since the "
                        "last summarised month)")
    parser.add_argument("--store", choices=("postgresql", "sqlite"), default="sqlite",
                        help="the receiver's database")
    parser.add_argument("--server", default=os.environ.get("BENCH_DATABASE_URL",
                                                           "postgresql://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--name", default="bench_platform")
    parser.add_argument("--keep", action="store_true", help="keep the databases afterwards")
    parser.add_argument("--profile", type=Path, help="profile into DIR; print the time per step")
    args = parser.parse_args()
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)

    url = create_database(args.server, args.name)
    received_name = f"{args.name}_received"
    try:
        app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": url})
        with app.app_context():
            upgrade(directory=str(ROOT / "migrations"))
            now = datetime.now(UTC).replace(microsecond=0)
            window = timedelta(days=args.days) if args.days else unsummarised(now)
            begun = time.perf_counter()
            patients, orders = seed(args.dispenses, now, window)
            args.dispenses = orders * LINES_PER_ORDER
            db.session.commit()
            db.session.remove()
            db.engine.dispose()
        vacuum(url)
        print(f"seeded {patients:,} patients, {orders:,} orders and {orders * LINES_PER_ORDER:,} dispensed "
              f"lines in {time.perf_counter() - begun:.1f} s")
        zone = ZoneInfo(app.config["BABEL_DEFAULT_TIMEZONE"])
        since = (now - window).astimezone(zone).date().isoformat()
        engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect() as poll, tempfile.TemporaryDirectory(prefix="bench-platform-") as temp:
            backfill_alone(url, since, poll)
            store = (create_database(args.server, received_name) if args.store == "postgresql"
                     else f"sqlite:///{temp}/received.sqlite3")
            end_to_end(url, since, args, Path(temp), poll, store)
        engine.dispose()
    finally:
        if args.keep:
            print(f"kept databases {args.name} and {received_name}")
        else:
            drop_database(args.server, args.name)
            drop_database(args.server, received_name)


if __name__ == "__main__":
    main()
