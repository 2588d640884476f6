"""The home page: a patient sees the next step of every stage of their journey; staff see their queues."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.accounts.models import Role
from app.audit.models import AuditEvent
from app.consultations import services as consultations
from app.extensions import db as _db
from app.inventory.models import LotStatus, StockLot
from app.patients.models import ConditionStatus
from tests import factories
from tests.main.conftest import decide, sign
from tests.main.test_queues import StatementCounter


def steps(page: str) -> list[str]:
    return re.findall(r'data-next-step="(\w+)"', page)


def home_of(as_user, patient) -> str:
    response = as_user(patient).get("/")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_an_unverified_phone_comes_first(db, as_user):
    patient = factories.make_patient(phone_verified_at=None)
    page = home_of(as_user, patient)
    assert steps(page)[0] == "verify_phone"
    assert 'href="/accounts/verify-phone"' in page


def test_a_patient_without_a_condition_is_asked_to_record_one(db, as_user):
    page = home_of(as_user, factories.make_patient())
    assert steps(page) == ["add_condition"]
    assert "Record your condition" in page


def test_a_condition_awaiting_verification_says_so(flow, as_user):
    condition = flow.condition(status=ConditionStatus.PENDING)
    page = home_of(as_user, condition.patient)
    assert steps(page) == ["condition_pending"]
    assert "awaiting verification" in page


def test_a_verified_condition_offers_booking(flow, as_user):
    condition = flow.condition()
    assert steps(home_of(as_user, condition.patient)) == ["book"]


def test_an_unpaid_consultation_asks_for_payment(flow, as_user):
    consultation = flow.book()
    page = home_of(as_user, consultation.patient)
    assert steps(page) == ["pay"]
    assert f'href="/consultations/{consultation.id}/pay"' in page


def test_a_paid_consultation_waits_for_the_doctor(flow, as_user):
    consultation = flow.paid()
    page = home_of(as_user, consultation.patient)
    assert steps(page) == ["wait_doctor"]
    assert f"Waiting for {consultation.doctor.display_name} to accept" in page


def test_an_accepted_consultation_asks_for_a_reply_in_the_chat(flow, as_user):
    consultation = flow.accepted()
    page = home_of(as_user, consultation.patient)
    assert steps(page) == ["chat"]
    assert f'href="/consultations/{consultation.id}"' in page


def test_a_completed_consultation_asks_for_a_rating_until_rated(flow, as_user):
    consultation = flow.accepted()
    note = dict.fromkeys(consultations.NOTE_FIELDS, "Stable.")
    consultations.save_note(consultation, consultation.doctor, **note)
    consultations.complete(consultation, consultation.doctor)
    _db.session.commit()
    assert steps(home_of(as_user, consultation.patient)) == ["rate"]
    consultations.rate(consultation, consultation.patient, 5)
    _db.session.commit()
    assert steps(home_of(as_user, consultation.patient)) == ["book"]


def test_a_signed_prescription_waits_for_the_pharmacist(visit, as_user):
    sign(visit)
    page = home_of(as_user, visit.patient)
    assert steps(page) == ["chat", "awaiting_review"]
    assert "waiting for a pharmacist" in page


def test_an_approved_prescription_says_ordering_is_not_open_yet(visit, pharmacist, as_user):
    prescription = decide(sign(visit, duration_days=28), pharmacist)
    page = home_of(as_user, visit.patient)
    assert "approved" in steps(page) and "awaiting_review" not in steps(page)
    assert "Ordering your medicines from a store is not open yet" in page
    days_supply = prescription.items[0].days_supply
    assert f'data-days-left="{days_supply}"' in page
    assert "an estimate" in page


def _approved_days_ago(visit, pharmacist, days_left: int):
    prescription = decide(sign(visit, duration_days=28), pharmacist)
    shift = prescription.items[0].days_supply - days_left
    prescription.review.decided_at = prescription.review.decided_at - timedelta(days=shift)
    _db.session.commit()
    return prescription


@pytest.mark.parametrize(("days_left", "refill"), [(8, False), (7, True), (6, True), (0, True)])
def test_a_refill_is_offered_at_seven_days_of_supply_left(visit, pharmacist, as_user, days_left, refill):
    prescription = _approved_days_ago(visit, pharmacist, days_left)
    page = home_of(as_user, visit.patient)
    assert f'data-days-left="{days_left}"' in page
    assert ("refill" in steps(page)) is refill
    assert ("Book a follow-up for a refill" in page) is refill
    if refill:
        assert f'href="/consultations/new?condition_id={prescription.condition_id}"' in page


def test_the_latest_approval_of_a_drug_decides_its_days_left(visit, pharmacist, as_user):
    _approved_days_ago(visit, pharmacist, 3)
    decide(sign(visit, duration_days=28), pharmacist)  # a refill approved today
    page = home_of(as_user, visit.patient)
    assert len(re.findall(r"data-days-left=", page)) == 1
    assert "refill" not in steps(page)


def test_the_home_reads_in_chinese(visit, pharmacist, as_user):
    _approved_days_ago(visit, pharmacist, 5)
    visit.patient.locale = "zh"
    page = home_of(as_user, visit.patient)
    assert "预约复诊续方" in page
    assert "Book a follow-up" not in page and "What to do next" not in page


def test_a_patients_home_is_audited_once_with_a_fixed_sql_budget(visit, pharmacist, as_user):
    browser = as_user(visit.patient)
    decide(sign(visit), pharmacist)

    def measured():
        _db.session.expire_all()  # as in production: every request starts with nothing loaded
        with StatementCounter(_db.engine) as sql:
            assert browser.get("/").status_code == 200
        return sql.count

    viewed = select(func.count(AuditEvent.id)).where(AuditEvent.action == "home.viewed",
                                                     AuditEvent.patient_id == visit.patient.id)
    before = _db.session.scalar(viewed)
    small = measured()
    for _ in range(3):
        decide(sign(visit, "METFORMIN-500MG-TAB"), pharmacist)
    sign(visit)
    assert measured() == small
    assert small <= 12
    assert _db.session.scalar(viewed) - before == 2  # one row per view of the home


# ---- staff ----------------------------------------------------------------------------------------

def counts(page: str) -> dict[str, str]:
    return dict(re.findall(r'data-home-count="(\w+)".*?<span[^>]*>(\d+)</span>', page, re.S))


def test_a_doctors_home_counts_their_queue(flow, as_user):
    doctor = flow.doctor()
    flow.paid(doctor=doctor)
    flow.condition(status=ConditionStatus.PENDING)
    page = as_user(doctor).get("/").get_data(as_text=True)
    found = counts(page)
    assert found["consultations"] == "1" and found["returned"] == "0"
    assert int(found["conditions"]) >= 1
    assert 'href="/consultations/queue"' in page


def test_a_pharmacists_home_counts_reviews_and_stock_alerts(visit, pharmacist, as_user):
    sign(visit)
    store = pharmacist.pharmacist_profile.home_store
    drug = visit.drugs["AMLODIPINE-5MG-TAB"]
    today = store.today()
    for number, status, expiry in (("Q1", LotStatus.QUARANTINED, today + timedelta(days=300)),
                                   ("E1", LotStatus.AVAILABLE, today + timedelta(days=30)),
                                   ("E2", LotStatus.AVAILABLE, today + timedelta(days=31))):
        _db.session.add(StockLot(store_id=store.id, drug_id=drug.id, lot_number=number, expiry_date=expiry,
                                 quantity_on_hand=5, status=status, unit_cost_fen=100))
    _db.session.commit()
    found = counts(as_user(pharmacist).get("/").get_data(as_text=True))
    assert found["review"] == "1"
    assert found["quarantined"] == "1"
    assert found["expiring"] == "1"  # 30 days is in, 31 is out


@pytest.mark.parametrize("role", [Role.ADMIN, Role.COURIER])
def test_other_staff_homes_open(client, login_as, role):
    login_as(role)
    page = client.get("/").get_data(as_text=True)
    assert 'id="home-queues"' in page
