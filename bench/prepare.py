"""Make the load benchmark's PostgreSQL databases: create, migrate and seed each one that is not ready.

    .venv/bin/python bench/prepare.py [--server postgresql+psycopg://postgres@127.0.0.1:5432] \
        scale1=1 scale20=20

Each NAME=SCALE becomes the database bench_NAME on that server, migrated to the head revision and
filled by `flask bench seed --scale SCALE` and vacuumed unless it already holds patients (seeding
scale 20 takes a few minutes). Prints one `--database NAME=URL` argument per database for bench/load.py.
"""

import argparse
import os
import subprocess
import sys
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
FLASK = str(ROOT / ".venv" / "bin" / "flask")


def _admin_dsn(server: str) -> str:
    url = make_url(server).set(drivername="postgresql", database="postgres")
    return url.render_as_string(hide_password=False)


def ensure_database(server: str, name: str) -> str:
    """The database's SQLAlchemy URL, creating the database when it does not exist."""
    with psycopg.connect(_admin_dsn(server), autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            connection.execute(f'CREATE DATABASE "{name}"')
    return make_url(server).set(database=name).render_as_string(hide_password=False)


def has_patients(url: str) -> bool:
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn) as connection:
        found = connection.execute("SELECT to_regclass('public.users') IS NOT NULL").fetchone()[0]
        return bool(found and connection.execute(
            "SELECT EXISTS (SELECT 1 FROM users WHERE role = 'patient')").fetchone()[0])


def vacuum(url: str) -> None:
    """VACUUM (ANALYZE) the fresh database, as autovacuum would have a production one: without the
    visibility map a covering index still visits the table for every row."""
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute("VACUUM (ANALYZE)")


def flask(url: str, *args: str) -> None:
    env = dict(os.environ, DATABASE_URL=url, FLASK_APP="wsgi.py")
    subprocess.run([FLASK, *args], cwd=ROOT, env=env, check=True)  # noqa: S603  (a fixed argv, no shell)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server", default="postgresql+psycopg://postgres@127.0.0.1:5432")
    parser.add_argument("databases", nargs="+", metavar="NAME=SCALE")
    args = parser.parse_args()
    arguments = []
    for item in args.databases:
        name, scale = item.split("=", 1)
        url = ensure_database(args.server, f"bench_{name}")
        flask(url, "db", "upgrade")
        if has_patients(url):
            print(f"bench_{name}: already seeded", file=sys.stderr)
        else:
            flask(url, "bench", "seed", "--scale", scale)
            vacuum(url)
        arguments.append(f"--database {name}={url}")
    print(" ".join(arguments))


if __name__ == "__main__":
    main()
