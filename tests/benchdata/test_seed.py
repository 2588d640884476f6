"""`flask bench seed`: consistent bench data at a tiny scale, on every backend, that the pages show."""

import re

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.accounts.models import User
from app.benchdata import clinical
from app.benchdata.seed import AlreadySeeded, seed
from app.benchdata.tables import COLUMNS
from app.benchdata.volumes import MAX_SCALE, ScaleError, Volumes, bench_email, bench_password
from app.consultations.models import Consultation
from app.consultations.states import ConsultationStatus
from app.inventory import ledger
from app.inventory.models import StockLot
from app.limits import QUEUE_SHOWN
from app.notifications.models import OutboundSms, SmsStatus
from app.prescribing import listing
from app.prescribing.models import Prescription, PrescriptionItem
from app.prescribing.signature import content_hash, verify_signature
from app.prescribing.states import PrescriptionStatus
from app.review.models import PrescriptionReview
from app.review.states import ReviewStatus
from tests import factories

SCALE = 0.002
# The bench patient's own prescriptions, written beside the scale's.
BENCH_PRESCRIPTIONS = 5
BENCH_CONSULTATIONS = 3 + clinical.BENCH_QUEUE


def count(db, model, *criteria) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*criteria))


@pytest.fixture
def seeded(db):
    report = seed(db.session, SCALE)
    db.session.commit()
    return report


@pytest.mark.parametrize("scale", [0.002, 0.004])
def test_row_counts_follow_the_scale(db, scale):
    volumes = Volumes.at(scale)
    report = seed(db.session, scale)
    db.session.commit()
    patients = volumes.patients
    assert patients == round(10_000 * scale)
    assert count(db, User, User.role == "patient") == patients
    assert count(db, User, User.role == "doctor") == volumes.doctors
    assert count(db, User, User.role == "pharmacist") == 2 * volumes.stores
    assert count(db, User, User.role == "courier") == volumes.stores
    assert count(db, User, User.role == "admin") == 2
    assert count(db, Consultation) == volumes.consultations + BENCH_CONSULTATIONS
    assert count(db, Prescription) == volumes.prescriptions + BENCH_PRESCRIPTIONS
    assert count(db, OutboundSms) == volumes.sms == round(250_000 * scale)
    assert report.counts["audit_events"] == 10 * patients
    # Every store holds three lots of every drug (the whole shipped catalogue at a small scale).
    assert count(db, StockLot) == volumes.stores * report.counts["drugs"] * 3
    assert report.counts["drugs"] >= 200


def test_every_status_is_present(db, seeded):
    def statuses(column):
        return set(db.session.scalars(select(column).distinct()))

    assert statuses(Consultation.status) == set(ConsultationStatus)
    assert statuses(Prescription.status) == set(PrescriptionStatus)
    assert statuses(OutboundSms.status) == set(SmsStatus)
    assert statuses(PrescriptionReview.status) == set(ReviewStatus)
    assert statuses(StockLot.status) >= {"available", "expired", "quarantined"}


def test_every_foreign_key_points_at_a_row(db, seeded):
    # PostgreSQL skips the per-row key checks during the bulk load, so each key is checked here.
    for table_name in COLUMNS:
        table = db.metadata.tables[table_name]
        for key in table.foreign_keys:
            target = key.column.table.alias().c[key.column.name]  # aliased: a table may point at itself
            dangling = db.session.scalar(
                select(func.count()).select_from(table).where(
                    key.parent.is_not(None),
                    ~sa.exists(select(target).where(target == key.parent))))
            assert dangling == 0, f"{table_name}.{key.parent.name} → {target.table.name}"


def test_the_stock_ledger_verifies(db, seeded):
    assert count(db, StockLot) > 0
    assert ledger.verify() == []


def test_generated_signed_prescriptions_verify_their_signature(db, seeded):
    signed = db.session.scalars(
        select(Prescription).where(Prescription.signed_at.is_not(None))
        .options(selectinload(Prescription.items).selectinload(PrescriptionItem.drug),
                 selectinload(Prescription.condition))).all()
    assert len(signed) > 20
    assert {p.supply_category for p in signed} == {"normal", "chronic", "long"}
    assert all(verify_signature(p) for p in signed)
    # A changed line no longer matches: the check compares real content.
    signed[0].items[0].quantity_packs += 1
    assert content_hash(signed[0]) != signed[0].content_sha256
    db.session.rollback()


def test_superseded_versions_chain_to_their_successor(db, seeded):
    superseded = db.session.scalars(select(Prescription).where(
        Prescription.status == PrescriptionStatus.SUPERSEDED)).all()
    assert superseded
    for old in superseded:
        newer = db.session.scalar(select(Prescription).where(Prescription.previous_version_id == old.id))
        assert newer is not None and newer.version == old.version + 1
        assert newer.consultation_id == old.consultation_id


