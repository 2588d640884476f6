"""Payment fixtures: a stand-in payable, signed webhook deliveries, direct looks into localstripe."""

import json
import re
import time

import pytest
import requests
import stripe

from app.integrations.stripe_gateway import StripeGateway
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


class StripeControl:
    """The control API our localstripe runner adds: faults, Stripe-like idempotency, what it was asked."""

    def __init__(self, url: str):
        self.url = url

    def _send(self, method: str, path: str, payload: dict | None = None):
        response = requests.request(method, f"{self.url}/_config/{path}", json=payload, timeout=10)
        response.raise_for_status()
        return response.json()

    def fault(self, path: str, mode: str, method: str = "POST", times: int = 1) -> None:
        """The next `times` requests whose path matches `path` hang (`hang`) or lose their answer."""
        self._send("POST", "faults", {"path": path, "mode": mode, "method": method, "times": times})

    def idempotency(self, enabled: bool) -> None:
        self._send("POST", "idempotency", {"enabled": enabled})

    def seen(self, path: str, outcome: str | None = None, method: str = "POST") -> list[dict]:
        return [entry for entry in self._send("GET", "requests") if re.search(path, entry["path"])
                and entry["method"] == method and (outcome is None or entry["outcome"] == outcome)]

    def reset(self) -> None:
        self._send("DELETE", "faults")


@pytest.fixture
def stripe_control(localstripe):
    control = StripeControl(localstripe.url)
    control.reset()
    control.idempotency(True)
    yield control
    control.reset()
    control.idempotency(False)


@pytest.fixture
def impatient_gateway(app, localstripe, monkeypatch):
    """The gateway as configured with a 1 s timeout and no retries inside the library, so one
    request that Stripe does not answer is one failed attempt of ours."""
    quick = StripeGateway(app.config["STRIPE_SECRET_KEY"], localstripe.url,
                          app.config["STRIPE_WEBHOOK_SECRET"], timeout_seconds=1, max_network_retries=0)
    monkeypatch.setitem(app.extensions, "stripe_gateway", quick)
    return quick
