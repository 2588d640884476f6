"""SMS adapter: a small interface with backends chosen by SMS_BACKEND (log, or file for rehearsals)."""

import itertools
import json
import logging
import os
import time
import uuid
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


class FileSmsBackend:
    """Appends each message as a JSON line to SMS_FILE_PATH, as a provider would accept it.

    With SMS_FILE_GATE set, the reply for the n-th message in the file is held until the gate
    file holds a number >= n: a slow provider that a crash rehearsal can stop a worker inside,
    after the provider has accepted a message and before the worker hears back.
    """

    POLL_SECONDS = 0.02

    def __init__(self, app: Flask):
        self.path = app.config["SMS_FILE_PATH"]
        self.gate = app.config.get("SMS_FILE_GATE") or None

    def send(self, to: str, body: str) -> str:
        message_id = f"file-{uuid.uuid4().hex[:16]}"
        line = json.dumps({"id": message_id, "to": to, "body": body, "pid": os.getpid()})
        with open(self.path, "a+", encoding="utf-8") as spool:
            spool.write(line + "\n")
            spool.flush()
            os.fsync(spool.fileno())
            spool.seek(0)
            position = sum(1 for _ in spool)
        while self.gate and position > self._gate_value():
            time.sleep(self.POLL_SECONDS)
        return message_id

    def _gate_value(self) -> int:
        try:
            with open(self.gate, encoding="utf-8") as gate:
                return int(gate.read().strip() or 0)
        except (FileNotFoundError, ValueError):
            return 0


BACKENDS = {"log": LogSmsBackend, "file": FileSmsBackend}


def init_app(app: Flask) -> None:
    name = app.config["SMS_BACKEND"]
    if name not in BACKENDS:
        raise ValueError(f"SMS_BACKEND={name!r} is not one of {sorted(BACKENDS)}")
    app.extensions["sms"] = BACKENDS[name](app)


def backend() -> SmsBackend:
    return current_app.extensions["sms"]
