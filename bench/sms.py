"""Benchmark: plan dose and refill reminders for 50,000 dispensed lines, then send them through `flask worker`
processes to the fake Twilio server, on PostgreSQL.

Run with `.venv/bin/python bench/sms.py [--lines 50000] [--workers 2] [--batch 200] [--server URL] [--keep]
[--profile DIR]`. It creates its own database (`bench_sms` on the server, by default
postgresql://postgres@127.0.0.1:5432), builds the schema with the migrations and writes, in bulk, the rows
a reminder line needs: stores, staff and patients through app.benchdata (verified phones, en/zh,
Asia/Shanghai, an `sms_reminders` consent in force), the shipped drug catalogue, and for each patient one
completed consultation → approved prescription → completed order with two lines (QD and BID, 2–5 days'
supply, handed over 1–20 hours ago) → two reminder lines.

Planning: `app.reminders.plans.rebuild(patient, now)` for every patient with production's quiet hours,
committed every 500 patients; prints lines/s, messages planned/s and the statements each patient costs.
This server runs with autovacuum off, so the loop runs ANALYZE between batches as autovacuum would
(untimed; see ANALYZE_THRESHOLD).

Sending: each patient's first two planned messages (one per line: as many messages as lines) are made due
now, all at the same instant as the 08:00 doses of a city would be, and tagged with their row id; the later
ones stay queued in the future, as in a live outbox. Then the fake (`python -m devtools.twilio_fake`) and
N workers (SMS_BACKEND=twilio, SMS_SEND_RATE=0, WORKER_BATCH_SIZE=--batch) start as subprocesses, timed
until every due row is `sent`; prints messages/s, the CPU each process group used and PostgreSQL's work per
message, and checks that the fake accepted each row exactly once.

--profile DIR runs the planning and each worker under cProfile and prints the time per patient and per
message in each step. Drops the database at the end unless --keep. Not a test: the machines are shared and
noisy, so the figures go in the README instead.
"""

import argparse
import cProfile
import os
import pstats
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import requests
import sqlalchemy as sa

from app import create_app
from app.accounts.models import User
from app.extensions import db
from app.notifications.models import OutboundSms, SmsStatus
from app.reminders.models import ReminderLine
from app.reminders.plans import rebuild
from app.schema import upgrade
from bench.availability import create_database, drop_database
from bench.sms_data import LINES_PER_PATIENT, seed
from config import Config
from devtools.twilio_fake import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN

ROOT = Path(__file__).resolve().parent.parent
PLAN_BATCH = 500  # patients per commit while planning
# This server runs with autovacuum off. Without fresh statistics the plans PostgreSQL caches while the
# outbox is empty (seq scans: the withdraw query, the dose rows' foreign-key checks) stay in use as it
# grows, and planning slows down in proportion to the rows already planned. So the planning loop runs
# ANALYZE between batches on autovacuum's default rule (50 rows + 10 % of the table), untimed.
ANALYZE_THRESHOLD, ANALYZE_SCALE = 50, 0.1
TICKS = os.sysconf("SC_CLK_TCK")
TAGGED = re.compile(r" #(\d+)$")
STATEMENT_TAIL = re.compile(r" (WHERE|VALUES|SET|ORDER BY|LIMIT) .*| \(%\(.*")  # the parameters


@contextmanager
def statement_times(engine):
    """Counts and times each kind of statement run on the engine, from sending it to having its rows."""
    calls, seconds = Counter(), Counter()

    def before(connection, *_args):
        connection.info["bench_started"] = time.perf_counter()

    def after(connection, _cursor, statement, *_args):
        kind = STATEMENT_TAIL.sub(r" \1 …", " ".join(statement.split()))
        calls[kind] += 1
        seconds[kind] += time.perf_counter() - connection.info.pop("bench_started")

    sa.event.listen(engine, "before_cursor_execute", before)
    sa.event.listen(engine, "after_cursor_execute", after)
    try:
        yield calls, seconds
    finally:
        sa.event.remove(engine, "before_cursor_execute", before)
        sa.event.remove(engine, "after_cursor_execute", after)


