"""The data platform's wire: a signed POST of a FHIR batch Bundle, and the check of that signature.

The sender (app/platform/push.py) and the reference receiver (app/platform/receiver.py) share this
module, so the two ends cannot drift apart.

Signature header, as `X-Platform-Signature: t=<unix seconds>,v1=<hex>` where the hex is
HMAC-SHA256 under PLATFORM_PUSH_SECRET of "<t>.<body bytes>": the timestamp is signed with the
body, so a captured request cannot be replayed after the tolerance (and a replay within it is
harmless: every entry carries its own idempotency key).
"""

import hashlib
import hmac
import time
from dataclasses import dataclass

import requests

SIGNATURE_HEADER = "X-Platform-Signature"
# Older or newer than this (seconds) is refused even with the right key.
SIGNATURE_TOLERANCE_SECONDS = 300
CONTENT_TYPE = "application/fhir+json"
# The platform answers these after a moment of trouble; anything else in 4xx will not change on retry.
RETRYABLE_STATUSES = frozenset({408, 429})


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The header value for `body` signed now (or at `timestamp`)."""
    stamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={stamp},v1={digest}"


def signature_is_valid(secret: str, body: bytes, header: str | None, *, now: float | None = None) -> bool:
    """True when `header` signs `body` under `secret` within the tolerance."""
    if not secret or not header or len(header) > 200:
        return False
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    stamp, given = parts.get("t", ""), parts.get("v1", "")
    if not (stamp.isascii() and stamp.isdigit() and len(stamp) <= 12):
        return False
    current = time.time() if now is None else now
    if abs(current - int(stamp)) > SIGNATURE_TOLERANCE_SECONDS:
        return False
    expected = sign(secret, body, int(stamp)).split("v1=", 1)[1]
    return hmac.compare_digest(expected, given)


def is_retryable(status: int) -> bool:
    """5xx, 408 and 429 may pass; any other refusal is final."""
    return status >= 500 or status in RETRYABLE_STATUSES


class PushError(RuntimeError):
    """The batch did not arrive: `retryable` says whether trying again later may help."""

    def __init__(self, message: str, *, retryable: bool, status: int | None = None):
        super().__init__(message)
        self.retryable, self.http_status = retryable, status


@dataclass(frozen=True)
class PushReply:
    status: int
    body: dict


class PlatformClient:
    """POSTs one signed batch and returns the platform's reply; raises PushError when none came back."""

    def __init__(self, url: str, secret: str, timeout: float):
        self.url, self.secret, self.timeout = url, secret, timeout
        self.http = requests.Session()
        self.http.trust_env = False  # no proxy or netrc from the environment: one fixed address

    def post(self, body: bytes, batch_key: str) -> PushReply:
        headers = {"Content-Type": CONTENT_TYPE, "Accept": CONTENT_TYPE,
                   SIGNATURE_HEADER: sign(self.secret, body), "Idempotency-Key": batch_key}
        try:
            response = self.http.post(self.url, data=body, headers=headers, timeout=self.timeout)
        except requests.RequestException as error:  # timeouts, refused and dropped connections
            raise PushError(f"{type(error).__name__}: {error}"[:480], retryable=True) from None
        if response.status_code >= 300:
            raise PushError(f"HTTP {response.status_code}: {response.text[:400]}",
                            retryable=is_retryable(response.status_code), status=response.status_code)
        try:
            reply = response.json()
        except ValueError:
            raise PushError(f"HTTP {response.status_code} with a body that is not JSON",
                            retryable=True, status=response.status_code) from None
        return PushReply(response.status_code, reply if isinstance(reply, dict) else {})

    def close(self) -> None:
        self.http.close()
