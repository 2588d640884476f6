"""The only module that imports `stripe`: PaymentIntents, refunds and webhook verification."""

import json
from dataclasses import dataclass
from functools import cached_property

from flask import Flask, current_app

# `stripe` (with requests and aiohttp behind it) takes about a third of a second to import: it is
# imported where a payment call or a webhook needs it, not when the app (or any `flask` command) starts.

# Stripe's own limits on the identifiers we store; longer ones are not Stripe's.
MAX_EVENT_ID = 255
MAX_OBJECT_ID = 64


class GatewayError(RuntimeError):
    """Stripe could not be reached or refused the request for a reason that is not the card."""


class GatewayUnavailable(GatewayError):
    """No answer, a timeout, a rate limit or a 5xx: Stripe may or may not have done it; ask again
    later with the same idempotency key."""


class CardDeclined(GatewayError):
    """The card (or wallet) was declined. `code` is Stripe's decline code (`insufficient_funds`), else
    its error code (`card_declined`): the app shows its own words for it; `message` is Stripe's English."""

    def __init__(self, message: str, intent_id: str | None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.intent_id = intent_id
        self.code = code


class BadSignature(ValueError):
    """A webhook whose signature or payload does not verify."""


class MalformedEvent(ValueError):
    """A correctly signed body that is not the shape of a Stripe event."""


@dataclass(frozen=True)
class Intent:
    id: str
    status: str
    amount: int
    currency: str
    metadata: dict
    client_secret: str | None = None
    failure_message: str | None = None
    failure_code: str | None = None

    @classmethod
    def from_object(cls, data: dict) -> "Intent":
        error = data.get("last_payment_error") or {}
        error = error if isinstance(error, dict) else {}
        return cls(
            id=data["id"],
            status=data.get("status", ""),
            amount=int(data.get("amount") or 0),
            currency=(data.get("currency") or "").upper(),
            metadata=dict(data.get("metadata") or {}),
            client_secret=data.get("client_secret"),
            failure_message=error.get("message"),
            failure_code=_code(error.get("decline_code")) or _code(error.get("code")),
        )


def _code(value) -> str | None:
    """A decline or error code as Stripe writes them (short snake_case), else None."""
    return value if isinstance(value, str) and 0 < len(value) <= 64 else None


@dataclass(frozen=True)
class RefundResult:
    id: str
    status: str
    amount: int
    payment_intent: str | None


class StripeGateway:
    def __init__(self, secret_key: str, api_base: str, webhook_secret: str, *,
                 timeout_seconds: float = 20, max_network_retries: int = 1):
        self._secret_key, self._api_base = secret_key, api_base
        self._timeout_seconds, self._max_network_retries = timeout_seconds, max_network_retries
        self.webhook_secret = webhook_secret

    @cached_property
    def client(self):
        """The StripeClient, built on first use (two threads racing here build two equal clients)."""
        import stripe

        options = {"base_addresses": {"api": self._api_base}} if self._api_base else {}
        # Bounded: a request that performs a payment operation waits at most this long for Stripe
        # (the library's default is 80 s); the operation row is retried later if it times out.
        http_client = stripe.RequestsClient(timeout=self._timeout_seconds)
        return stripe.StripeClient(self._secret_key, max_network_retries=self._max_network_retries,
                                   http_client=http_client, **options)

    def _call(self, function, *args, **kwargs):
        import stripe

        try:
            return function(*args, **kwargs)
        except stripe.CardError as error:
            intent = getattr(error.error, "payment_intent", None) if error.error else None
            intent_id = intent.get("id") if isinstance(intent, dict) else getattr(intent, "id", None)
            details = error.error
            code = getattr(details, "decline_code", None) or getattr(details, "code", None) or error.code
            raise CardDeclined(error.user_message or str(error), intent_id, code) from error
        except (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError) as error:
            raise GatewayUnavailable(str(error) or type(error).__name__) from error
        except stripe.StripeError as error:
            if (error.http_status or 0) >= 500 or error.code == "lock_timeout":
                raise GatewayUnavailable(str(error)) from error
            raise GatewayError(error.user_message or str(error)) from error

    def create_intent(self, *, amount: int, currency: str, capture_method: str,
                      method_types: list[str], metadata: dict, idempotency_key: str,
                      payment_method: str | None = None) -> Intent:
        params = {
            "amount": amount,
            "currency": currency.lower(),
            "capture_method": capture_method,
            "payment_method_types": method_types,
            "metadata": metadata,
        }
        if payment_method:
            # Offline stand-in: confirm at once with a test card (no Payment Element there).
            params.update(payment_method=payment_method, confirm=True)
        intent = self._call(self.client.v1.payment_intents.create, params=params,
                            options={"idempotency_key": idempotency_key})
        return Intent.from_object(intent.to_dict())

    def capture(self, intent_id: str, idempotency_key: str) -> Intent:
        intent = self._call(self.client.v1.payment_intents.capture, intent_id,
                            options={"idempotency_key": idempotency_key})
        return Intent.from_object(intent.to_dict())

    def cancel(self, intent_id: str, idempotency_key: str) -> Intent:
        intent = self._call(self.client.v1.payment_intents.cancel, intent_id,
                            options={"idempotency_key": idempotency_key})
        return Intent.from_object(intent.to_dict())

    def retrieve(self, intent_id: str) -> Intent:
        return Intent.from_object(self._call(self.client.v1.payment_intents.retrieve, intent_id).to_dict())

    def refund(self, intent_id: str, amount: int, idempotency_key: str, reason: str) -> RefundResult:
        refund = self._call(
            self.client.v1.refunds.create,
            params={"payment_intent": intent_id, "amount": amount, "metadata": {"reason": reason}},
            options={"idempotency_key": idempotency_key},
        ).to_dict()
        return RefundResult(id=refund["id"], status=refund.get("status", ""),
                            amount=int(refund.get("amount") or amount),
                            payment_intent=refund.get("payment_intent"))

    def parse_event(self, payload: bytes, signature: str) -> dict:
        """Verify the Stripe-Signature header and return the event as a plain dict.

        BadSignature when the signature does not verify; MalformedEvent when a signed body is
        not an event (an array, no id, a `data.object` that is not an object).
        """
        import stripe

        try:
            stripe.WebhookSignature.verify_header(payload.decode("utf-8"), signature, self.webhook_secret,
                                                  tolerance=stripe.Webhook.DEFAULT_TOLERANCE)
        except (stripe.SignatureVerificationError, UnicodeDecodeError) as error:
            raise BadSignature(str(error)) from error
        try:
            event = json.loads(payload)
        except (ValueError, RecursionError) as error:
            raise MalformedEvent("not JSON") from error
        return checked_event(event)


def _short_string(value, limit: int) -> bool:
    return isinstance(value, str) and 0 < len(value) <= limit


def checked_event(event) -> dict:
    """The fields the app reads, each of the type it expects; MalformedEvent otherwise."""
    if not isinstance(event, dict):
        raise MalformedEvent("an event is a JSON object")
    if not _short_string(event.get("id"), MAX_EVENT_ID):
        raise MalformedEvent("an event has an id")
    if not isinstance(event.get("type", ""), str) or len(event.get("type", "")) > 80:
        raise MalformedEvent("an event type is a short string")
    data = event.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("object"), dict):
        raise MalformedEvent("an event carries data.object, an object")
    obj = data["object"]
    if not _short_string(obj.get("id"), MAX_OBJECT_ID) or not isinstance(obj.get("object"), str):
        raise MalformedEvent("data.object has an id and an object type")
    if obj.get("metadata") is not None and not isinstance(obj["metadata"], dict):
        raise MalformedEvent("metadata is an object")
    amount = obj.get("amount")
    if amount is not None and (not isinstance(amount, int) or isinstance(amount, bool)):
        raise MalformedEvent("amount is an integer")
    for name in ("status", "payment_intent", "currency"):
        if obj.get(name) is not None and not isinstance(obj[name], str):
            raise MalformedEvent(f"{name} is a string")
    return event


def init_app(app: Flask) -> None:
    app.extensions["stripe_gateway"] = StripeGateway(
        app.config["STRIPE_SECRET_KEY"], app.config["STRIPE_API_BASE"], app.config["STRIPE_WEBHOOK_SECRET"],
        timeout_seconds=app.config["STRIPE_TIMEOUT_SECONDS"],
        max_network_retries=app.config["STRIPE_MAX_NETWORK_RETRIES"],
    )


def gateway() -> StripeGateway:
    return current_app.extensions["stripe_gateway"]
