"""Payments against localstripe: authorize, capture once, release once, declines, paying twice."""

import pytest

from app.errors import DomainError
from app.integrations.stripe_gateway import Intent
from app.payments import operations
from app.payments import services as payments
from app.payments.models import OperationStatus, PaymentStatus
from tests import factories
from tests.payments.conftest import TEST_PAYABLE, CallCounter


def authorized_payment(db, stripe_client, amount=3000):
    patient = factories.make_patient()
    payment = payments.create_payment(payable_type=TEST_PAYABLE, payable_id=patient.id, patient=patient,
                                      amount_fen=amount)
    intent = payments.attach_intent(payment, "pm_card_visa")
    assert intent.status == "requires_capture"  # the card is held, not charged
    # Stripe's webhook would say so; apply the same object here.
    payments.apply_intent(payment, Intent.from_object(
        stripe_client.v1.payment_intents.retrieve(intent.id).to_dict()))
    db.session.commit()
    return payment


@pytest.fixture
def gateway(app):
    return app.extensions["stripe_gateway"]


def settle(db) -> None:
    """Commit what the verb recorded, then perform it, as a view (or the worker) does after its commit."""
    db.session.commit()
    operations.perform_due(100)


def test_a_card_payment_is_only_authorized_at_first(db, stripe_client, payable):
    payment = authorized_payment(db, stripe_client)
    assert payment.status == PaymentStatus.AUTHORIZED
    assert payment.capture_method == "manual"
    intent = stripe_client.v1.payment_intents.retrieve(payment.stripe_payment_intent_id)
    assert intent.status == "requires_capture"
    assert payable.paid == [payment.id]


def test_capture_takes_the_money_exactly_once(db, stripe_client, payable, gateway, monkeypatch):
    payment = authorized_payment(db, stripe_client)
    counter = CallCounter(monkeypatch, gateway, "capture")
    first = payments.capture(payment)
    assert payments.capture(payment) == first  # asked twice, recorded once
    assert counter.calls == 0  # nothing is sent before the commit
    settle(db)
    settle(db)
    assert counter.calls == 1
    assert first.status == OperationStatus.DONE
    assert payment.status == PaymentStatus.CAPTURED
    assert stripe_client.v1.payment_intents.retrieve(payment.stripe_payment_intent_id).status == "succeeded"


def test_releasing_an_authorization_cancels_it_once_and_never_charges(db, stripe_client, payable, gateway,
                                                                      monkeypatch):
    payment = authorized_payment(db, stripe_client)
    counter = CallCounter(monkeypatch, gateway, "cancel")
    payments.release(payment, "cancelled")
    payments.release(payment, "cancelled")
    assert counter.calls == 0
    settle(db)
    payments.release(payment, "cancelled")
    settle(db)
    assert counter.calls == 1
    assert payment.status == PaymentStatus.CANCELED
    assert payment.refunds == []
    assert stripe_client.v1.payment_intents.retrieve(payment.stripe_payment_intent_id).status == "canceled"


def test_releasing_a_captured_payment_refunds_it_once(db, stripe_client, payable, gateway, monkeypatch):
    payment = authorized_payment(db, stripe_client)
    payments.capture(payment)
    settle(db)
    counter = CallCounter(monkeypatch, gateway, "refund")
    payments.release(payment, "referred")
    payments.release(payment, "referred")
    assert payment.refunds == []  # the Refund row is written once Stripe made the refund
    settle(db)
    payments.release(payment, "referred")
    settle(db)
    assert counter.calls == 1
    assert payment.status == PaymentStatus.REFUNDED
    assert payment.amount_refunded_fen == 3000
    assert [refund.amount_fen for refund in payment.refunds] == [3000]
    refunds = stripe_client.v1.refunds.list(params={"payment_intent": payment.stripe_payment_intent_id})
    assert [refund.amount for refund in refunds.data] == [3000]


def test_a_declined_card_fails_the_payment_with_a_clear_message(db, payable):
    patient = factories.make_patient()
    payment = payments.create_payment(payable_type=TEST_PAYABLE, payable_id=patient.id, patient=patient,
                                      amount_fen=3000)
    with pytest.raises(DomainError, match="declined"):
        payments.attach_intent(payment, "pm_card_chargeCustomerFail")
    assert payment.status == PaymentStatus.FAILED
    assert payable.failed == [payment.id]
    # The payable is still unpaid: the patient may try again with another card.
    again = payments.create_payment(payable_type=TEST_PAYABLE, payable_id=patient.id, patient=patient,
                                    amount_fen=3000)
    assert again.id != payment.id


def test_paying_twice_is_refused(db, stripe_client, payable):
    payment = authorized_payment(db, stripe_client)
    with pytest.raises(DomainError, match="already been paid"):
        payments.create_payment(payable_type=TEST_PAYABLE, payable_id=payment.payable_id,
                                patient=factories.make_patient(), amount_fen=3000)


def test_wallets_are_charged_at_once_since_they_cannot_be_captured_later(db, payable):
    patient = factories.make_patient()
    payment = payments.create_payment(payable_type=TEST_PAYABLE, payable_id=patient.id, patient=patient,
                                      amount_fen=3000, method_type="alipay")
    assert payment.capture_method == "automatic"


def test_an_unknown_payment_method_is_refused(db, payable):
    patient = factories.make_patient()
    with pytest.raises(DomainError):
        payments.create_payment(payable_type=TEST_PAYABLE, payable_id=patient.id, patient=patient,
                                amount_fen=3000, method_type="cash")
