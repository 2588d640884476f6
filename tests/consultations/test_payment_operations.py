"""Money moves after the commit, exactly once, even when Stripe does not answer; reconcile repairs
what a lost webhook left. Faults are real: localstripe hangs the request (it never arrives) or does
the work and never answers, and the gateway's HTTP client times out."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from app.audit.models import AuditEvent
from app.consultations.models import Consultation
from app.consultations.states import ConsultationStatus
from app.database import utcnow
from app.payments import operations
from app.payments.models import OperationKind, OperationStatus, Payment, PaymentOperation, PaymentStatus
from tests.payments.conftest import impatient_gateway, stripe_control  # noqa: F401

S = ConsultationStatus
FAULTS = ["hang", "lose_answer"]  # the request never reaches Stripe / Stripe did it, the answer is lost
# What localstripe saw of the call: the retry is the first real one, or the same key gets the same answer.
SEEN = {"hang": ["hung", "processed"], "lose_answer": ["processed", "answer lost", "replayed"]}


def text(response) -> str:
    return response.get_data(as_text=True)


def reload(db, model, row_id):
    db.session.expire_all()
    return db.session.get(model, row_id)


def operation_of(db, payment_id: int, kind: OperationKind) -> PaymentOperation:
    return db.session.scalar(select(PaymentOperation).where(PaymentOperation.payment_id == payment_id,
                                                           PaymentOperation.kind == kind))


def a_minute_later():
    """The worker's next sweep once the first retry delay (30 s) has passed."""
    return utcnow() + timedelta(minutes=1)


@pytest.mark.parametrize("fault", FAULTS)
def test_the_capture_follows_the_acceptance_and_happens_once_though_stripe_timed_out_once(
        db, flow, as_user, stripe_control, impatient_gateway, fault):  # noqa: F811
    consultation = flow.paid()
    payment_id = flow.payment(consultation).id
    intent_id = flow.payment(consultation).stripe_payment_intent_id
    stripe_control.fault(rf"/v1/payment_intents/{intent_id}/capture$", fault)

    page = text(as_user(consultation.doctor).post(f"/consultations/{consultation.id}/accept",
                                                  follow_redirects=True))

    # The doctor is not held up: accepted at once, the fee follows.
    assert ("Consultation accepted. The consultation fee will be taken from the patient&#39;s card "
            "shortly.") in page
    assert reload(db, Consultation, consultation.id).status == S.IN_PROGRESS
    payment = reload(db, Payment, payment_id)
    assert payment.status == PaymentStatus.AUTHORIZED
    capture = operation_of(db, payment_id, OperationKind.CAPTURE)
    assert (capture.status, capture.attempts) == (OperationStatus.PENDING, 1)
    assert capture.last_error and capture.next_attempt_at > utcnow()
    assert operations.perform_due(10) == 0  # not before its retry time

    assert operations.perform_due(10, now=a_minute_later()) == 1
    assert operations.perform_due(10, now=a_minute_later()) == 0
    payment = reload(db, Payment, payment_id)
    assert payment.status == PaymentStatus.CAPTURED
    assert flow.intent(payment)["status"] == "succeeded"
    assert [entry["outcome"] for entry in stripe_control.seen(rf"{intent_id}/capture$")] == SEEN[fault]
    capture = operation_of(db, payment_id, OperationKind.CAPTURE)
    assert (capture.status, capture.attempts) == (OperationStatus.DONE, 2)
    patient_page = text(as_user(consultation.patient).get(f"/consultations/{consultation.id}"))
    assert 'id="payment-status">Paid<' in patient_page


