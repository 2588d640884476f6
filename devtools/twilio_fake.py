"""A stand-in for Twilio's Messages API on 127.0.0.1, for `make run`, the tests and the benchmark.

It answers `POST /2010-04-01/Accounts/{sid}/Messages.json` as Twilio does (201 and the message as JSON,
or Twilio's error JSON), checks the account's Basic credentials, keeps what it accepted, fails on
command, and sends status callbacks signed with the auth token exactly as Twilio signs them
(`X-Twilio-Signature`, HMAC-SHA1 over the URL and the sorted form fields).

    .venv/bin/python -m devtools.twilio_fake --port 8421 [--deliver-after 1.0]

Control, for a test or a developer (JSON bodies):
    GET  /_fake/messages                      what was accepted, oldest first
    POST /_fake/fail   {"status": 500, "count": 10}           the next 10 sends answer 500
    POST /_fake/fail   {"to": "+86139…", "code": 21610}       that number answers 21610 from now on
    POST /_fake/status {"sid": "SM…", "status": "delivered"}  send the message's status callback
    POST /_fake/reset                         forget everything
"""

import argparse
import base64
import itertools
import json
import secrets
import socket
import threading
import time
import urllib.parse
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests
from twilio.request_validator import RequestValidator

DEFAULT_ACCOUNT_SID = "AC" + "0" * 30 + "fa"
DEFAULT_AUTH_TOKEN = "fake-twilio-auth-token-for-development"  # noqa: S105  (never reaches Twilio)
ERROR_TEXTS = {
    21610: "Attempt to send to unsubscribed recipient",
    21211: "Invalid 'To' Phone Number",
    21614: "'To' number is not a valid mobile number",
    20500: "An internal server error has occurred",
}


