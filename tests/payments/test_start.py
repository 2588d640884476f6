"""Starting a payment: the row is stored before Stripe is asked; test cards only where the setting
allows them (development and tests, never production)."""

import pytest
from sqlalchemy import func, select

from app.errors import DomainError
from app.payments import services as payments
from app.payments.models import Payment, PaymentStatus
from config import DevelopmentConfig, ProductionConfig, TestingConfig
from tests import factories
from tests.payments.conftest import TEST_PAYABLE


def test_test_cards_are_on_in_development_and_tests_and_off_in_production():
    assert DevelopmentConfig.STRIPE_TEST_CARDS is True and TestingConfig.STRIPE_TEST_CARDS is True
    assert ProductionConfig.STRIPE_TEST_CARDS is False


def pending(patient):
    return lambda: payments.create_payment(payable_type=TEST_PAYABLE, payable_id=1, patient=patient,
                                           amount_fen=1500)


def test_start_stores_the_payment_then_confirms_the_test_card(db, payable):
    patient = factories.make_patient()
    intent = payments.start(pending(patient), test_card="pm_card_visa")
    db.session.rollback()  # the caller's own step: the intent id is lost, the payment row is not
    [payment] = db.session.scalars(select(Payment)).all()
    assert payment.status == PaymentStatus.PENDING and payment.stripe_payment_intent_id is None
    assert intent.status == "requires_capture"


def test_start_refuses_a_card_that_is_not_a_test_card_before_anything_is_stored(db, payable):
    patient = factories.make_patient()
    with pytest.raises(DomainError) as refused:
        payments.start(pending(patient), test_card="pm_card_real_looking")
    assert refused.value.reasons == {"test_card": "Choose a test card."}
    assert db.session.scalar(select(func.count()).select_from(Payment)) == 0


def test_a_declined_test_card_keeps_its_failed_payment(db, payable):
    patient = factories.make_patient()
    with pytest.raises(DomainError):
        payments.start(pending(patient), test_card="pm_card_chargeCustomerFail")
    db.session.rollback()
    [payment] = db.session.scalars(select(Payment)).all()
    assert payment.status == PaymentStatus.FAILED and payable.failed == [payment.id]


def test_without_test_cards_no_card_is_sent_and_the_payer_uses_stripes_form(app, db, payable, monkeypatch):
    monkeypatch.setitem(app.config, "STRIPE_TEST_CARDS", False)
    patient = factories.make_patient()
    intent = payments.start(pending(patient), test_card="pm_card_visa")
    assert intent.status == "requires_payment_method" and intent.client_secret
