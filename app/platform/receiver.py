"""The data platform's reference receiver: a small WSGI app that stores signed FHIR batches once per key.

The tests, the benchmark and the demo push to it. It answers a FHIR `batch-response` with one entry
per request entry (201 Created when stored now, 200 OK when the key was stored before, 400 when the
entry is malformed), and can be told to fail (503) or to drop connections, to exercise the sender's
retries. `GET /stats` and `POST /faults` are loopback tools without a signature.
"""

import contextlib
import json
import re
import secrets
import socket
import threading
from decimal import Decimal

import click
from flask import current_app
from flask.cli import with_appcontext
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wsgi import get_input_stream

from app.integrations.data_platform import CONTENT_TYPE, signature_is_valid
from app.platform import fhir
from app.platform.receiver_store import ReceiverStore
from config import INSTANCE_DIR

DEFAULT_DATABASE = f"sqlite:///{INSTANCE_DIR / 'platform-receiver.sqlite3'}"
MAX_BODY_BYTES = 10 * 1024 * 1024
MAX_ENTRIES = 1000
# An oversized body is still read (and thrown away) up to this much, so that an honest client that is
# still sending sees the 400 instead of a reset connection.
DISCARD_LIMIT_BYTES = 4 * MAX_BODY_BYTES
# Numbers are kept as their text (Decimal), but none longer than this reaches Decimal() or int().
MAX_NUMBER_CHARS = 64
MAX_FAULTS_BODY_BYTES = 4096
FAULTS = ("fail_first", "drop_first", "drop_after_store")
RESOURCE_TYPES = ("MedicationDispense", "Observation")
UUID_URN = "urn:uuid:"
ROUTES = {"/": ("batch", "POST"), "/fhir": ("batch", "POST"),
          "/stats": ("stats", "GET"), "/faults": ("faults", "POST")}
STATUS_TEXT = {200: "200 OK", 400: "400 Bad Request", 401: "401 Unauthorized", 404: "404 Not Found",
               405: "405 Method Not Allowed", 503: "503 Service Unavailable"}


