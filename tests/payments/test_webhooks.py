"""Stripe webhooks: verified signatures only, each event applied once, unknown payments acknowledged."""

import json

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.payments import operations
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
    operations.perform_due(10)  # the release is sent after the commit
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


def _signed_post(client, app, body: str):
    from tests.payments.conftest import sign

    signature = sign(body, app.config["STRIPE_WEBHOOK_SECRET"])
    return client.post("/payments/webhooks/stripe", data=body,
                       headers={"Stripe-Signature": signature, "Content-Type": "application/json"})


def _nothing_recorded(db, payment) -> None:
    db.session.refresh(payment)
    assert payment.status == PaymentStatus.PENDING
    assert db.session.scalar(select(func.count()).select_from(StripeEvent)) == 0


def test_finding_7_a_signed_webhook_whose_body_is_an_array_is_refused_with_400(db, client, app, payable):
    payment = pending_payment(db)
    event = intent_event(as_intent(payment, "succeeded"), "payment_intent.succeeded", "evt_in_array")
    for body in ("[]", json.dumps([event]), '"evt_1"', "17", "null"):
        response = _signed_post(client, app, body)
        assert response.status_code == 400, body
        assert response.get_json() == {"error": "malformed event"}
    _nothing_recorded(db, payment)
    assert payable.paid == []


@pytest.mark.parametrize("event_id", [None, "", 17, ["evt_1"], {"id": "evt_1"}, "e" * 256],
                         ids=["missing", "empty", "number", "array", "object", "too long"])
def test_finding_7_a_signed_event_without_a_usable_id_is_refused_with_400(db, client, app, payable, event_id):
    payment = pending_payment(db)
    event = intent_event(as_intent(payment, "succeeded"), "payment_intent.succeeded", "x")
    if event_id is None:
        del event["id"]
    else:
        event["id"] = event_id
    response = _signed_post(client, app, json.dumps(event))
    assert response.status_code == 400
    _nothing_recorded(db, payment)


@pytest.mark.parametrize("data", [
    None, "pi_123", ["pi_123"], {"object": "pi_123"}, {"object": ["pi_123"]}, {"object": 7}, {},
    {"object": {"object": "payment_intent"}},
], ids=["no data", "data a string", "data an array", "object a string", "object an array", "object a number",
        "no object", "object without id"])
def test_finding_7_a_signed_event_whose_data_object_is_not_an_object_is_refused_with_400(
        db, client, app, payable, data):
    payment = pending_payment(db)
    event = intent_event(as_intent(payment, "succeeded"), "payment_intent.succeeded", "evt_bad_data")
    if data is None:
        del event["data"]
    else:
        event["data"] = data
    response = _signed_post(client, app, json.dumps(event))
    assert response.status_code == 400
    _nothing_recorded(db, payment)


@pytest.mark.parametrize("change", [
    {"amount": "3000"}, {"amount": 1e30}, {"metadata": ["payment_id"]}, {"status": ["succeeded"]},
], ids=["amount a string", "amount a float", "metadata an array", "status an array"])
def test_finding_7_fields_of_the_wrong_type_in_a_signed_event_are_refused_with_400(
        db, client, app, payable, change):
    payment = pending_payment(db)
    event = intent_event(as_intent(payment, "succeeded") | change, "payment_intent.succeeded", "evt_types")
    assert _signed_post(client, app, json.dumps(event)).status_code == 400
    _nothing_recorded(db, payment)


@pytest.mark.parametrize("payment_id", ["²", "1" * 30, 5, None, "-1"])
def test_finding_7_a_strange_payment_id_in_our_metadata_matches_nothing(db, deliver, payable, payment_id):
    unknown = {"id": "pi_strange", "object": "payment_intent", "status": "succeeded", "amount": 100,
               "currency": "cny", "metadata": {"payment_id": payment_id}}
    response = deliver(intent_event(unknown, "payment_intent.succeeded", f"evt_strange_{payment_id!s:.5}"))
    assert response.status_code == 200
    assert response.get_json()["outcome"] == "unknown payment"
    assert payable.paid == []


def test_a_card_held_for_a_payment_closed_meanwhile_is_released(db, deliver, payable, stripe_client):
    patient = factories.make_patient()
    payment = payments.create_payment(payable_type=TEST_PAYABLE, payable_id=patient.id, patient=patient,
                                      amount_fen=3000)
    db.session.commit()
    payments.release(payment, "cancelled")  # closed before its intent existed: nothing to send
    db.session.commit()
    assert payment.status == PaymentStatus.CANCELED
    intent = payments.attach_intent(payment, "pm_card_visa")  # the slow request that was creating it
    db.session.commit()
    assert stripe_client.v1.payment_intents.retrieve(intent.id).status == "requires_capture"
    assert operations.perform_due(10) == 1
    assert stripe_client.v1.payment_intents.retrieve(intent.id).status == "canceled"
    event = intent_event(as_intent(payment), "payment_intent.amount_capturable_updated", "evt_slow")
    response = deliver(event)
    assert response.get_json()["outcome"] == "no change"
    db.session.refresh(payment)
    assert payment.status == PaymentStatus.CANCELED
    assert payable.paid == []
