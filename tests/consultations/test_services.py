"""Consultation rules as services see them: booking checks, transitions, queue, access rule, expiry."""

from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import worker
from app.accounts.models import DoctorProfile, Role, User
from app.audit.models import AuditEvent
from app.consultations import doctor_lists, queries
from app.consultations import services as consultations
from app.consultations.models import Consultation, ConsultationMessage
from app.consultations.states import TRANSITIONS, ConsultationStatus, can_move
from app.database import claim, utcnow
from app.errors import DomainError, InvalidTransition
from app.extensions import db as _db
from app.patients.models import Condition, ConditionStatus, Upload
from app.payments.models import Payment, PaymentStatus
from app.policy import can_access_patient
from tests import factories
from tests.consultations.conftest import CallCounter

S = ConsultationStatus


def count(db, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


# ---- booking -------------------------------------------------------------------------------------

@pytest.mark.parametrize("status", [ConditionStatus.PENDING, ConditionStatus.REJECTED])
def test_a_condition_staff_have_not_verified_cannot_be_consulted_on(db, flow, status):
    condition = flow.condition(status=status)
    with pytest.raises(DomainError) as refused:
        consultations.book(condition.patient, condition_id=condition.id, doctor_id=flow.doctor().id,
                           reason="Follow-up")
    assert "verified" in str(refused.value.reasons["condition_id"])
    assert count(db, Consultation) == 0


def test_another_patients_condition_cannot_be_used(db, flow):
    someone_elses = flow.condition()
    me = factories.make_patient()
    with pytest.raises(DomainError) as refused:
        consultations.book(me, condition_id=someone_elses.id, doctor_id=flow.doctor().id, reason="Follow-up")
    assert str(refused.value.reasons["condition_id"]) == "Choose one of your own conditions."
    assert count(db, Consultation) == 0


def test_only_a_verified_active_doctor_can_be_booked(db, flow):
    condition = flow.condition()
    unverified = flow.doctor()
    unverified.doctor_profile.is_verified = False
    inactive = flow.doctor(is_active=False)
    for doctor_id in (unverified.id, inactive.id, condition.patient_id, 999_999):
        with pytest.raises(DomainError) as refused:
            consultations.book(condition.patient, condition_id=condition.id, doctor_id=doctor_id,
                               reason="Follow-up")
        assert "doctor_id" in refused.value.reasons
    assert count(db, Consultation) == 0


def test_a_booking_costs_the_doctors_fee_and_lapses_after_the_payment_window(app, db, flow):
    doctor = flow.doctor(fee_fen=4550)
    before = utcnow()
    consultation = flow.book(doctor=doctor)
    assert consultation.status == S.AWAITING_PAYMENT
    assert consultation.fee_fen == 4550 and consultation.currency == "CNY"
    window = timedelta(minutes=app.config["CONSULTATION_PAYMENT_MINUTES"])
    assert before + window <= consultation.expires_at <= utcnow() + window
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "consultation.booked")
                             ).patient_id == consultation.patient_id


def test_doctors_are_listed_with_their_queue_of_paid_consultations_only(db, flow):
    busy = flow.doctor(department="Endocrinology")
    idle = flow.doctor(department="Endocrinology")
    other = flow.doctor(department="Oncology")
    flow.paid(doctor=busy)
    flow.paid(doctor=busy)
    flow.book(doctor=busy)  # not paid: not in the queue
    listed = dict(queries.bookable_doctors("Endocrinology"))
    assert listed == {idle: 0, busy: 2}
    assert other not in listed
    assert {"Endocrinology", "Oncology"} <= set(queries.departments())


# ---- transitions ----------------------------------------------------------------------------------

def test_the_state_table_has_no_way_out_of_a_closed_consultation():
    for closed in (S.COMPLETED, S.CANCELLED, S.DECLINED, S.EXPIRED, S.REFERRED):
        assert TRANSITIONS[closed] == frozenset()
    assert can_move(S.WAITING, S.IN_PROGRESS)
    assert not can_move(S.AWAITING_PAYMENT, S.IN_PROGRESS)


def test_a_consultation_cannot_be_accepted_before_it_is_paid(db, flow):
    consultation = flow.book()
    with pytest.raises(InvalidTransition):
        consultations.accept(consultation, consultation.doctor)


def test_cancelling_after_acceptance_is_refused(db, flow):
    consultation = flow.accepted()
    with pytest.raises(InvalidTransition) as refused:
        consultations.cancel(consultation, consultation.patient)
    assert "before a doctor accepts" in str(refused.value)
    db.session.rollback()
    assert db.session.get(Consultation, consultation.id).status == S.IN_PROGRESS


