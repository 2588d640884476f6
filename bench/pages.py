"""Benchmark: time to serve the main pages (anonymous and signed in) and a sign-in, on SQLite.

Run with `.venv/bin/python bench/pages.py [N]`; prints median and 95th percentile per page.
Not a test: the machines are shared and noisy, so the figures go in the README instead.
"""

import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


from app import create_app
from app.demo import DEMO_PASSWORD, seed_demo
from app.extensions import db
from app.schema import upgrade


def timed(call, repeat: int) -> tuple[float, float]:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


def main(repeat: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/bench.sqlite3",
                                     "RATELIMIT_ENABLED": False})
        with app.app_context():
            upgrade()
            seed_demo()
            db.session.commit()
        client = app.test_client()
        login = {"identifier": "admin@demo.example", "password": DEMO_PASSWORD}
        rows = [("GET / (anonymous)", lambda: client.get("/")),
                ("GET /accounts/login", lambda: client.get("/accounts/login")),
                ("POST /accounts/login (argon2 verify)",
                 lambda: app.test_client().post("/accounts/login", data=login))]
        client.post("/accounts/login", data=login)
        rows += [("GET /admin/ (dashboard)", lambda: client.get("/admin/")),
                 ("GET /audit/ (100 newest events)", lambda: client.get("/audit/"))]
        print(f"{'page':<40} {'median ms':>10} {'p95 ms':>8}   ({repeat} requests each)")
        for name, call in rows:
            median, p95 = timed(call, repeat)
            print(f"{name:<40} {median:>10.1f} {p95:>8.1f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
