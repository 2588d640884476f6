"""Runs localstripe, the offline stand-in for Stripe, on 127.0.0.1 with its state file where we say.

Used by `make run` (python -m devtools.localstripe_runner --port 8420) and by
the tests (LocalStripe().start() in a thread). Its own CLI binds every interface and
keeps state in /tmp, which neither a shared machine nor a test run should do.

Beside localstripe's own /_config/ routes it answers /_config/faults (make the next
matching request hang, or lose its answer), /_config/idempotency (replay answers per
Idempotency-Key, as Stripe does) and /_config/requests (what it was asked, and how it went).
"""

import argparse
import asyncio
import json
import pickle
import re
import threading
import time
from collections import OrderedDict, deque
from pathlib import Path

from aiohttp import web
from localstripe import resources, server
from localstripe.webhooks import register_webhook, schedule_webhook


def _keep_state_in(state_file: Path | None) -> None:
    """Point localstripe's pickle at `state_file`, or keep it in memory only when None."""

    def dump(store):
        if state_file is not None:
            state_file.write_bytes(pickle.dumps(store, protocol=pickle.HIGHEST_PROTOCOL))

    def load(store):
        if state_file is not None and state_file.exists():
            store.update(pickle.loads(state_file.read_bytes()))  # noqa: S301  (our own file)

    resources.Store.dump_to_disk = dump
    resources.Store.try_load_from_disk = load


def _announce_authorizations() -> None:
    """Send payment_intent.amount_capturable_updated when a manual-capture card is held, as Stripe does.

    localstripe only announces charges that are captured, so without this a card authorized at
    booking would never reach the app's webhook and the consultation would wait for payment forever.
    """
    create_charge = resources.PaymentIntent._create_charge
    if getattr(create_charge, "announces_authorizations", False):
        return

    def create_charge_and_announce(intent, on_failure_now):
        create_charge(intent, on_failure_now)
        if intent.capture_method == "manual" and intent.status == "requires_capture":
            schedule_webhook(resources.Event("payment_intent.amount_capturable_updated", intent))

    create_charge_and_announce.announces_authorizations = True
    resources.PaymentIntent._create_charge = create_charge_and_announce


class _Control:
    """What the /_config/faults and /_config/idempotency endpoints set; read only on the server's loop.

    Faults make the next matching request(s) fail the way a network does: `hang` never answers
    (the request does not reach localstripe), `lose_answer` does the work and then never answers.
    Idempotency replays the first answer to a POST for the same Idempotency-Key, as Stripe does;
    it is off unless asked for, because test databases roll back and reuse ids, and so keys.
    Every API request is noted in `seen` (method, path, outcome), for tests to count.
    """

    def __init__(self):
        self.faults: list[dict] = []
        self.idempotency = False
        self.answers: OrderedDict[str, tuple] = OrderedDict()
        self.seen: deque[dict] = deque(maxlen=2000)

    def take_fault(self, request) -> str | None:
        for fault in self.faults:
            if fault["method"] == request.method and re.search(fault["path"], request.path):
                fault["times"] -= 1
                if fault["times"] <= 0:
                    self.faults.remove(fault)
                return fault["mode"]
        return None

    def note(self, request, outcome: str) -> None:
        self.seen.append({"method": request.method, "path": request.path, "outcome": outcome,
                          "idempotency_key": request.headers.get("Idempotency-Key")})


CONTROL = _Control()
NO_ANSWER_SECONDS = 60  # a hung request gives up after this even if its client never does


async def _until_the_client_gives_up(request) -> None:
    deadline = time.monotonic() + NO_ANSWER_SECONDS
    while time.monotonic() < deadline:
        transport = request.transport
        if transport is None or transport.is_closing():
            return
        await asyncio.sleep(0.02)