def test_completing_needs_the_whole_note(db, flow):
    consultation = flow.accepted()
    consultations.save_note(consultation, consultation.doctor, complaint="Thirst", findings="",
                            assessment="Stable", plan="Continue metformin")
    with pytest.raises(DomainError):
        consultations.complete(consultation, consultation.doctor)
    consultations.save_note(consultation, consultation.doctor, complaint="Thirst", findings="HbA1c 7.1%",
                            assessment="Stable", plan="Continue metformin")
    consultations.complete(consultation, consultation.doctor)
    assert consultation.status == S.COMPLETED and consultation.ended_at is not None


def test_a_consultation_is_rated_once_with_one_to_five_stars(db, flow):
    consultation = flow.accepted()
    with pytest.raises(DomainError):
        consultations.rate(consultation, consultation.patient, 5)  # not completed yet
    consultations.save_note(consultation, consultation.doctor, complaint="a", findings="b", assessment="c",
                            plan="d")
    consultations.complete(consultation, consultation.doctor)
    with pytest.raises(DomainError):
        consultations.rate(consultation, consultation.patient, 6)
    consultations.rate(consultation, consultation.patient, 4, "Helpful")
    with pytest.raises(DomainError) as again:
        consultations.rate(consultation, consultation.patient, 1)
    assert "already rated" in str(again.value)
    assert (consultation.rating, consultation.rating_comment) == (4, "Helpful")


def test_messages_only_while_in_progress_and_polling_returns_only_newer_ones(db, flow):
    waiting = flow.paid()
    with pytest.raises(DomainError):
        consultations.post_message(waiting, waiting.patient, "Hello?")
    consultation = flow.accepted()
    first = consultations.post_message(consultation, consultation.patient, "Morning values 8.2")
    second = consultations.post_message(consultation, consultation.doctor, "Thank you")
    assert queries.messages_after(consultation, first.id) == [second]
    assert queries.messages_after(consultation) == [first, second]
    with pytest.raises(DomainError):
        consultations.post_message(consultation, consultation.patient, "   ")
    consultations.refer(consultation, consultation.doctor, "Needs an examination")
    with pytest.raises(DomainError) as closed:
        consultations.post_message(consultation, consultation.patient, "One more thing")
    assert "closed" in str(closed.value)
    assert count(db, ConsultationMessage) == 2


# ---- queue and access ------------------------------------------------------------------------------

def test_the_queue_shows_the_longest_waiting_patient_first(db, flow):
    doctor = flow.doctor()
    later, earliest, middle = flow.paid(doctor=doctor), flow.paid(doctor=doctor), flow.paid(doctor=doctor)
    now = utcnow()
    for consultation, minutes in ((later, 5), (earliest, 90), (middle, 30)):
        consultation.paid_at = now - timedelta(minutes=minutes)
    flow.paid()  # another doctor's patient
    db.session.commit()
    assert [row.id for row in doctor_lists.waiting(doctor, 50)] == [earliest.id, middle.id, later.id]


def test_a_doctor_sees_a_patient_once_their_consultation_is_paid(db, flow):
    consultation = flow.book()
    doctor, patient = consultation.doctor, consultation.patient
    stranger = factories.make_user(Role.DOCTOR)
    assert not can_access_patient(doctor, patient.id)  # unpaid: never reached the doctor
    flow.confirm(flow.pay(consultation))
    assert can_access_patient(doctor, patient.id)
    assert not can_access_patient(stranger, patient.id)
    consultations.cancel(consultation, patient)
    assert not can_access_patient(doctor, patient.id)  # cancelled before the doctor took it up


def test_a_booking_cancelled_before_payment_never_reached_the_doctor(db, flow):
    consultation = flow.book()
    consultations.cancel(consultation, consultation.patient)
    assert consultation.status == S.CANCELLED
    assert not consultations.visible_to(consultation, consultation.doctor)
    assert not can_access_patient(consultation.doctor, consultation.patient_id)


# ---- expiry ---------------------------------------------------------------------------------------

def test_the_worker_expires_due_consultations_and_releases_their_payments_once(
        app, db, flow, gateway, monkeypatch):
    unpaid = flow.book()
    pending = flow.book()
    flow.pay(pending)  # card confirmed, webhook not arrived yet
    waiting = flow.paid()
    fresh = flow.paid()
    past = utcnow() - timedelta(seconds=1)
    for consultation in (unpaid, pending, waiting):
        consultation.expires_at = past
    db.session.commit()
    due_ids = [unpaid.id, pending.id, waiting.id]
    released_ids = [flow.payment(pending).id, flow.payment(waiting).id]
    fresh_id = fresh.id
    cancels = CallCounter(monkeypatch, gateway, "cancel")

    assert worker.run_once()["expire-consultations"] == 3
    assert worker.run_once()["expire-consultations"] == 0  # (the worker ends its session each run)
    assert cancels.calls == 2  # the unpaid one had nothing to release

    assert [db.session.get(Consultation, i).status for i in due_ids] == [S.EXPIRED] * 3
    assert db.session.get(Consultation, fresh_id).status == S.WAITING
    assert flow.payment(db.session.get(Consultation, fresh_id)).status == PaymentStatus.AUTHORIZED
    for payment_id in released_ids:
        payment = db.session.get(Payment, payment_id)
        assert payment.status == PaymentStatus.CANCELED
        assert flow.intent(payment)["status"] == "canceled"


