"""The only module that imports `stripe`: PaymentIntents, refunds and webhook verification."""

from dataclasses import dataclass

import stripe
from flask import Flask, current_app


class GatewayError(RuntimeError):
    """Stripe could not be reached or refused the request for a reason that is not the card."""


class CardDeclined(GatewayError):
    """The card (or wallet) was declined; `message` is safe to show the payer."""

    def __init__(self, message: str, intent_id: str | None):
        super().__init__(message)
        self.message = message
        self.intent_id = intent_id


class BadSignature(ValueError):
    """A webhook whose signature or payload does not verify."""


@dataclass(frozen=True)
class Intent:
    id: str
    status: str
    amount: int
    currency: str
    metadata: dict
    client_secret: str | None = None
    failure_message: str | None = None

    @classmethod
    def from_object(cls, data: dict) -> "Intent":
        error = data.get("last_payment_error") or {}
        return cls(
            id=data["id"],
            status=data.get("status", ""),
            amount=int(data.get("amount") or 0),
            currency=(data.get("currency") or "").upper(),
            metadata=dict(data.get("metadata") or {}),
            client_secret=data.get("client_secret"),
            failure_message=error.get("message") if isinstance(error, dict) else None,
        )


@dataclass(frozen=True)
class RefundResult:
    id: str
    status: str
    amount: int
    payment_intent: str | None


class StripeGateway:
    def __init__(self, secret_key: str, api_base: str, webhook_secret: str):
        options = {"base_addresses": {"api": api_base}} if api_base else {}
        self.client = stripe.StripeClient(secret_key, max_network_retries=2, **options)
        self.webhook_secret = webhook_secret
        self.is_local = bool(api_base)

    def _call(self, function, *args, **kwargs):
        try:
            return function(*args, **kwargs)
        except stripe.CardError as error:
            intent = getattr(error.error, "payment_intent", None) if error.error else None
            intent_id = intent.get("id") if isinstance(intent, dict) else getattr(intent, "id", None)
            raise CardDeclined(error.user_message or str(error), intent_id) from error
        except stripe.StripeError as error:
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
        """Verify the Stripe-Signature header and return the event as a plain dict."""
        try:
            event = stripe.Webhook.construct_event(payload, signature, self.webhook_secret)
        except (stripe.SignatureVerificationError, ValueError) as error:
            raise BadSignature(str(error)) from error
        return event.to_dict()


def init_app(app: Flask) -> None:
    app.extensions["stripe_gateway"] = StripeGateway(
        app.config["STRIPE_SECRET_KEY"], app.config["STRIPE_API_BASE"], app.config["STRIPE_WEBHOOK_SECRET"]
    )


def gateway() -> StripeGateway:
    return current_app.extensions["stripe_gateway"]
