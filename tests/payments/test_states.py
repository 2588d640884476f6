"""The payment state table: money only moves forward, and nothing else writes a status."""

import re
from pathlib import Path

import pytest

from app.errors import InvalidTransition
from app.payments.models import Payment, PaymentStatus
from app.payments.states import MACHINE, TRANSITIONS
from tests.payments.conftest import intent_event
from tests.payments.test_webhooks import as_intent, pending_payment

P = PaymentStatus
ROOT = Path(__file__).resolve().parents[2]


def test_the_payment_table_refuses_captured_to_canceled_and_every_way_out_of_a_closed_payment(app):
    assert not MACHINE.can_move(P.CAPTURED, P.CANCELED)
    assert not MACHINE.can_move(P.CAPTURED, P.AUTHORIZED)
    for closed in (P.CANCELED, P.REFUNDED):
        assert TRANSITIONS[closed] == frozenset()
    assert TRANSITIONS[P.FAILED] == {P.AUTHORIZED, P.CAPTURED}  # another card in the same form
    payment = Payment(status=P.CAPTURED)
    with pytest.raises(InvalidTransition):
        MACHINE.move(payment, P.CANCELED)
    assert payment.status == P.CAPTURED


def test_a_signed_canceled_event_for_a_captured_payment_changes_nothing(db, deliver, payable):
    payment = pending_payment(db)
    assert deliver(intent_event(as_intent(payment, "succeeded"), "payment_intent.succeeded",
                                "evt_taken")).get_json()["outcome"] == "applied"
    response = deliver(intent_event(as_intent(payment, "canceled"), "payment_intent.canceled", "evt_undo"))
    assert response.status_code == 200
    assert response.get_json()["outcome"] == "no change"
    db.session.refresh(payment)
    assert payment.status == P.CAPTURED
    assert payment.closed_at is None
    assert payable.paid == [payment.id]


def test_no_payment_or_consultation_code_assigns_a_status_itself():
    assignment = re.compile(r"\.status\s*=[^=]|setattr\([^)]*[\"']status[\"']")
    offenders = [f"{path.relative_to(ROOT)}:{number}"
                 for folder in ("app/payments", "app/consultations")
                 for path in sorted((ROOT / folder).glob("*.py"))
                 for number, line in enumerate(path.read_text().splitlines(), 1) if assignment.search(line)]
    assert offenders == []


def test_a_declined_payment_the_payer_retries_in_the_same_form_is_paid_after_all(db, deliver, payable):
    payment = pending_payment(db)
    declined = as_intent(payment, "requires_payment_method",
                         last_payment_error={"message": "Your card was declined."})
    deliver(intent_event(declined, "payment_intent.payment_failed", "evt_declined"))
    db.session.refresh(payment)
    assert payment.status == P.FAILED and payable.failed == [payment.id]

    deliver(intent_event(as_intent(payment), "payment_intent.amount_capturable_updated", "evt_second_card"))
    db.session.refresh(payment)
    assert payment.status == P.AUTHORIZED and payment.closed_at is None
    assert payable.paid == [payment.id]  # the payable hears of it, instead of a card held for nothing
