"""Load benchmark: gunicorn on PostgreSQL, wrk at 8 connections per page, against /healthz in the same run.

    .venv/bin/python bench/load.py --database scale20=postgresql://postgres@127.0.0.1:5432/bench20 \
        [--database scale1=...] [--modes gthread,sync] [--seconds 8] [--connections 8]

Each database must hold `flask bench seed` data (its bench-<role>@bench.example accounts). For every
database and worker mode it serves the app with gunicorn (2 workers; gthread adds 4 threads each),
signs in one user per role, and for each page reports requests per second, p50/p95/p99, the ratio to
the baseline (`/healthz`: one `SELECT 1` through the same stack, measured before and after the pages),
SQL statements per request (counted in-process on the same database), worker CPU milliseconds per
request and the largest worker RSS. Results are printed as Markdown and written to bench/results/.
"""

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.load_pages import Page, count_statements, discover  # noqa: E402

LUA = ROOT / "bench" / "wrk_report.lua"
RESULTS = ROOT / "bench" / "results"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PASSWORD_ENV = "BENCH_PASSWORD"  # noqa: S105  (a variable name)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Gunicorn:
    """The app under gunicorn on 127.0.0.1, in production configuration, stopped by `stop()`."""

    def __init__(self, database_url: str, mode: str):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        threads = ["--threads", "4"] if mode == "gthread" else []
        env = dict(os.environ, APP_CONFIG="production", DATABASE_URL=database_url,
                   SECRET_KEY="bench-only-secret-key-that-is-long-enough-0123456789",  # noqa: S106
                   STRIPE_SECRET_KEY="sk_test_bench", STRIPE_PUBLISHABLE_KEY="pk_test_bench",  # noqa: S106
                   STRIPE_WEBHOOK_SECRET="whsec_bench",  # noqa: S106  (never reaches Stripe)
                   RATELIMIT_STORAGE_URI="redis://127.0.0.1:6379/15")
        self.process = subprocess.Popen(  # noqa: S603  (a fixed argv, no shell)
            [str(ROOT / ".venv" / "bin" / "gunicorn"), "--bind", f"127.0.0.1:{self.port}", "--workers", "2",
             *threads, "--worker-class", mode, "--log-level", "warning", "wsgi:app"],
            cwd=ROOT, env=env)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                answered = requests.get(self.base + "/healthz", timeout=2).status_code == 200
                if answered and len(self.workers()) == 2:
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError("gunicorn did not answer within 60 s")

    def workers(self) -> list[int]:
        found = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                if int(fields[1]) == self.process.pid:
                    found.append(int(entry.name))
        return found

    def cpu_seconds(self) -> float:
        total = 0
        for pid in self.workers():
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime + stime
        return total / CLOCK_TICKS

    def largest_rss_mb(self) -> float:
        sizes = []
        for pid in self.workers():
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    sizes.append(int(line.split()[1]) / 1024)
        return max(sizes)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()


def sign_in(base: str, email: str, password: str) -> tuple[str, str]:
    """(Cookie header value, a CSRF token for that session), through the real login form. The cookie
    is carried by hand: production marks it Secure, and this client talks plain HTTP to 127.0.0.1."""
    form = requests.get(base + "/accounts/login", timeout=10)
    cookie = form.headers["Set-Cookie"].split(";", 1)[0]
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form.text).group(1)
    answer = requests.post(base + "/accounts/login", allow_redirects=False, headers={"Cookie": cookie},
                           data={"csrf_token": token, "identifier": email, "password": password}, timeout=10)
    if answer.status_code not in (302, 303) or "Set-Cookie" not in answer.headers:
        raise RuntimeError(f"{email} could not sign in (HTTP {answer.status_code})")
    cookie = answer.headers["Set-Cookie"].split(";", 1)[0]
    page = requests.get(base + "/", headers={"Cookie": cookie}, allow_redirects=False, timeout=10)
    if page.status_code != 200:
        raise RuntimeError(f"{email} is not signed in after the login (HTTP {page.status_code})")
    if "Set-Cookie" in page.headers:  # the page stored a CSRF token in the session: keep that cookie
        cookie = page.headers["Set-Cookie"].split(";", 1)[0]
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text)
    return cookie, token.group(1) if token else ""


def run_wrk(url: str, cookie: str, seconds: int, connections: int, page: Page | None = None,
            csrf: str = "") -> dict:
    command = ["wrk", "-t", "2", "-c", str(connections), "-d", f"{seconds}s", "--timeout", "10s",
               "-s", str(LUA)]
    if cookie:
        command += ["-H", f"Cookie: {cookie}"]
    command.append(url)
    if page is not None and page.method == "POST":
        command += ["--", "POST", page.body.replace("{csrf}", csrf)]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout  # noqa: S603
    line = next(text for text in output.splitlines() if text.startswith("{"))
    result = json.loads(line)
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    return result