class Receiver:
    """The WSGI app: checks the signature, stores the valid entries, counts, and injects faults."""

    def __init__(self, store: ReceiverStore, secret: str, **faults: int):
        if not secret:
            raise ValueError("The receiver needs the push secret to check signatures.")
        self.store, self.secret = store, secret
        self._lock = threading.Lock()
        self._counts = dict.fromkeys(("requests", "stored", "duplicates", "refused", "failed", "dropped"), 0)
        self._faults = dict.fromkeys(FAULTS, 0)
        self.set_faults(**faults)

    def set_faults(self, *, fail_first: int = 0, drop_first: int = 0, drop_after_store: int = 0) -> None:
        """Replace the faults still to come: the next `fail_first` batches get a 503, then `drop_first`
        lose their connection unstored, then `drop_after_store` are stored and lose the answer."""
        faults = {"fail_first": fail_first, "drop_first": drop_first, "drop_after_store": drop_after_store}
        for name, value in faults.items():
            if type(value) is not int or not 0 <= value <= 1_000_000:
                raise ValueError(f"{name} must be a whole number from 0 to 1000000")
        with self._lock:
            self._faults = faults

    def faults(self) -> dict:
        with self._lock:
            return dict(self._faults)

    def stats(self) -> dict:
        """Since start: batch POSTs; entries stored now, answered as duplicates, refused (an entry
        answered 400, or a whole batch refused with 400/401, one each); batches failed with 503 and
        connections dropped by the fault injection."""
        with self._lock:
            return dict(self._counts)

    def close(self) -> None:
        self.store.close()

    def __call__(self, environ, start_response):
        route, allowed = ROUTES.get(environ.get("PATH_INFO") or "/", (None, None))
        if route is None:
            return _reply(start_response, 404, _outcome("not-found", "POST batches to /fhir"))
        if environ["REQUEST_METHOD"] != allowed:
            return _reply(start_response, 405, _outcome("not-supported", f"use {allowed}"),
                          [("Allow", allowed)])
        if route == "stats":
            return _reply(start_response, 200, self.stats(), content_type="application/json")
        if route == "faults":
            return self._change_faults(environ, start_response)
        return self._batch(environ, start_response)

    def _batch(self, environ, start_response):
        fault = self._take_fault()
        body = _read_body(environ, MAX_BODY_BYTES)
        if fault == "fail_first":
            return _reply(start_response, 503, _outcome("transient", "failing on purpose (fail_first)"))
        if fault == "drop_first":
            return _drop(environ, start_response)
        status, reply = self._answer(environ, body)
        if fault == "drop_after_store":
            return _drop(environ, start_response)
        return _reply(start_response, status, reply)

    def _take_fault(self) -> str | None:
        """Counts the batch and consumes the next fault, in the documented order."""
        with self._lock:
            self._counts["requests"] += 1
            for name, counter in zip(FAULTS, ("failed", "dropped", "dropped"), strict=True):
                if self._faults[name] > 0:
                    self._faults[name] -= 1
                    self._counts[counter] += 1
                    return name
        return None

    def _answer(self, environ, body: bytes | None) -> tuple[int, dict]:
        if body is None:
            return self._refuse(400, f"the body is larger than {MAX_BODY_BYTES} bytes")
        if not signature_is_valid(self.secret, body, environ.get("HTTP_X_PLATFORM_SIGNATURE")):
            return self._refuse(401, "missing, wrong or stale X-Platform-Signature", code="security")
        entries = _batch_entries(body)
        if isinstance(entries, str):
            return self._refuse(400, entries)
        checked = [_check_entry(entry) for entry in entries]
        valid = [item for item in checked if isinstance(item, tuple)]
        new, existing = self.store.store(valid)
        # The type each key is stored under: an earlier row's, else this batch's first entry with the key.
        kept = {key: resource_type for key, resource_type, _ in reversed(valid)} | existing
        answered, stored, duplicates, refused = set(), 0, 0, 0
        responses = []
        for item in checked:
            if isinstance(item, str):
                refused += 1
                responses.append({"status": "400 Bad Request", "outcome": _outcome("invalid", item)})
                continue
            key, resource_type, _ = item
            if key in new and key not in answered:
                stored += 1
                responses.append({"status": "201 Created", "location": f"{resource_type}/{key}"})
            else:
                # The key's first resource stays; the location names what is stored under it.
                duplicates += 1
                responses.append({"status": "200 OK", "location": f"{kept[key]}/{key}"})
            answered.add(key)
        with self._lock:
            self._counts["stored"] += stored
            self._counts["duplicates"] += duplicates
            self._counts["refused"] += refused
        return 200, {"resourceType": "Bundle", "type": "batch-response",
                     "entry": [{"response": response} for response in responses]}

    def _refuse(self, status: int, reason: str, code: str = "invalid") -> tuple[int, dict]:
        with self._lock:
            self._counts["refused"] += 1
        return status, _outcome(code, reason)

    def _change_faults(self, environ, start_response):
        body = _read_body(environ, MAX_FAULTS_BODY_BYTES)
        try:
            faults = json.loads(body or b"")
            if not isinstance(faults, dict) or set(faults) - set(FAULTS):
                raise ValueError(f"send a JSON object with some of {', '.join(FAULTS)}")
            self.set_faults(**faults)
        except ValueError as error:  # JSONDecodeError is a ValueError
            return _reply(start_response, 400, _outcome("invalid", str(error)[:200]))
        return _reply(start_response, 200, self.faults(), content_type="application/json")


def make_receiver(database_url: str, secret: str, *, fail_first: int = 0, drop_first: int = 0,
                  drop_after_store: int = 0) -> Receiver:
    """A receiver storing into `database_url` (its table is created when missing)."""
    return Receiver(ReceiverStore(database_url), secret, fail_first=fail_first, drop_first=drop_first,
                    drop_after_store=drop_after_store)


def _read_body(environ, limit: int) -> bytes | None:
    """The request body, or None when it is longer than `limit` bytes."""
    stream = get_input_stream(environ, safe_fallback=True)
    body = stream.read(limit + 1)
    if len(body) <= limit:
        return body
    discarded = len(body)
    while discarded < DISCARD_LIMIT_BYTES and (chunk := stream.read(1024 * 1024)):
        discarded += len(chunk)
    return None


