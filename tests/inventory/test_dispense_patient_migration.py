"""Upgrading a database that already has dispense rows fills in their patient from the audit log, keeps
the ledger append-only, and refuses to start when a dispense row's patient cannot be found."""

import uuid

import pytest
import sqlalchemy as sa

from app import create_app
from app.accounts.models import Role
from app.extensions import db
from app.inventory import services
from tests import factories
from tests.inventory.conftest import AMLODIPINE, in_days
from tests.prescribing.conftest import load_shipped_rows
from tests.test_migrations import NO_DRIFT, assert_ok, flask_db

BEFORE = "b9e73ca62d32"  # the stock ledger, before dispense rows named their patient


def dispense_twice(url: str) -> list[int]:
    """At head: two patients are handed amlodipine; returns their ids in order."""
    application = create_app("testing", {"SQLALCHEMY_DATABASE_URI": url})
    with application.app_context():
        drug = load_shipped_rows(db, (AMLODIPINE,))[AMLODIPINE]
        store = factories.make_store()
        pharmacist = factories.make_user(Role.PHARMACIST)
        services.receive(store, drug, "MIG-1", in_days(300), 5, 1500, pharmacist)
        patients = [factories.make_patient(), factories.make_patient()]
        for order, patient in enumerate(patients, start=1):
            services.reserve(store, {drug: 1}, 30, ("order", order), pharmacist)
            services.dispense(store, {drug: 1}, ("order", order), pharmacist, patient=patient)
        db.session.commit()
        ids = [patient.id for patient in patients]
        db.session.remove()
        db.engine.dispose()
    return ids


def dispense_patients(url: str) -> list:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(sa.text(
                "SELECT patient_id FROM stock_movements WHERE kind = 'dispense' ORDER BY id")).scalars().all()
    finally:
        engine.dispose()


def check_round_trip(url: str) -> None:
    assert_ok(flask_db(url, "upgrade"))
    patients = dispense_twice(url)
    assert dispense_patients(url) == patients
    assert_ok(flask_db(url, "downgrade", BEFORE))  # the column goes; the rows and audit events stay
    assert_ok(flask_db(url, "upgrade"))
    assert dispense_patients(url) == patients
    check = flask_db(url, "check")
    assert_ok(check)
    assert NO_DRIFT in check.output
    engine = sa.create_engine(url)
    try:
        with pytest.raises(sa.exc.DatabaseError, match="append-only"), engine.begin() as connection:
            connection.execute(sa.text("UPDATE stock_movements SET patient_id = NULL"))
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as connection:
            connection.execute(sa.text(
                "INSERT INTO stock_movements (lot_id, kind, quantity, reserved_change, note, reference_type, "
                "reference_id, created_at) SELECT lot_id, kind, quantity, reserved_change, note, "
                "reference_type, reference_id, created_at FROM stock_movements WHERE kind = 'dispense' "
                "LIMIT 1"))
    finally:
        engine.dispose()

    assert_ok(flask_db(url, "downgrade", BEFORE))
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:  # a dispense row nobody audited
            connection.execute(sa.text(
                "INSERT INTO stock_movements (lot_id, kind, quantity, reserved_change, note, reference_type, "
                "reference_id, created_at) SELECT lot_id, kind, quantity, reserved_change, note, "
                "'order', 999, created_at FROM stock_movements WHERE kind = 'dispense' LIMIT 1"))
    finally:
        engine.dispose()
    refused = flask_db(url, "upgrade")
    assert refused.returncode != 0
    assert "1 dispense ledger row(s) have no audit event naming the patient" in refused.output
    engine = sa.create_engine(url)
    try:
        assert "lot_recalls" not in sa.inspect(engine).get_table_names()  # nothing half-done
    finally:
        engine.dispose()


def test_upgrading_names_the_patient_of_every_existing_dispense_row_on_sqlite(tmp_path):
    check_round_trip(f"sqlite:///{tmp_path / 'dispensed.sqlite3'}")


@pytest.mark.postgres_only
def test_upgrading_names_the_patient_of_every_existing_dispense_row_on_postgresql(database_url):
    server = sa.make_url(database_url)
    scratch = f"scratch_dispense_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{scratch}"'))
        check_round_trip(server.set(database=scratch).render_as_string(hide_password=False))
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)'))
        admin.dispose()