def plan(now: datetime, profile: cProfile.Profile | None) -> tuple[int, int]:
    """rebuild() for every patient with reminder lines; returns (patients, messages planned)."""
    patient_ids = list(db.session.scalars(sa.select(ReminderLine.patient_id).distinct()
                                          .order_by(ReminderLine.patient_id)))
    lines = db.session.scalar(sa.select(sa.func.count()).select_from(ReminderLine))
    db.session.remove()
    planned = analyzed = analyses = 0
    seconds = 0.0
    with statement_times(db.engine) as (calls, times):
        for first in range(0, len(patient_ids), PLAN_BATCH):
            chunk = patient_ids[first:first + PLAN_BATCH]
            start = time.perf_counter()
            if profile:
                profile.enable()
            for patient in db.session.scalars(sa.select(User).where(User.id.in_(chunk)).order_by(User.id)):
                planned += rebuild(patient, now)
            db.session.commit()
            if profile:
                profile.disable()
            seconds += time.perf_counter() - start
            if planned - analyzed > ANALYZE_THRESHOLD + ANALYZE_SCALE * analyzed:
                db.session.execute(sa.text("ANALYZE outbound_sms, dose_reminders"))
                db.session.commit()
                analyzed, analyses = planned, analyses + 1
    db.session.remove()
    patients = len(patient_ids)
    print(f"planned {planned:,} messages for {lines:,} lines of {patients:,} patients in {seconds:.1f} s: "
          f"{lines / seconds:,.0f} lines/s, {planned / seconds:,.0f} messages/s, "
          f"{seconds / patients * 1000:.2f} ms per patient (not counting {analyses} ANALYZE runs)")
    for kind in [kind for kind in calls if kind.startswith("ANALYZE")]:
        del calls[kind], times[kind]
    print(f"  {calls.total() / patients:.1f} statements per patient, "
          f"{sum(times.values()) / patients * 1000:.2f} ms per patient in them:")
    for kind, spent in times.most_common(10):
        print(f"    {calls[kind] / patients:5.2f} × {spent / calls[kind] * 1000:6.3f} ms "
              f"= {spent / patients * 1000:6.3f} ms  {kind[:100]}")
    return patients, planned


def make_due(per_patient: int) -> list[int]:
    """Each patient's first `per_patient` queued messages become due now, their body tagged with the row
    id (so the fake's record tells each row apart); the rest move a day later, so that none falls due
    while the workers run whatever the time of day. Returns the due ids."""
    ids = list(db.session.scalars(sa.text("""
        WITH ranked AS (
            SELECT id, row_number() OVER (PARTITION BY user_id ORDER BY next_attempt_at, id) AS n
            FROM outbound_sms WHERE status = 'queued'),
        later AS (
            UPDATE outbound_sms o SET next_attempt_at = o.next_attempt_at + interval '1 day'
            FROM ranked r WHERE o.id = r.id AND r.n > :per_patient)
        UPDATE outbound_sms o SET next_attempt_at = now() - interval '1 second', body = o.body || ' #' || o.id
        FROM ranked r WHERE o.id = r.id AND r.n <= :per_patient
        RETURNING o.id"""), dict(per_patient=per_patient)))
    db.session.commit()
    return sorted(ids)


def vacuum(url: str) -> None:
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(sa.text("VACUUM (ANALYZE)"))
    engine.dispose()


def start_fake(folder: Path) -> tuple[subprocess.Popen, str]:
    """The fake in its own process (off the workers' GIL, on its own port); returns it and its address."""
    with (folder / "fake.log").open("ab") as log:
        fake = subprocess.Popen([sys.executable, "-m", "devtools.twilio_fake", "--port", "0"], cwd=ROOT,
                                stdout=subprocess.PIPE, stderr=log, text=True)
    started = re.search(r"http://\S+", fake.stdout.readline())  # "Fake Twilio on http://127.0.0.1:N (…)"
    if not started:
        fake.kill()
        raise RuntimeError(f"the fake Twilio server did not start; see {folder / 'fake.log'}")
    return fake, started.group(0)