def _number(text: str) -> Decimal | int:
    if len(text) > MAX_NUMBER_CHARS:
        raise ValueError("a number in the body is too long")
    return int(text) if text.lstrip("-").isdigit() else Decimal(text)


def _no_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def _batch_entries(body: bytes) -> list | str:
    """The entries of a batch Bundle, or why the body is not one."""
    try:
        # Decimals keep a number's text ("1.50" stays 1.50: FHIR decimals carry their precision).
        bundle = json.loads(body, parse_float=_number, parse_int=_number, parse_constant=_no_constant)
    except (ValueError, RecursionError) as error:  # UnicodeDecodeError and JSONDecodeError included
        return f"the body is not JSON: {str(error)[:120]}"
    kind = (bundle.get("resourceType"), bundle.get("type")) if isinstance(bundle, dict) else None
    if kind != ("Bundle", "batch"):
        return 'the body is not a Bundle of type "batch"'
    entries = bundle.get("entry", [])
    if not isinstance(entries, list):
        return "Bundle.entry is not a list"
    if len(entries) > MAX_ENTRIES:
        return f"more than {MAX_ENTRIES} entries in one batch"
    return entries


def _check_entry(entry) -> tuple[str, str, str] | str:
    """(event key, resource type, resource JSON) of a well-formed entry, or why it is not one."""
    if not isinstance(entry, dict):
        return "the entry is not an object"
    full_url, request, resource = entry.get("fullUrl"), entry.get("request"), entry.get("resource")
    key = full_url[len(UUID_URN):] if isinstance(full_url, str) and full_url.startswith(UUID_URN) else ""
    if not _is_uuid(key):
        return "fullUrl is not urn:uuid:<lower-case UUID>"
    if not isinstance(request, dict) or request.get("method") != "POST":
        return "request.method is not POST"
    if not isinstance(resource, dict) or resource.get("resourceType") not in RESOURCE_TYPES:
        return f"resourceType is not one of {', '.join(RESOURCE_TYPES)}"
    resource_type = resource["resourceType"]
    if request.get("url") != resource_type:
        return "request.url is not the resource's resourceType"
    condition = request.get("ifNoneExist")
    if not isinstance(condition, str) or not condition.startswith("identifier="):
        return "request.ifNoneExist is not identifier=<system>|<event key>"
    system, bar, value = condition.removeprefix("identifier=").rpartition("|")
    if not (system and bar):
        return "request.ifNoneExist is not identifier=<system>|<event key>"
    if value != key:
        return "request.ifNoneExist names another key than fullUrl"
    problem = _invalid_resource(resource_type, resource)
    return problem or (key, resource_type, _dumps(resource))


def _is_uuid(text: str) -> bool:
    parts = text.split("-")
    return (len(text) == 36 and [len(part) for part in parts] == [8, 4, 4, 4, 12]
            and all(part.isascii() and all(c in "0123456789abcdef" for c in part) for part in parts))


def _invalid_resource(resource_type: str, resource: dict) -> str | None:
    """Why fhir.resources' R4B model refuses the resource, or None (the sender's own check, so both
    ends judge a resource alike)."""
    problem = fhir.validate(resource)
    return f"{resource_type} is not valid: {problem}"[:200] if problem else None


def _dumps(value) -> str:
    """JSON text of a parsed resource, decimals written as they arrived.

    One pass of the C encoder: each Decimal goes out as a placeholder string holding a random mark and
    its number (a string sent to us cannot carry a mark made after it arrived), then the placeholders
    are replaced by the decimals' own text.
    """
    decimals: list[str] = []
    mark = secrets.token_hex(8)

    def placeholder(item):
        if isinstance(item, Decimal):
            decimals.append(str(item))
            return f"{mark}:{len(decimals) - 1}"
        raise TypeError(f"{type(item).__name__} is not JSON")

    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=placeholder)
    if not decimals:
        return text
    return re.sub(f'"{mark}:([0-9]+)"', lambda match: decimals[int(match.group(1))], text)


def _outcome(code: str, diagnostics: str) -> dict:
    return {"resourceType": "OperationOutcome",
            "issue": [{"severity": "error", "code": code, "diagnostics": diagnostics}]}