class FakeTwilio:
    """The server and its state; `start()` serves in a thread, `stop()` shuts it down."""

    def __init__(self, *, account_sid: str = DEFAULT_ACCOUNT_SID, auth_token: str = DEFAULT_AUTH_TOKEN,
                 port: int = 0, deliver_after: float | None = None, post=None):
        """`post(url, params, headers) -> HTTP status` delivers status callbacks (default: over HTTP);
        a test may hand them to its own client instead."""
        self.account_sid, self.auth_token = account_sid, auth_token
        self.post = post or _post_over_http
        self.deliver_after = deliver_after
        self.lock = threading.Lock()
        self.messages: list[dict] = []
        self.by_sid: dict[str, dict] = {}
        self.failures_left = 0
        self.failure_status = 500
        self.failure_code = 20500
        self.refused_numbers: dict[str, int] = {}
        self.callbacks: list[tuple[str, str, int]] = []  # (sid, status, the app's HTTP answer)
        self._serial = itertools.count(1)
        self.server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self._thread: threading.Thread | None = None

    # ---- control ---------------------------------------------------------------------------------

    def fail_next(self, count: int, status: int = 500, code: int = 20500) -> None:
        with self.lock:
            self.failures_left, self.failure_status, self.failure_code = count, status, code

    def refuse_number(self, to: str, code: int = 21610) -> None:
        with self.lock:
            self.refused_numbers[to] = code

    def reset(self) -> None:
        with self.lock:
            self.messages.clear()
            self.by_sid.clear()
            self.refused_numbers.clear()
            self.callbacks.clear()
            self.failures_left = 0

    def accepted(self) -> list[dict]:
        with self.lock:
            return [dict(m) for m in self.messages]

    def send_status(self, sid: str, status: str, error_code: int | None = None) -> int:
        """POST the message's status callback as Twilio would; returns the app's HTTP status."""
        with self.lock:
            message = self.by_sid[sid]
        params = {"MessageSid": sid, "SmsSid": sid, "AccountSid": self.account_sid,
                  "MessageStatus": status, "SmsStatus": status, "To": message["to"],
                  "From": message["from"] or "", "ApiVersion": "2010-04-01"}
        if error_code is not None:
            params["ErrorCode"] = str(error_code)
        answer = post_signed(message["status_callback"], params, self.auth_token, self.post)
        with self.lock:
            message["status"] = status
            self.callbacks.append((sid, status, answer))
        return answer

    # ---- serving ---------------------------------------------------------------------------------

    def start(self) -> str:
        self._thread = threading.Thread(target=self.server.serve_forever, name="twilio-fake", daemon=True)
        self._thread.start()
        return self.base

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _create(self, form: dict) -> tuple[int, dict]:
        to = form.get("To", "")
        with self.lock:
            if self.failures_left:
                self.failures_left -= 1
                return self.failure_status, _error(self.failure_status, self.failure_code)
            if to in self.refused_numbers:
                return 400, _error(400, self.refused_numbers[to])
            if not to.startswith("+") or not form.get("Body"):
                return 400, _error(400, 21211 if not to.startswith("+") else 21602)
            sid = f"SM{next(self._serial):08x}{secrets.token_hex(12)}"
            message = {"sid": sid, "to": to, "from": form.get("From"), "body": form["Body"],
                       "messaging_service_sid": form.get("MessagingServiceSid"),
                       "status_callback": form.get("StatusCallback"), "status": "queued",
                       "accepted_at": time.time()}
            self.messages.append(message)
            self.by_sid[sid] = message
        if self.deliver_after is not None and message["status_callback"]:
            threading.Timer(self.deliver_after, self._deliver, args=(sid,)).start()
        return 201, {"sid": sid, "account_sid": self.account_sid, "to": to, "from": message["from"],
                     "body": message["body"], "status": "queued", "num_segments": "1",
                     "messaging_service_sid": message["messaging_service_sid"], "direction": "outbound-api",
                     "api_version": "2010-04-01", "date_created": formatdate(usegmt=True),
                     "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json"}

    def _deliver(self, sid: str) -> None:
        for status in ("sent", "delivered"):
            try:
                self.send_status(sid, status)
            except OSError:
                return  # the app is not listening (stopped); Twilio would give up too

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as the library's session expects

            def setup(self):
                super().setup()
                # The headers and the body go out in two writes: without this, Nagle's algorithm holds
                # the body until the client's delayed ACK, 40 ms per message.
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def log_message(self, *_args):
                pass

            def _answer(self, status: int, payload) -> None:
                body = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _body(self) -> bytes:
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def do_GET(self):
                if self.path == "/_fake/messages":
                    return self._answer(200, fake.accepted())
                return self._answer(404, _error(404, 20404))

            def do_POST(self):
                raw = self._body()
                if self.path.startswith("/_fake/"):
                    return self._control(self.path, json.loads(raw or b"{}"))
                expected = f"/2010-04-01/Accounts/{fake.account_sid}/Messages.json"
                if self.path != expected:
                    return self._answer(404, _error(404, 20404))
                credentials = base64.b64encode(f"{fake.account_sid}:{fake.auth_token}".encode()).decode()
                if self.headers.get("Authorization") != f"Basic {credentials}":
                    return self._answer(401, _error(401, 20003))
                form = dict(urllib.parse.parse_qsl(raw.decode(), keep_blank_values=True))
                return self._answer(*fake._create(form))

            def _control(self, path: str, payload: dict):
                if path == "/_fake/fail" and "to" in payload:
                    fake.refuse_number(payload["to"], int(payload.get("code", 21610)))
                elif path == "/_fake/fail":
                    fake.fail_next(int(payload.get("count", 1)), int(payload.get("status", 500)),
                                   int(payload.get("code", 20500)))
                elif path == "/_fake/status":
                    return self._answer(200, {"app_answered": fake.send_status(
                        payload["sid"], payload["status"], payload.get("error_code"))})
                elif path == "/_fake/reset":
                    fake.reset()
                else:
                    return self._answer(404, _error(404, 20404))
                return self._answer(200, {"ok": True})

        return Handler


def _error(status: int, code: int) -> dict:
    return {"code": code, "message": ERROR_TEXTS.get(code, "Error"), "status": status,
            "more_info": f"https://www.twilio.com/docs/errors/{code}"}


def _post_over_http(url: str, params: dict, headers: dict) -> int:
    return requests.post(url, data=params, headers=headers, timeout=10).status_code


def post_signed(url: str, params: dict, auth_token: str, post=_post_over_http) -> int:
    """POST a form to `url` signed as Twilio signs its webhooks; the HTTP status of the answer."""
    signature = RequestValidator(auth_token).compute_signature(url, params)
    return post(url, params, {"X-Twilio-Signature": signature})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8421)
    parser.add_argument("--account-sid", default=DEFAULT_ACCOUNT_SID)
    parser.add_argument("--auth-token", default=DEFAULT_AUTH_TOKEN)
    parser.add_argument("--deliver-after", type=float, default=None,
                        help="report each message sent, then delivered, this many seconds after accepting it")
    args = parser.parse_args()
    fake = FakeTwilio(account_sid=args.account_sid, auth_token=args.auth_token, port=args.port,
                      deliver_after=args.deliver_after)
    print(f"Fake Twilio on {fake.base} (account {fake.account_sid})", flush=True)
    try:
        fake.server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        fake.server.server_close()


if __name__ == "__main__":
    main()