def start_worker(url: str, fake_base: str, batch: int, folder: Path, number: int,
                 profile: Path | None) -> subprocess.Popen:
    overrides = {
        "SQLALCHEMY_DATABASE_URI": url, "UPLOAD_FOLDER": str(folder / "uploads"), "SMS_BACKEND": "twilio",
        "TWILIO_ACCOUNT_SID": DEFAULT_ACCOUNT_SID, "TWILIO_AUTH_TOKEN": DEFAULT_AUTH_TOKEN,
        "TWILIO_MESSAGING_SERVICE_SID": "MG" + "0" * 30 + "be", "TWILIO_API_BASE": fake_base,
        "SMS_SEND_RATE": 0, "WORKER_BATCH_SIZE": batch, "WORKER_POLL_SECONDS": 0.1,
    }
    command = ["-m", "flask", "--app", f"app:create_app('testing', {overrides!r})", "worker"]
    if profile:
        command = ["-m", "cProfile", "-o", str(profile / f"worker-{number}.prof"), *command]
    env = {key: value for key, value in os.environ.items() if key not in ("FLASK_APP", "TEST_DATABASE_URL")}
    with (folder / f"worker-{number}.log").open("ab") as log:
        return subprocess.Popen([sys.executable, *command], cwd=ROOT, env=env,  # noqa: S603
                                stdout=log, stderr=subprocess.STDOUT)


def cpu_sample(poll, workers: list[subprocess.Popen], fake: subprocess.Popen) -> dict[str, float]:
    """CPU seconds so far of the workers, the fake, each backend of this database and the whole machine."""
    def used(pid: int) -> float:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime

    busy = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    backends = poll.execute(sa.text(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
        "AND backend_type = 'client backend' AND pid <> pg_backend_pid()")).scalars().all()
    return {"workers": sum(used(w.pid) for w in workers), "fake": used(fake.pid),
            **{f"pg:{pid}": used(pid) for pid in backends},
            "machine": (sum(busy[:8]) - busy[3] - busy[4]) / TICKS}  # less idle and iowait


def cpu_used(before: dict, after: dict) -> dict[str, float]:
    postgres = sum(value - before.get(key, 0.0) for key, value in after.items() if key.startswith("pg:"))
    split = {"workers": after["workers"] - before["workers"], "postgres backends": postgres,
             "fake": after["fake"] - before["fake"]}
    split["rest of the machine"] = after["machine"] - before["machine"] - sum(split.values())
    return split


def database_counters(poll) -> dict[str, int]:
    """PostgreSQL's counters for this database: transactions committed, rows read and written."""
    row = poll.execute(sa.text(
        "SELECT xact_commit, tup_fetched, tup_inserted, tup_updated, blks_hit + blks_read AS blocks "
        "FROM pg_stat_database WHERE datname = current_database()")).one()
    return dict(row._mapping)


def send(url: str, due: list[int], workers: int, batch: int, profile: Path | None) -> None:
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as poll, tempfile.TemporaryDirectory(prefix="bench-sms-") as temp:
        folder = Path(temp)
        fake, base = start_fake(folder)
        processes = []
        try:
            counters = database_counters(poll)
            launched = time.perf_counter()
            processes = [start_worker(url, base, batch, folder, n, profile) for n in range(1, workers + 1)]
            watch(poll, len(due), processes, fake, launched, folder)
            for process in processes:
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=120)
            time.sleep(1)  # the backends report their counters as they close
            print("database work per message sent: " + ", ".join(
                f"{(value - counters[key]) / len(due):.2f} {key}"
                for key, value in database_counters(poll).items()))
            check_exactly_once(poll, due, base)
            by_worker = dict(poll.execute(sa.text(  # claimed_by is host:pid:token
                "SELECT split_part(claimed_by, ':', 2)::int, count(*) FROM outbound_sms "
                "WHERE status = 'sent' GROUP BY 1")).all())
            print("messages per worker: " + ", ".join(f"{by_worker.get(p.pid, 0):,}" for p in processes))
        finally:
            for process in (*processes, fake):
                if process.poll() is None:
                    process.kill()
                process.wait()
        if profile:
            for number, process in enumerate(processes, start=1):
                print_profile(pstats.Stats(str(profile / f"worker-{number}.prof")), f"worker {number}",
                              by_worker[process.pid], SENDING_PARTS)
    engine.dispose()


