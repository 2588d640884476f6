"""SMS adapter: a small interface with backends chosen by SMS_BACKEND: twilio (the only module that
imports the `twilio` library), log, or file for rehearsals; and the check of Twilio's request signature."""

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
    """The provider refused or could not be reached. A permanent refusal (the number answered STOP,
    is not valid, is not a mobile) is never retried; anything else is, with growing delays."""

    def __init__(self, message: str, *, code: int | None = None, permanent: bool = False):
        super().__init__(message)
        self.code = code
        self.permanent = permanent


# Twilio error codes that no retry can change: 21610 the recipient answered STOP, 21211 not a valid
# number, 21614 not a mobile number, 21612 no route to that carrier, 21408 the region is not enabled.
PERMANENT_ERRORS = frozenset({21610, 21211, 21614, 21612, 21408})
TOO_MANY_REQUESTS = (429, 20429)


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


TWILIO_API = "https://api.twilio.com"
STATUS_CALLBACK_PATH = "/sms/status"
INBOUND_PATH = "/sms/inbound"


def public_url(path: str) -> str:
    """The address Twilio calls (and signs) for `path`: PUBLIC_BASE_URL, not the address a proxy
    forwarded the request to."""
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + path


class TwilioSmsBackend:
    """Sends through Twilio's Messages API with the official library. TWILIO_API_BASE, when set, points
    the library at a stand-in (devtools/twilio_fake.py) by rewriting the API's address; edge and
    region are left unset because they rewrite host names."""

    def __init__(self, app: Flask):
        from twilio.http.http_client import TwilioHttpClient
        from twilio.rest import Client

        config = app.config
        if not (config["TWILIO_ACCOUNT_SID"] and config["TWILIO_AUTH_TOKEN"]):
            raise ValueError("SMS_BACKEND=twilio needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN")
        if not (config["TWILIO_MESSAGING_SERVICE_SID"] or config["TWILIO_FROM_NUMBER"]):
            raise ValueError("SMS_BACKEND=twilio needs TWILIO_MESSAGING_SERVICE_SID or TWILIO_FROM_NUMBER")
        base = (config["TWILIO_API_BASE"] or TWILIO_API).rstrip("/")

        class LocalBaseHttpClient(TwilioHttpClient):
            def request(self, method, url, *args, **kwargs):
                if url.startswith(TWILIO_API):
                    url = base + url[len(TWILIO_API):]
                return super().request(method, url, *args, **kwargs)

        import requests

        # The proxies the environment names for the API, read once: requests would otherwise read the
        # environment again on every message (a third of the client's time per message).
        http_client = LocalBaseHttpClient(timeout=config["TWILIO_TIMEOUT_SECONDS"],
                                          proxy=requests.utils.get_environ_proxies(base) or None)
        http_client.session.trust_env = False
        self.client = Client(config["TWILIO_ACCOUNT_SID"], config["TWILIO_AUTH_TOKEN"],
                             http_client=http_client)
        # The library logs every request and response (numbers and bodies included) at INFO, on loggers
        # under "twilio".
        logging.getLogger("twilio").setLevel(logging.WARNING)
        self.sender = ({"messaging_service_sid": config["TWILIO_MESSAGING_SERVICE_SID"]}
                       if config["TWILIO_MESSAGING_SERVICE_SID"] else {"from_": config["TWILIO_FROM_NUMBER"]})
        self.status_callback = config["PUBLIC_BASE_URL"].rstrip("/") + STATUS_CALLBACK_PATH

    def send(self, to: str, body: str) -> str:
        import requests
        from twilio.base.exceptions import TwilioException, TwilioRestException

        try:
            message = self.client.messages.create(to=to, body=body, status_callback=self.status_callback,
                                                  **self.sender)
        except TwilioRestException as error:
            permanent = error.code in PERMANENT_ERRORS or (
                400 <= error.status < 500 and error.status not in TOO_MANY_REQUESTS
                and error.code not in TOO_MANY_REQUESTS)
            raise SmsSendError(f"Twilio {error.status} ({error.code}): {error.msg}"[:255],
                               code=error.code, permanent=permanent) from None
        except (requests.RequestException, TwilioException) as error:
            raise SmsSendError(f"Twilio unreachable: {error}"[:255]) from None
        return message.sid


def signature_is_valid(path_and_query: str, params, signature: str) -> bool:
    """Whether X-Twilio-Signature matches a request Twilio made to PUBLIC_BASE_URL + path_and_query
    with these form parameters, signed with the account's auth token."""
    from twilio.request_validator import RequestValidator

    token = current_app.config["TWILIO_AUTH_TOKEN"]
    if not token or not signature:
        return False
    return RequestValidator(token).validate(public_url(path_and_query), params, signature)


def twiml(reply: str | None) -> str:
    """The TwiML answer to an inbound message: the reply, or nothing to send."""
    from twilio.twiml.messaging_response import MessagingResponse

    response = MessagingResponse()
    if reply:
        response.message(reply)
    return str(response)


def twiml_text(document: str) -> str:
    """The text of the messages in a TwiML answer (the development phone page shows it)."""
    from xml.etree import ElementTree

    root = ElementTree.fromstring(document)  # noqa: S314  (our own endpoint's answer)
    return "\n".join(message.text or "" for message in root.iter("Message"))


def sign(path_and_query: str, params: dict) -> str:
    """The signature Twilio would send: for the development page that plays a patient's reply."""
    from twilio.request_validator import RequestValidator

    return RequestValidator(current_app.config["TWILIO_AUTH_TOKEN"]).compute_signature(
        public_url(path_and_query), params)


BACKENDS = {"log": LogSmsBackend, "file": FileSmsBackend, "twilio": TwilioSmsBackend}


def init_app(app: Flask) -> None:
    name = app.config["SMS_BACKEND"]
    if name not in BACKENDS:
        raise ValueError(f"SMS_BACKEND={name!r} is not one of {sorted(BACKENDS)}")
    app.extensions["sms"] = BACKENDS[name](app)


def backend() -> SmsBackend:
    return current_app.extensions["sms"]