@pytest.mark.parametrize("fault", FAULTS)
def test_the_refund_follows_the_referral_and_happens_once_though_stripe_timed_out_once(
        db, flow, as_user, stripe_control, impatient_gateway, fault):  # noqa: F811
    consultation = flow.accepted()
    payment_id = flow.payment(consultation).id
    intent_id = flow.payment(consultation).stripe_payment_intent_id
    stripe_control.fault(r"^/v1/refunds$", fault)

    doctor = as_user(consultation.doctor)
    page = text(doctor.post(f"/consultations/{consultation.id}/refer",
                            data={"reason": "Needs an examination"}, follow_redirects=True))

    assert "the fee will be refunded shortly" in page
    assert reload(db, Consultation, consultation.id).status == S.REFERRED
    payment = reload(db, Payment, payment_id)
    assert payment.status == PaymentStatus.CAPTURED and payment.refunds == []
    patient_page = text(as_user(consultation.patient).get(f"/consultations/{consultation.id}"))
    assert "The consultation fee is being refunded." in patient_page

    assert operations.perform_due(10, now=a_minute_later()) == 1
    assert operations.perform_due(10, now=a_minute_later()) == 0
    payment = reload(db, Payment, payment_id)
    assert payment.status == PaymentStatus.REFUNDED
    assert payment.amount_refunded_fen == payment.amount_fen
    at_stripe = flow.stripe.v1.refunds.list(params={"payment_intent": intent_id}).data
    assert [refund.amount for refund in at_stripe] == [payment.amount_fen]
    assert [(r.stripe_refund_id, r.amount_fen) for r in payment.refunds] == [
        (at_stripe[0].id, payment.amount_fen)]
    assert [entry["outcome"] for entry in stripe_control.seen(r"^/v1/refunds$")] == SEEN[fault]
    refund = operation_of(db, payment_id, OperationKind.REFUND)
    assert refund.idempotency_key == f"payment-{payment_id}-refund-{refund.id}"
    assert "examination" not in refund.idempotency_key  # never from the reason text


def test_without_a_fault_the_money_moves_in_the_same_request_after_the_commit(
        db, flow, as_user, stripe_control):  # noqa: F811
    consultation = flow.paid()
    payment = flow.payment(consultation)
    page = text(as_user(consultation.patient).post(f"/consultations/{consultation.id}/cancel",
                                                   follow_redirects=True))
    assert "Any amount held on your card has been released." in page
    assert reload(db, Payment, payment.id).status == PaymentStatus.CANCELED
    seen = stripe_control.seen(rf"{payment.stripe_payment_intent_id}/cancel$")
    assert [entry["outcome"] for entry in seen] == ["processed"]


def test_a_capture_stripe_refuses_for_good_leaves_the_consultation_going_and_tells_operations(
        db, flow, as_user):
    consultation = flow.paid()
    payment = flow.payment(consultation)
    # The authorization lapsed at Stripe meanwhile (as a 7-day-old one does): capture is refused.
    flow.stripe.v1.payment_intents.cancel(payment.stripe_payment_intent_id)

    page = text(as_user(consultation.doctor).post(f"/consultations/{consultation.id}/accept",
                                                  follow_redirects=True))

    assert "Consultation accepted." in page
    assert reload(db, Consultation, consultation.id).status == S.IN_PROGRESS
    payment = reload(db, Payment, payment.id)
    assert payment.status == PaymentStatus.CANCELED  # what Stripe says it is: nothing was taken
    capture = operation_of(db, payment.id, OperationKind.CAPTURE)
    assert capture.status == OperationStatus.FAILED and capture.last_error
    assert operations.failed_operations() == [capture]
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "payment.operation_failed", AuditEvent.object_id == str(payment.id))) == 1


def test_an_operation_stripe_never_answers_is_given_up_after_the_last_attempt(
        app, db, flow, as_user, stripe_control, impatient_gateway, monkeypatch):  # noqa: F811
    monkeypatch.setitem(app.config, "PAYMENT_OPERATION_MAX_ATTEMPTS", 2)
    consultation = flow.paid()
    payment = flow.payment(consultation)
    stripe_control.fault(rf"{payment.stripe_payment_intent_id}/cancel$", "hang", times=2)
    as_user(consultation.patient).post(f"/consultations/{consultation.id}/cancel")
    assert operations.perform_due(10, now=a_minute_later()) == 1
    cancel = operation_of(db, payment.id, OperationKind.CANCEL)
    assert (cancel.status, cancel.attempts) == (OperationStatus.FAILED, 2)
    assert reload(db, Payment, payment.id).status == PaymentStatus.AUTHORIZED  # still held: for staff