def test_a_payment_arriving_after_expiry_cannot_revive_the_consultation(db, flow):
    consultation = flow.book()
    payment = flow.pay(consultation)
    consultation.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    consultations.expire_due(10)
    db.session.commit()
    flow.confirm(payment)  # the authorization event comes before the release was sent
    assert db.session.get(Consultation, consultation.id).status == S.EXPIRED
    flow.settle(consultation)  # the worker performs the release
    db.session.refresh(payment)
    assert payment.status == PaymentStatus.CANCELED
    assert flow.intent(payment)["status"] == "canceled"


# ---- several workers (PostgreSQL row locks) ----------------------------------------------------------

def _committed_rows(app) -> dict:
    """Rows committed for real (other connections must see them), inserted raw so no audit row ties
    them down: a patient, a doctor, a verified condition and three due consultations, one with a payment."""
    now = utcnow()
    tag = f"{now.timestamp():.6f}"
    with app.app_context(), _db.engine.begin() as connection:
        def insert(model, **values):
            table = model.__table__
            key = next(iter(table.primary_key)).name
            return connection.execute(sa.insert(table).returning(table.c[key]), values).scalar_one()

        person = dict(password_hash="x", locale="en", time_zone="Asia/Shanghai", is_active=True,
                      auth_version=1, created_at=now)
        patient = insert(User, email=f"lock-patient-{tag}@example.com", role="patient", display_name="P",
                         **person)
        doctor = insert(User, email=f"lock-doctor-{tag}@example.com", role="doctor", display_name="D",
                        **person)
        insert(DoctorProfile, user_id=doctor, licence_number=f"LOCK-{tag}", department="Cardiology",
               consultation_fee_fen=3000, is_verified=True)
        upload = insert(Upload, patient_id=patient, uploaded_by_id=patient, purpose="condition_proof",
                        storage_key=f"lock/{tag}.pdf", content_type="application/pdf", size_bytes=10,
                        sha256="0" * 64, original_name="proof.pdf", created_at=now)
        condition = insert(Condition, patient_id=patient, icd10_code="I10", name="Hypertension",
                           hospital="H", diagnosed_on=now.date(), proof_upload_id=upload, status="verified",
                           created_at=now)
        ids = [insert(Consultation, patient_id=patient, doctor_id=doctor, condition_id=condition,
                      reason="r", status="waiting", fee_fen=3000, currency="CNY", created_at=now,
                      paid_at=now, expires_at=now - timedelta(minutes=10 - n)) for n in range(3)]
        payment = insert(Payment, payable_type="consultation", payable_id=ids[2], patient_id=patient,
                         amount_fen=3000, currency="CNY", method_type="card", capture_method="manual",
                         status="pending", amount_refunded_fen=0, created_at=now)
    return dict(users=[patient, doctor], upload=upload, condition=condition, consultations=ids,
                payment=payment)


def _remove(app, rows: dict) -> None:
    with app.app_context(), _db.engine.begin() as connection:
        for table, column, values in [
            (Payment.__table__, "id", [rows["payment"]]),
            (Consultation.__table__, "id", rows["consultations"]),
            (Condition.__table__, "id", [rows["condition"]]),
            (Upload.__table__, "id", [rows["upload"]]),
            (DoctorProfile.__table__, "user_id", rows["users"]),
            (User.__table__, "id", rows["users"]),
        ]:
            connection.execute(sa.delete(table).where(table.c[column].in_(values)))


@pytest.mark.postgres_only
def test_the_expiry_job_skips_rows_another_worker_or_a_webhook_holds(app):
    rows = _committed_rows(app)
    first, second, with_payment = rows["consultations"]
    try:
        with app.app_context(), Session(_db.engine) as other_worker, Session(_db.engine) as webhook:
            # Another worker has claimed the oldest due row; a webhook is applying the third one's payment.
            claimed = other_worker.scalars(claim(consultations.due_for_expiry(1), "postgresql")).all()
            assert [c.id for c in claimed] == [first]
            webhook.execute(sa.select(Payment.id).where(Payment.id == rows["payment"]).with_for_update())

            # Without SKIP LOCKED this worker would wait: fail fast instead of hanging.
            _db.session.execute(sa.text("SET LOCAL lock_timeout = '3s'"))
            assert consultations.expire_due(10) == 1
            statuses = dict(_db.session.execute(sa.select(Consultation.id, Consultation.status)
                                                .where(Consultation.id.in_(rows["consultations"]))).all())
            assert statuses == {first: S.WAITING, second: S.EXPIRED, with_payment: S.WAITING}
            _db.session.rollback()  # leave no audit rows behind: they could never be deleted
            _db.session.remove()
            other_worker.rollback()
            webhook.rollback()
    finally:
        _remove(app, rows)
