"""Starting the app (a web worker, the worker, any `flask` command) loads no library only some requests
or commands need: Alembic, the PDF and QR libraries, phone-number metadata, Stripe's SDK."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFERRED = ("alembic", "flask_migrate", "mako", "pygments", "reportlab", "PIL", "segno", "pypdf",
            "phonenumbers", "stripe", "twilio", "pygal", "app.benchdata.generator")
PROBE = ("import json, sys; from app import create_app; create_app('testing'); "
         f"print(json.dumps(sorted(m for m in {DEFERRED!r} if m in sys.modules)))")


def test_creating_the_app_loads_none_of_the_deferred_libraries():
    found = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True,  # noqa: S603
                           text=True, check=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert json.loads(found.stdout.strip().splitlines()[-1]) == []


def test_the_db_commands_load_flask_migrate_when_asked_for(tmp_path):
    env = {**os.environ, "FLASK_APP": "wsgi.py", "APP_CONFIG": "testing",
           "DATABASE_URL": f"sqlite:///{tmp_path / 'startup.sqlite3'}"}
    flask = str(Path(sys.executable).parent / "flask")
    run = lambda *args: subprocess.run([flask, *args], cwd=ROOT, capture_output=True,  # noqa: E731,S603
                                       text=True, check=True, env=env)
    listed = run("--help")
    assert "db " in listed.stdout and "Perform database migrations." in listed.stdout
    help_ = run("db", "--help")
    assert "upgrade" in help_.stdout and "--directory" in help_.stdout