# ---- reconcile ---------------------------------------------------------------------------------------

def age(db, payment, minutes: int) -> None:
    db.session.execute(update(Payment).where(Payment.id == payment.id)
                       .values(created_at=utcnow() - timedelta(minutes=minutes)))
    db.session.commit()


def test_flask_payments_reconcile_repairs_a_payment_whose_webhook_never_came(app, db, flow, as_user):
    consultation = flow.book()
    payment = flow.pay(consultation)  # the card is held at Stripe; the webhook is lost
    assert flow.intent(payment)["status"] == "requires_capture"
    patient = as_user(consultation.patient)
    assert "We are confirming your payment" in text(patient.get(f"/consultations/{consultation.id}"))

    age(db, payment, 9)
    result = app.test_cli_runner().invoke(args=["payments", "reconcile"])
    assert result.exit_code == 0, result.output
    assert reload(db, Consultation, consultation.id).status == S.AWAITING_PAYMENT  # too recent to ask

    age(db, payment, app.config["PAYMENT_RECONCILE_MINUTES"] + 1)
    result = app.test_cli_runner().invoke(args=["payments", "reconcile"])
    assert result.exit_code == 0, result.output
    assert "1 payment(s)" in result.output
    consultation = reload(db, Consultation, consultation.id)
    assert consultation.status == S.WAITING and consultation.paid_at is not None
    assert reload(db, Payment, payment.id).status == PaymentStatus.AUTHORIZED
    assert "in the doctor's queue" in text(patient.get(f"/consultations/{consultation.id}"))
    assert "0 payment(s)" in app.test_cli_runner().invoke(args=["payments", "reconcile"]).output  # once


def test_reconcile_releases_the_card_of_a_consultation_that_closed_while_its_webhook_was_lost(
        app, db, flow, as_user, stripe_control, impatient_gateway):  # noqa: F811
    consultation = flow.book()
    payment = flow.pay(consultation)  # held at Stripe, webhook lost
    stripe_control.fault(rf"{payment.stripe_payment_intent_id}/cancel$", "hang")
    as_user(consultation.patient).post(f"/consultations/{consultation.id}/cancel")  # Stripe does not answer
    assert reload(db, Payment, payment.id).status == PaymentStatus.PENDING
    age(db, payment, app.config["PAYMENT_RECONCILE_MINUTES"] + 1)

    operations.reconcile(10, now=a_minute_later())

    assert reload(db, Consultation, consultation.id).status == S.CANCELLED
    payment = reload(db, Payment, payment.id)
    assert payment.status == PaymentStatus.CANCELED
    assert flow.intent(payment)["status"] == "canceled"
    assert len(stripe_control.seen(rf"{payment.stripe_payment_intent_id}/cancel$", "processed")) == 1


def test_reconcile_closes_a_payment_whose_intent_was_never_stored_so_the_patient_can_pay_again(
        app, db, flow, as_user):
    from app.consultations import services as consultations

    consultation = flow.book()
    payment = consultations.start_payment(consultation)  # the request died before Stripe was asked
    db.session.commit()
    patient = as_user(consultation.patient)
    card = {"method_type": "card", "test_card": "pm_card_visa"}
    age(db, payment, app.config["PAYMENT_RECONCILE_MINUTES"] + 1)

    operations.reconcile(10)

    assert reload(db, Payment, payment.id).status == PaymentStatus.CANCELED
    assert patient.post(f"/consultations/{consultation.id}/pay", data=card).status_code == 303
    payments = db.session.scalars(select(Payment).where(Payment.payable_id == consultation.id)
                                  .order_by(Payment.id)).all()
    assert [p.status for p in payments] == [PaymentStatus.CANCELED, PaymentStatus.PENDING]

