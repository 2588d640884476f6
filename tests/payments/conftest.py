"""Payment fixtures: a stand-in payable, signed webhook deliveries, direct looks into localstripe."""

import json
import time

import pytest
import stripe

from app.payments import services as payments

TEST_PAYABLE = "test_payable"


class PayableSpy:
    """Records what the payments module told the payable, like a consultation would react."""

    def __init__(self):
        self.paid: list[int] = []
        self.failed: list[int] = []


@pytest.fixture
def payable(monkeypatch):
    spy = PayableSpy()
    monkeypatch.setitem(payments.payable_handlers, TEST_PAYABLE, payments.PayableHandlers(
        on_paid=lambda payment: spy.paid.append(payment.id),
        on_failed=lambda payment: spy.failed.append(payment.id),
    ))
    return spy


def sign(payload: str, secret: str, timestamp: int | None = None) -> str:
    """A Stripe-Signature header made with Stripe's own scheme (HMAC-SHA256 of 't.payload')."""
    timestamp = timestamp or int(time.time())
    signature = stripe.WebhookSignature._compute_signature(f"{timestamp}.{payload}", secret)
    return f"t={timestamp},v1={signature}"


@pytest.fixture
def deliver(client, app):
    """POST an event to the webhook as Stripe would; returns the response."""

    def post(event: dict, secret: str | None = None):
        payload = json.dumps(event)
        header = sign(payload, secret or app.config["STRIPE_WEBHOOK_SECRET"])
        return client.post("/payments/webhooks/stripe", data=payload,
                           headers={"Stripe-Signature": header, "Content-Type": "application/json"})

    return post


def intent_event(intent: dict, event_type: str, event_id: str) -> dict:
    return {"id": event_id, "object": "event", "type": event_type, "api_version": "2025-01-01",
            "created": int(time.time()), "livemode": False, "data": {"object": intent}}


@pytest.fixture
def stripe_client(localstripe):
    return stripe.StripeClient("sk_test_inspect", base_addresses={"api": localstripe.url})


class CallCounter:
    """Counts calls to one gateway method while still making them (against localstripe)."""

    def __init__(self, monkeypatch, gateway, name):
        self.calls = 0
        original = getattr(gateway, name)

        def counted(*args, **kwargs):
            self.calls += 1
            return original(*args, **kwargs)

        monkeypatch.setattr(gateway, name, counted)
