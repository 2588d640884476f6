"""`flask seed-demo` gives a new developer stores and one working login per role, idempotently."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select

from app.accounts.models import CourierProfile, DoctorProfile, PharmacistProfile, Role, User
from app.audit.models import AuditEvent
from app.demo import ACCOUNTS, DEMO_PASSWORD
from app.inventory.ledger import verify
from app.inventory.models import StockLot, StockMovement, Store
from app.notifications.models import OutboundSms
from app.patients.models import Condition, ConditionStatus, Upload
from app.patients.uploads import upload_path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
COUNTED = (User, Store, DoctorProfile, PharmacistProfile, CourierProfile, OutboundSms, AuditEvent, Condition,
           Upload, StockLot, StockMovement)


@pytest.fixture
def seed(app, db):
    runner = app.test_cli_runner()

    def run():
        result = runner.invoke(args=["seed-demo"])
        assert result.exit_code == 0, result.output
        return result.output

    return run


def counts(db) -> dict[str, int]:
    return {model.__tablename__: db.session.scalar(select(func.count()).select_from(model))
            for model in COUNTED}


def in_own_context(app, call, *args, **kwargs):
    """One request in an app context of its own, so nothing cached in flask.g leaks between browsers."""
    with app.app_context():
        return call(*args, **kwargs)


def test_seed_creates_three_stores_in_three_cities(seed, db):
    seed()
    stores = db.session.scalars(select(Store)).all()
    assert len(stores) == 3
    assert len({store.city for store in stores}) == 3
    assert all(store.is_active and store.name_zh and store.name_en for store in stores)


def test_seed_creates_exactly_one_account_per_role(seed, db):
    seed()
    by_role = dict(db.session.execute(select(User.role, func.count()).group_by(User.role)).all())
    assert by_role == dict.fromkeys(Role, 1)
    doctor = db.session.scalar(select(User).where(User.role == Role.DOCTOR))
    assert doctor.doctor_profile.is_verified
    pharmacist = db.session.scalar(select(User).where(User.role == Role.PHARMACIST))
    assert pharmacist.pharmacist_profile.home_store is not None
    assert all(user.phone_verified_at is not None for user in db.session.scalars(select(User)))


def test_seed_prints_every_login_with_the_password(seed, db):
    output = seed()
    lines = [line for line in output.splitlines() if "@" in line]
    assert len(lines) == len(Role)
    for user in db.session.scalars(select(User)):
        [line] = [line for line in lines if user.email in line]
        assert str(user.role) in line
        assert DEMO_PASSWORD in line


def test_the_demo_patient_has_a_verified_condition_with_a_pdf_proof(seed, db):
    seed()
    patient = db.session.scalar(select(User).where(User.role == Role.PATIENT))
    [condition] = db.session.scalars(select(Condition).where(Condition.patient_id == patient.id)).all()
    assert condition.status == ConditionStatus.VERIFIED and condition.reviewed_by_id is not None
    assert condition.proof.content_type == "application/pdf"
    assert upload_path(condition.proof).read_bytes().startswith(b"%PDF-")


def test_running_the_seed_twice_changes_nothing(seed, db):
    first_output = seed()
    after_first = counts(db)
    assert after_first["outbound_sms"] == 0  # demo accounts get no verification texts
    second_output = seed()
    assert counts(db) == after_first
    assert second_output == first_output


@pytest.mark.parametrize("email", [spec["email"] for spec in ACCOUNTS])
def test_each_demo_login_can_sign_in(app, seed, db, email):
    seed()
    browser = app.test_client()
    response = in_own_context(app, browser.post, "/accounts/login",
                              data={"identifier": email, "password": DEMO_PASSWORD})
    assert response.status_code == 302
    profile = in_own_context(app, browser.get, "/accounts/profile")
    assert profile.status_code == 200
    assert email in profile.get_data(as_text=True)


def test_seed_from_the_command_line_survives_a_second_run(tmp_path):
    """As `make run` does it: upgrade, then seed, twice, against a real file."""
    url = f"sqlite:///{tmp_path / 'demo.sqlite3'}"
    env = {k: v for k, v in os.environ.items() if k not in ("TEST_DATABASE_URL", "FLASK_APP")}
    env.update(APP_CONFIG="development", DATABASE_URL=url, UPLOAD_FOLDER=str(tmp_path / "uploads"))

    def flask(*args: str) -> str:
        command = [sys.executable, "-m", "flask", "--app", "wsgi.py", *args]
        result = subprocess.run(command, cwd=PROJECT_ROOT, env=env,  # noqa: S603  (fixed argv, no shell)
                                capture_output=True, text=True, timeout=180, check=False)
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    flask("db", "upgrade")
    first = flask("seed-demo")
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            before = [connection.scalar(select(func.count()).select_from(m.__table__)) for m in COUNTED]
        assert flask("seed-demo") == first
        with engine.connect() as connection:
            after = [connection.scalar(select(func.count()).select_from(m.__table__)) for m in COUNTED]
    finally:
        engine.dispose()
    assert after == before
    assert before[:2] == [len(Role), 3]  # users, stores
    assert all(spec["email"] in first for spec in ACCOUNTS)


def test_seed_stocks_each_store_fefo_ready_and_the_ledger_agrees(seed, db):
    seed()
    for store in db.session.scalars(select(Store)):
        lots = db.session.scalars(select(StockLot).where(StockLot.store_id == store.id)).all()
        assert len(lots) >= 10 and store.service_cities and store.opening_hours
        cold = [lot for lot in lots if lot.drug.is_cold_chain]
        assert bool(cold) == store.is_cold_chain_capable  # no insulin where there is no cold chain
    assert verify() == []