def _reply(start_response, status: int, payload: dict, headers=(), content_type: str = CONTENT_TYPE):
    body = json.dumps(payload).encode()
    start_response(STATUS_TEXT[status], [("Content-Type", content_type),
                                         ("Content-Length", str(len(body))), *headers])
    return [body]


def _drop(environ, start_response):
    """Closes the client's connection without an answer, as a crashed platform or a lost network would."""
    connection = environ.get("werkzeug.socket")
    if connection is None:
        raise RuntimeError("Dropping a connection needs werkzeug's server (serve or start_in_thread).")
    # The client reads end-of-stream where the status line should be: requests raises ConnectionError.
    # Only shutdown, not close: werkzeug still holds the socket and closes it. OSError: the client has
    # gone already, dropped either way.
    with contextlib.suppress(OSError):
        connection.shutdown(socket.SHUT_RDWR)
    # Writing these headers now fails with EPIPE, which werkzeug takes for a client that went away;
    # 444 (nginx's "closed without response") is only what its request log line shows.
    start_response("444 Connection Closed Without Response", [("Content-Length", "0")])
    return []


class RunningReceiver:
    """A receiver served from a daemon thread (for tests): `url`, `port`, `stop()`."""

    def __init__(self, server: BaseWSGIServer, thread: threading.Thread):
        self._server, self._thread = server, thread
        self.port = server.port
        self.url = f"http://{server.host}:{server.port}/fhir"

    def stop(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join()


def _server(receiver: Receiver, host: str, port: int) -> BaseWSGIServer:
    return make_server(host, port, receiver, threaded=True)


def start_in_thread(receiver: Receiver, host: str = "127.0.0.1", port: int = 0) -> RunningReceiver:
    """Serve `receiver` on a free port (by default) until `stop()`."""
    server = _server(receiver, host, port)
    # A short poll interval: stop() waits for the loop to notice, and tests stop many servers.
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              name=f"platform-receiver-{server.port}", daemon=True)
    thread.start()
    return RunningReceiver(server, thread)


def serve(receiver: Receiver, host: str = "127.0.0.1", port: int = 8765) -> None:
    """Serve `receiver` with werkzeug's threaded server until interrupted."""
    _server(receiver, host, port).serve_forever()


def _configured_secret() -> str:
    """PLATFORM_PUSH_SECRET from the app's configuration; the app is loaded only when it is asked for."""
    read = with_appcontext(lambda: current_app.config.get("PLATFORM_PUSH_SECRET") or "")
    return click.get_current_context().invoke(read)


@click.command("receive")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; /stats and /faults have no signature, so keep it on loopback.")
@click.option("--port", default=8765, show_default=True, type=click.IntRange(0, 65535))
@click.option("--database", default=DEFAULT_DATABASE, show_default=True, help="SQLAlchemy URL to store into.")
@click.option("--secret", envvar="PLATFORM_PUSH_SECRET", default="",
              help="Push secret [default: $PLATFORM_PUSH_SECRET, else the app's PLATFORM_PUSH_SECRET].")
@click.option("--fail-first", default=0, type=click.IntRange(min=0),
              help="Answer 503 to the first N batches.")
@click.option("--drop-first", default=0, type=click.IntRange(min=0),
              help="Then close the connection of N batches without storing them.")
@click.option("--drop-after-store", default=0, type=click.IntRange(min=0),
              help="Then store N batches and close the connection without answering.")
def receive_command(host, port, database, secret, fail_first, drop_first, drop_after_store):
    """Run the reference data-platform receiver."""
    secret = secret or _configured_secret()
    if not secret:
        raise click.UsageError("No push secret: pass --secret or set PLATFORM_PUSH_SECRET.")
    receiver = make_receiver(database, secret, fail_first=fail_first, drop_first=drop_first,
                             drop_after_store=drop_after_store)
    try:
        server = _server(receiver, host, port)
        shown = receiver.store.engine.url.render_as_string(hide_password=True)
        click.echo(f"Platform receiver listening on http://{host}:{server.port}/fhir, storing into {shown}")
        server.serve_forever()
    finally:
        receiver.close()