def check_page(base: str, page: Page, cookie: str) -> None:
    """One request first: a page that redirects to the login or fails would measure nothing."""
    if page.method != "GET":
        return
    answer = requests.get(base + page.path, headers={"Cookie": cookie}, allow_redirects=False, timeout=10)
    if answer.status_code != 200:
        raise RuntimeError(f"{page.label}: HTTP {answer.status_code} for {page.path}")


def measure(name: str, url: str, mode: str, pages: list[Page], statements: dict, args) -> list[dict]:
    server = Gunicorn(url, mode)
    try:
        sessions = {role: sign_in(server.base, email, args.password) for role, email in args.accounts.items()
                    if any(p.role == role for p in pages)}
        baseline_before = run_wrk(server.base + "/healthz", "", args.seconds, args.connections)
        rows = []
        for page in pages:
            cookie, csrf = sessions[page.role]
            check_page(server.base, page, cookie)
            cpu_before = server.cpu_seconds()
            result = run_wrk(server.base + page.path, cookie, args.seconds, args.connections, page, csrf)
            cpu = server.cpu_seconds() - cpu_before
            result.update(page=page.label, role=page.role, database=name, mode=mode,
                          cpu_ms=cpu * 1000 / max(result["requests"], 1), rss_mb=server.largest_rss_mb(),
                          statements=statements.get(page.label))
            rows.append(result)
            print(f"  {name:8} {mode:7} {page.label:34} {result['rps']:7.0f} req/s  p95 "
                  f"{result['p95_us'] / 1000:6.1f} ms  cpu {result['cpu_ms']:5.1f} ms", flush=True)
        baseline_after = run_wrk(server.base + "/healthz", "", args.seconds, args.connections)
        baseline = statistics.mean([baseline_before["rps"], baseline_after["rps"]])
        for row in rows:
            row["baseline_rps"] = baseline
            row["ratio"] = row["rps"] / baseline
        return rows
    finally:
        server.stop()


def markdown(rows: list[dict]) -> str:
    lines = ["| database | workers | page | SQL/req | req/s | × baseline | p50 ms | p95 ms | p99 ms "
             "| CPU ms/req | RSS MB | non-2xx |",
             "|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|"]
    for r in rows:
        statements = "—" if r["statements"] is None else r["statements"]
        lines.append(
            f"| {r['database']} | {r['mode']} | {r['page']} | {statements}"
            f" | {r['rps']:.0f} | {r['ratio']:.2f} | {r['p50_us'] / 1000:.1f} | {r['p95_us'] / 1000:.1f}"
            f" | {r['p99_us'] / 1000:.1f} | {r['cpu_ms']:.1f} | {r['rss_mb']:.0f} | {r['status_errors']} |")
    baselines = sorted({(r["database"], r["mode"], round(r["baseline_rps"])) for r in rows})
    lines.append("")
    lines += [f"Baseline `/healthz` ({db}, {mode}): {rps} req/s" for db, mode, rps in baselines]
    return "\n".join(lines)


def growth(rows: list[dict], small: str, large: str) -> str:
    """The large database's p50 over the small one's, per page and mode."""
    by_key = {(r["database"], r["mode"], r["page"]): r for r in rows}
    lines = [f"| workers | page | p50 {small} ms | p50 {large} ms | ratio |", "|---|---|--:|--:|--:|"]
    for (db, mode, page), row in by_key.items():
        if db == large and (small, mode, page) in by_key:
            before = by_key[(small, mode, page)]["p50_us"]
            lines.append(f"| {mode} | {page} | {before / 1000:.1f} | {row['p50_us'] / 1000:.1f} | "
                         f"{row['p50_us'] / max(before, 1):.2f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", action="append", required=True, metavar="NAME=URL")
    parser.add_argument("--modes", default="gthread,sync")
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--email", default="bench-{role}@bench.example", help="pattern of the accounts")
    parser.add_argument("--password", default=os.environ.get(PASSWORD_ENV, "Bench-Hospital-2026"))
    parser.add_argument("--only", default="", help="comma-separated page labels to run (default all)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install wrk")
    args.accounts = {role: args.email.format(role=role) for role in
                     ("patient", "doctor", "pharmacist", "admin", "courier")}
    rows = []
    databases = [item.split("=", 1) for item in args.database]
    for name, url in databases:
        pages, ids = discover(url, args.accounts)
        if args.only:
            pages = [p for p in pages if p.label in args.only.split(",")]
        statements = count_statements(url, pages, args.accounts, args.password)
        print(f"{name}: {ids}", flush=True)
        for mode in args.modes.split(","):
            rows += measure(name, url, mode, pages, statements, args)
    report = markdown(rows)
    if len(databases) > 1:
        report += "\n\n" + growth(rows, databases[0][0], databases[-1][0])
    RESULTS.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (RESULTS / f"load-{stamp}.json").write_text(json.dumps(rows, indent=1))
    (RESULTS / f"load-{stamp}.md").write_text(report + "\n")
    print(report)


if __name__ == "__main__":
    main()