def watch(poll, due: int, workers: list[subprocess.Popen], fake, launched: float, folder: Path) -> None:
    """Wait until every due row is sent; print the rates and the CPU split from the first one sent.

    Polls with EXISTS on the due index, not count(*): counting 50,000 rows four times a second would
    load PostgreSQL more than the claims do."""
    def exists(condition) -> bool:
        return poll.execute(sa.select(sa.exists().where(condition))).scalar()

    status = OutboundSms.status
    unsent = sa.and_(status.in_((SmsStatus.QUEUED, SmsStatus.SENDING)),
                     OutboundSms.next_attempt_at <= sa.func.now())
    stopped = status.in_((SmsStatus.FAILED, SmsStatus.CANCELLED))
    first, progress = None, (due, time.monotonic())
    while exists(unsent):
        time.sleep(0.25)
        if first is None and exists(status == SmsStatus.SENT):
            first = (time.perf_counter(), cpu_sample(poll, workers, fake))
        if time.monotonic() - progress[1] > 10:
            left = poll.execute(sa.select(sa.func.count()).where(unsent)).scalar()
            if left == progress[0]:
                raise RuntimeError(f"nothing was sent for 10 seconds; see {folder}")
            progress = (left, time.monotonic())
        if any(w.poll() is not None for w in workers) or exists(stopped):
            raise RuntimeError("a worker exited, or messages failed or were cancelled; worker 1's log ends:\n"
                               + (folder / "worker-1.log").read_text()[-3000:])
    finished, last = time.perf_counter(), cpu_sample(poll, workers, fake)
    started, before = first
    sent_then = poll.execute(sa.text("SELECT count(*) FROM outbound_sms WHERE status = 'sent' "
                                     "AND sent_at <= now() - make_interval(secs => :ago)"),
                             dict(ago=finished - started)).scalar()
    window = finished - started
    first_sent, last_sent = poll.execute(sa.text(
        "SELECT min(sent_at), max(sent_at) FROM outbound_sms WHERE status = 'sent'")).one()
    print(f"sent {due:,} messages with {len(workers)} worker(s): "
          f"{due / (finished - launched):,.0f}/s from launching the workers ({finished - launched:.1f} s, "
          f"start-up included); {(due - sent_then) / window:,.0f}/s once sending ({window:.1f} s); "
          f"{due / (last_sent - first_sent).total_seconds():,.0f}/s by the rows' sent_at")
    print(f"CPU while sending (core-seconds, of {window * os.cpu_count():.1f} available): " + ", ".join(
        f"{name} {seconds:.1f} ({seconds / window:.2f} cores)"
        for name, seconds in cpu_used(before, last).items()))


def check_exactly_once(poll, due: list[int], base: str) -> None:
    """The fake accepted each due row once and nothing else; each row is `sent` after one attempt, with
    the sid the fake gave it."""
    accepted = requests.get(f"{base}/_fake/messages", timeout=120).json()
    tags = Counter(int(m.group(1)) if (m := TAGGED.search(message["body"])) else None for message in accepted)
    twice = sorted(row for row, times in tags.items() if times > 1)
    rows = poll.execute(sa.text(
        "SELECT id, provider_message_id, attempts FROM outbound_sms WHERE status = 'sent'")).all()
    problems = []
    if len(accepted) != len(due):
        problems.append(f"the fake accepted {len(accepted):,} messages for {len(due):,} due rows")
    if twice:
        problems.append(f"{len(twice)} rows accepted more than once, e.g. {twice[:5]}")
    if set(tags) != set(due):
        problems.append(f"accepted rows differ from the due rows ({len(set(tags) ^ set(due))} differ)")
    if {row.id for row in rows} != set(due) or any(row.attempts != 1 for row in rows):
        problems.append("the sent rows are not exactly the due rows, each after one attempt")
    if {row.provider_message_id for row in rows} != {message["sid"] for message in accepted}:
        problems.append("the rows' provider ids are not the sids the fake gave")
    if problems:
        raise RuntimeError("exactly-once check failed: " + "; ".join(problems))
    print(f"exactly once: the fake accepted {len(accepted):,} messages, one per due row; every row is "
          f"sent after 1 attempt with the fake's sid")


