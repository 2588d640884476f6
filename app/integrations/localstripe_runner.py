"""Runs localstripe, the offline stand-in for Stripe, on 127.0.0.1 with its state file where we say.

Used by `make run` (python -m app.integrations.localstripe_runner --port 8420) and by
the tests (LocalStripe().start() in a thread). Its own CLI binds every interface and
keeps state in /tmp, which neither a shared machine nor a test run should do.
"""

import argparse
import asyncio
import pickle
import threading
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