@web.middleware
async def _faults_and_idempotency(request, handler):
    if request.path.startswith("/_config/"):
        return await handler(request)
    fault = CONTROL.take_fault(request)
    if fault == "hang":
        CONTROL.note(request, "hung")
        await _until_the_client_gives_up(request)
        return web.Response(status=503)
    key = request.headers.get("Idempotency-Key") if request.method == "POST" and CONTROL.idempotency else None
    body = await request.read()
    if key and key in CONTROL.answers:
        method, path, sent, status, answer = CONTROL.answers[key]
        if (method, path, sent) != (request.method, request.path, body):
            CONTROL.note(request, "refused")
            return web.json_response({"error": {"type": "idempotency_error", "message":
                                                "Keys for idempotent requests can only be used with the "
                                                "same parameters they were first used with."}}, status=400)
        CONTROL.note(request, "replayed")
        response = web.Response(body=answer, status=status, content_type="application/json")
    else:
        try:
            response = await handler(request)
        except Exception:
            CONTROL.note(request, "refused")
            raise
        CONTROL.note(request, "processed" if response.status < 400 else "refused")
        if key and response.status < 300:
            CONTROL.answers[key] = (request.method, request.path, body, response.status, response.body)
            while len(CONTROL.answers) > 10_000:
                CONTROL.answers.popitem(last=False)
    if fault == "lose_answer":
        CONTROL.note(request, "answer lost")
        await _until_the_client_gives_up(request)
    return response


async def _set_fault(request):
    data = await request.json()
    mode = data.get("mode")
    if mode not in ("hang", "lose_answer") or not isinstance(data.get("path"), str):
        return web.json_response({"error": "mode is hang or lose_answer; path is a regular expression"},
                                 status=400)
    CONTROL.faults.append({"method": str(data.get("method", "POST")).upper(), "path": data["path"],
                           "mode": mode, "times": int(data.get("times", 1))})
    return web.json_response({"faults": CONTROL.faults})


async def _clear_faults(_request):
    CONTROL.faults.clear()
    CONTROL.seen.clear()
    return web.json_response({"faults": []})


async def _set_idempotency(request):
    data = await request.json()
    CONTROL.idempotency = bool(data.get("enabled"))
    CONTROL.answers.clear()
    return web.json_response({"enabled": CONTROL.idempotency})


async def _requests_seen(_request):
    return web.Response(text=json.dumps(list(CONTROL.seen)), content_type="application/json")


def _install_control() -> None:
    """Add the middleware and the control routes once, before localstripe's app is first started."""
    if _faults_and_idempotency in server.app.middlewares:
        return
    server.app.middlewares.append(_faults_and_idempotency)
    server.app.router.add_post("/_config/faults", _set_fault)
    server.app.router.add_delete("/_config/faults", _clear_faults)
    server.app.router.add_post("/_config/idempotency", _set_idempotency)
    server.app.router.add_get("/_config/requests", _requests_seen)


class LocalStripe:
    """localstripe in a background thread with its own event loop; stop() ends it."""

    def __init__(self, port: int = 0, state_file: Path | None = None):
        self.port = port
        self.state_file = state_file
        self._loop = asyncio.new_event_loop()
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "LocalStripe":
        _keep_state_in(self.state_file)
        _announce_authorizations()
        _install_control()
        resources.store.clear()
        resources.store.try_load_from_disk()
        self._thread = threading.Thread(target=self._serve, name="localstripe", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout=15):
            raise RuntimeError("localstripe did not start")
        return self

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._runner = web.AppRunner(server.app, access_log=None)
        self._loop.run_until_complete(self._runner.setup())
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        self._loop.run_until_complete(site.start())
        self.port = site._server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()
        # Webhooks still waiting to be sent are dropped with the server.
        pending = asyncio.all_tasks(self._loop)
        for task in pending:
            task.cancel()
        self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        self._loop.run_until_complete(self._runner.cleanup())
        self._loop.close()

    def stop(self) -> None:
        if self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=15)
            self._thread = None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8420)
    parser.add_argument("--state-file", type=Path, default=Path("instance/localstripe.pickle"))
    parser.add_argument("--webhook-url", help="where localstripe sends signed events")
    parser.add_argument("--webhook-secret", help="the signing secret the app expects")
    args = parser.parse_args()
    args.state_file.parent.mkdir(parents=True, exist_ok=True)
    stub = LocalStripe(args.port, args.state_file).start()
    if args.webhook_url and args.webhook_secret:
        register_webhook("app", args.webhook_url, args.webhook_secret, None)
    print(f"localstripe listening on {stub.url}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        stub.stop()


if __name__ == "__main__":
    main()