# Where a unit of work (a patient planned, a message sent) spends its time: (label, file, function).
PLANNING_PARTS = (
    ("rebuild(), all of it", "reminders/plans.py", "rebuild"),
    ("  withdraw: the queued rows, locked", "reminders/plans.py", "withdraw"),
    ("  may_text: phone, consent, opt-out", "reminders/plans.py", "may_text"),
    ("  preferences", "reminders/plans.py", "preferences"),
    ("  current_lines", "reminders/plans.py", "current_lines"),
    ("  schedule.plan (pure)", "reminders/schedule.py", "plan"),
    ("  _queue: bodies, rows, flush", "reminders/plans.py", "_queue"),
    ("    render_body (Jinja, per body)", "notifications/services.py", "render_body"),
    ("    drug_title (lazy-loads line.drug)", "app/templating.py", "drug_title"),
    ("    _refill_links", "reminders/plans.py", "_refill_links"),
    ("    session flush (the two INSERTs)", "sqlalchemy/orm/session.py", "_flush"),
    ("database round trips (psycopg wait)", "psycopg/connection.py", "wait"),
)
SENDING_PARTS = (
    ("run_once: every job", "app/worker/__init__.py", "run_once"),
    ("  send_due_sms", "notifications/services.py", "send_due_sms"),
    ("    take_due: the claim", "notifications/services.py", "take_due"),
    ("    begin_attempt", "notifications/services.py", "begin_attempt"),
    ("    TwilioSmsBackend.send", "app/integrations/sms.py", "send"),
    ("      twilio: log_request + log_response", "twilio/http/__init__.py", "log_request"),
    ("", "twilio/http/__init__.py", "log_response"),
    ("      requests: prepare_request", "requests/sessions.py", "prepare_request"),
    ("      requests: merge_environment_settings", "requests/sessions.py", "merge_environment_settings"),
    ("      requests: HTTPAdapter.send (the HTTP exchange)", "requests/adapters.py", "send"),
    ("    record_sent", "notifications/services.py", "record_sent"),
    ("    db.session.commit", "sqlalchemy/orm/scoping.py", "commit"),
    ("      expiring the session's objects", "sqlalchemy/orm/session.py", "_remove_snapshot"),
    ("database round trips (psycopg wait)", "psycopg/connection.py", "wait"),
)


def print_profile(stats: pstats.Stats, title: str, units: float, parts) -> None:
    """Time per unit of work in each part named (the .prof files hold the rest)."""
    print(f"--- {title}: per unit (÷ {units:,.0f}), wall time under cProfile ---")
    label = ""
    totals: dict[str, list[float]] = {}
    for name, file, function in parts:
        label = name or label
        for (path, _line, found), (_cc, calls, _own, cumulative, _callers) in stats.stats.items():
            if path.endswith(file) and found == function:
                entry = totals.setdefault(label, [0.0, 0.0])
                entry[0] += calls
                entry[1] += cumulative
    for name, (calls, cumulative) in totals.items():
        print(f"  {cumulative / units * 1000:7.3f} ms  {calls / units:6.2f} calls  {name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=50_000, help="dispensed lines (two per patient)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batch", type=int, default=200, help="WORKER_BATCH_SIZE")
    parser.add_argument("--server", default=os.environ.get("BENCH_DATABASE_URL",
                                                           "postgresql://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--name", default="bench_sms")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--profile", type=Path, help="profile into DIR; print the time per step")
    args = parser.parse_args()
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)

    url = create_database(args.server, args.name)
    try:
        # Production's quiet hours (the testing configuration has none), so the plan is production's.
        app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": url,
                                     "SMS_QUIET_START": Config.SMS_QUIET_START,
                                     "SMS_QUIET_END": Config.SMS_QUIET_END})
        with app.app_context():
            upgrade(directory=str(ROOT / "migrations"))
            now = datetime.now(UTC).replace(microsecond=0)
            start = time.perf_counter()
            patients = seed(args.lines, now)
            db.session.commit()
            db.session.remove()
            vacuum(url)
            print(f"seeded {patients:,} patients and {patients * LINES_PER_PATIENT:,} dispensed lines "
                  f"in {time.perf_counter() - start:.1f} s")
            profile = cProfile.Profile() if args.profile else None
            patients, planned = plan(now, profile)
            if profile:
                profile.dump_stats(str(args.profile / "planning.prof"))
                print_profile(pstats.Stats(profile), "planning", patients, PLANNING_PARTS)
            due = make_due(LINES_PER_PATIENT)
            vacuum(url)
            print(f"made {len(due):,} messages due now (each patient's first {LINES_PER_PATIENT}); "
                  f"{planned - len(due):,} stay queued, a day later than planned")
            db.engine.dispose()
        send(url, due, args.workers, args.batch, args.profile)
    finally:
        if args.keep:
            print(f"kept database {args.name}")
        else:
            drop_database(args.server, args.name)


if __name__ == "__main__":
    main()