def sign_in(client, role: str) -> None:
    response = client.post("/accounts/login",
                           data={"identifier": bench_email(role), "password": bench_password()})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]


def ids_linked(page: str, prefix: str) -> set[int]:
    return {int(found) for found in re.findall(rf'href="{prefix}(\d+)"', page)}


def test_bench_patient_sees_their_prescriptions_and_consultations(db, client, seeded):
    patient = db.session.scalar(select(User).where(User.email == bench_email("patient")))
    current = list(db.session.scalars(select(Prescription.id).where(
        Prescription.patient_id == patient.id, Prescription.status != PrescriptionStatus.SUPERSEDED,
        Prescription.signed_at.is_not(None))
        .order_by(Prescription.created_at.desc(), Prescription.id.desc())))
    assert len(current) >= 4
    shown = set(current[:listing.PAGE_SIZE])  # the first page: the newest
    visits = set(db.session.scalars(select(Consultation.id).where(Consultation.patient_id == patient.id)))
    assert len(visits) >= 3
    sign_in(client, "patient")
    page = client.get("/prescriptions/")
    assert page.status_code == 200
    assert shown <= ids_linked(page.get_data(as_text=True), "/prescriptions/")
    page = client.get("/consultations/")
    assert page.status_code == 200
    assert visits <= ids_linked(page.get_data(as_text=True), "/consultations/")


def test_bench_doctor_has_more_waiting_than_the_queue_shows(db, client, seeded):
    doctor = db.session.scalar(select(User).where(User.email == bench_email("doctor")))
    waiting = count(db, Consultation, Consultation.doctor_id == doctor.id,
                    Consultation.status == ConsultationStatus.WAITING)
    assert waiting > QUEUE_SHOWN
    sign_in(client, "doctor")
    page = client.get("/consultations/queue").get_data(as_text=True)
    assert len(re.findall(r'class="list-group-item list-group-item-action queue-item"', page)) == QUEUE_SHOWN
    assert f'id="queue-length">{waiting}<' in page


def test_bench_pharmacist_sees_the_review_queue(db, client, seeded):
    queued = count(db, PrescriptionReview, PrescriptionReview.status == ReviewStatus.OPEN)
    assert queued > 0
    pharmacist = db.session.scalar(select(User).where(User.email == bench_email("pharmacist")))
    home = pharmacist.pharmacist_profile.home_store_id
    assert count(db, StockLot, StockLot.store_id == home) == seeded.counts["drugs"] * 3
    sign_in(client, "pharmacist")
    page = client.get("/reviews/")
    assert page.status_code == 200
    assert len(re.findall(r"data-prescription-id=", page.get_data(as_text=True))) == min(queued, QUEUE_SHOWN)


def test_a_second_seed_is_refused(db, seeded):
    patients = count(db, User, User.role == "patient")
    with pytest.raises(AlreadySeeded):
        seed(db.session, SCALE)
    assert count(db, User, User.role == "patient") == patients


@pytest.mark.parametrize("scale", [0, -1, MAX_SCALE + 0.001, 51])
def test_a_scale_out_of_range_is_refused(scale):
    with pytest.raises(ScaleError):
        Volumes.at(scale)


@pytest.mark.parametrize("scale", [0.0001, MAX_SCALE])
def test_the_scale_bounds_themselves_are_accepted(scale):
    assert Volumes.at(scale).patients >= 1
    assert Volumes.at(scale).stores <= 40


def test_cli_seeds_prints_logins_and_refuses_a_second_run(app, db):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["bench", "seed", "--scale", str(SCALE)])
    assert result.exit_code == 0, result.output
    assert bench_email("doctor") in result.output and bench_password() in result.output
    again = runner.invoke(args=["bench", "seed", "--scale", str(SCALE)])
    assert again.exit_code == 1
    assert "already holds patients" in again.output


@pytest.mark.parametrize("scale", ["0", "50.5"])
def test_cli_refuses_a_scale_out_of_range(app, db, scale):
    result = app.test_cli_runner().invoke(args=["bench", "seed", "--scale", scale])
    assert result.exit_code == 2
    assert "--scale must be above 0 and at most 50" in result.output
    assert count(db, User, User.role == "patient") == 0


def test_rows_added_after_the_seed_get_fresh_ids(db, seeded):
    # The ids were handed out by the generator; the sequences must have been moved past them.
    highest = db.session.scalar(select(func.max(User.id)))
    user = factories.make_user("doctor")
    db.session.flush()
    assert user.id > highest
