"""SMS adapter: a small interface with backends chosen by SMS_BACKEND (the log one for now)."""

import itertools
import logging
from collections import deque
from typing import Protocol

from flask import Flask, current_app

log = logging.getLogger("sms")


class SmsSendError(RuntimeError):
    """The provider refused or could not be reached; the outbox will retry."""


class SmsBackend(Protocol):
    def send(self, to: str, body: str) -> str:
        """Send one message and return the provider's message id."""


class LogSmsBackend:
    """Writes messages to the log (and keeps the last few) instead of sending them."""

    def __init__(self, app: Flask):
        self.sent: deque[tuple[str, str]] = deque(maxlen=200)
        self._ids = itertools.count(1)

    def send(self, to: str, body: str) -> str:
        self.sent.append((to, body))
        log.info("SMS to %s: %s", to, body)
        return f"log-{next(self._ids)}"


BACKENDS = {"log": LogSmsBackend}


def init_app(app: Flask) -> None:
    name = app.config["SMS_BACKEND"]
    if name not in BACKENDS:
        raise ValueError(f"SMS_BACKEND={name!r} is not one of {sorted(BACKENDS)}")
    app.extensions["sms"] = BACKENDS[name](app)


def backend() -> SmsBackend:
    return current_app.extensions["sms"]
