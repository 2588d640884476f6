"""Stripe webhooks: verified signatures only, each event applied once, unknown payments acknowledged."""

from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.payments import services as payments
from app.payments.models import Payment, PaymentStatus, StripeEvent
from tests import factories
from tests.payments.conftest import TEST_PAYABLE, intent_event


def pending_payment(db, amount=3000):
    patient = factories.make_patient()
    payment = payments.create_payment(payable_type=TEST_PAYABLE, payable_id=patient.id, patient=patient,
                                      amount_fen=amount)
    payments.attach_intent(payment, "pm_card_visa")
    db.session.commit()
    return payment


def as_intent(payment, status="requires_capture", **extra):
    return {"id": payment.stripe_payment_intent_id, "object": "payment_intent", "status": status,
            "amount": payment.amount_fen, "currency": "cny",
            "metadata": {"payment_id": str(payment.id), "payable": f"{TEST_PAYABLE}:{payment.payable_id}"},
            **extra}


def test_an_authorization_event_marks_the_payment_authorized_and_tells_the_payable(db, deliver, payable):
    payment = pending_payment(db)
    response = deliver(intent_event(as_intent(payment), "payment_intent.amount_capturable_updated", "evt_1"))
    assert response.status_code == 200
    db.session.refresh(payment)
    assert payment.status == PaymentStatus.AUTHORIZED
    assert payable.paid == [payment.id]


def test_the_same_event_delivered_twice_changes_things_once(db, deliver, payable):
    payment = pending_payment(db)
    event = intent_event(as_intent(payment, "succeeded"), "payment_intent.succeeded", "evt_twice")
    assert deliver(event).get_json()["outcome"] == "applied"
    assert deliver(event).get_json()["outcome"] == "duplicate"
    db.session.refresh(payment)
    assert payment.status == PaymentStatus.CAPTURED
    assert payable.paid == [payment.id]
    assert db.session.scalar(select(func.count()).select_from(StripeEvent)
                             .where(StripeEvent.event_id == "evt_twice")) == 1
    captured_audits = db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "payment.captured", AuditEvent.object_id == str(payment.id)))
    assert captured_audits == 1


def test_a_forged_signature_is_refused_and_changes_nothing(db, deliver, payable):
    payment = pending_payment(db)
    event = intent_event(as_intent(payment, "succeeded"), "payment_intent.succeeded", "evt_forged")
    response = deliver(event, secret="whsec_someone_else")
    assert response.status_code == 400
    db.session.refresh(payment)
    assert payment.status == PaymentStatus.PENDING
    assert payable.paid == []
    assert db.session.scalar(select(StripeEvent).where(StripeEvent.event_id == "evt_forged")) is None


def test_a_body_changed_after_signing_is_refused(db, client, app, payable):
    from tests.payments.conftest import sign

    payment = pending_payment(db)
    header = sign('{"id": "evt_x"}', app.config["STRIPE_WEBHOOK_SECRET"])
    response = client.post("/payments/webhooks/stripe", data='{"id": "evt_y"}',
                           headers={"Stripe-Signature": header})
    assert response.status_code == 400
    db.session.refresh(payment)
    assert payment.status == PaymentStatus.PENDING


def test_an_event_for_an_unknown_payment_intent_is_acknowledged_and_changes_nothing(db, deliver, payable):
    unknown = {"id": "pi_not_ours", "object": "payment_intent", "status": "succeeded", "amount": 100,
               "currency": "cny", "metadata": {}}
    response = deliver(intent_event(unknown, "payment_intent.succeeded", "evt_unknown"))
    assert response.status_code == 200
    assert response.get_json()["outcome"] == "unknown payment"
    assert payable.paid == []


def test_an_event_whose_amount_does_not_match_is_ignored(db, deliver, payable):
    payment = pending_payment(db)
    tampered = as_intent(payment, "succeeded") | {"amount": 1}
    assert deliver(intent_event(tampered, "payment_intent.succeeded", "evt_amount")).get_json()["outcome"] \
        == "mismatch"
    db.session.refresh(payment)
    assert payment.status == PaymentStatus.PENDING
    assert payable.paid == []


def test_a_late_authorization_cannot_reopen_a_cancelled_payment(db, deliver, payable):
    payment = pending_payment(db)
    payments.release(payment, "cancelled")
    db.session.commit()
    deliver(intent_event(as_intent(payment), "payment_intent.amount_capturable_updated", "evt_late"))
    db.session.refresh(payment)
    assert payment.status == PaymentStatus.CANCELED
    assert payable.paid == []


def test_an_event_that_overtakes_the_stored_intent_id_is_matched_by_our_metadata(db, deliver, payable):
    patient = factories.make_patient()
    payment = payments.create_payment(payable_type=TEST_PAYABLE, payable_id=patient.id, patient=patient,
                                      amount_fen=3000)
    db.session.commit()
    intent = {"id": "pi_fast", "object": "payment_intent", "status": "requires_capture", "amount": 3000,
              "currency": "cny", "metadata": {"payment_id": str(payment.id),
                                              "payable": f"{TEST_PAYABLE}:{patient.id}"}}
    deliver(intent_event(intent, "payment_intent.amount_capturable_updated", "evt_fast"))
    stored = db.session.get(Payment, payment.id)
    db.session.refresh(stored)
    assert stored.stripe_payment_intent_id == "pi_fast"
    assert stored.status == PaymentStatus.AUTHORIZED
