"""Browser fixtures: Debian's Chromium driven by Playwright against a live server on 127.0.0.1."""

import os
import threading
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from flask_migrate import upgrade
from werkzeug.serving import make_server

from app import create_app
from app.extensions import db

CHROMIUM = Path("/usr/bin/chromium")


def pytest_collection_modifyitems(config, items):
    if CHROMIUM.exists():
        return
    if os.environ.get("CI", "").lower() == "true":
        raise pytest.UsageError("CI=true but /usr/bin/chromium is missing: browser tests may not be skipped.")
    skip = pytest.mark.skip(reason="Debian's chromium is not installed (apt-get install chromium)")
    for item in items:
        if "e2e" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    # pytest-playwright's --browser-channel cannot point at a system binary.
    return {
        **browser_type_launch_args,
        "executable_path": str(CHROMIUM),
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    # A phone-sized screen first: the portal is used mostly on phones.
    return {**browser_context_args, "viewport": {"width": 390, "height": 844}}


@pytest.fixture(scope="session")
def live_app(tmp_path_factory, localstripe):
    folder = tmp_path_factory.mktemp("e2e")
    application = create_app("testing", {
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'browser.sqlite3'}",
        "WTF_CSRF_ENABLED": True,
        "UPLOAD_FOLDER": str(folder / "uploads"),
        "STRIPE_API_BASE": localstripe.url,
    })
    with application.app_context():
        upgrade()
    return application


@pytest.fixture(scope="session")
def live_server(live_app):
    server = make_server("127.0.0.1", 0, live_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base_url = f"http://127.0.0.1:{server.server_port}"
    # localstripe sends its signed events to this server, as Stripe would in production.
    register = urllib.request.Request(  # noqa: S310  (localstripe on 127.0.0.1)
        f"{live_app.config['STRIPE_API_BASE']}/_config/webhooks/e2e",
        data=urllib.parse.urlencode({"url": f"{base_url}/payments/webhooks/stripe",
                                     "secret": live_app.config["STRIPE_WEBHOOK_SECRET"]}).encode(),
        method="POST",
    )
    urllib.request.urlopen(register, timeout=10).close()  # noqa: S310
    try:
        yield base_url
    finally:
        server.shutdown()
        thread.join(timeout=10)
        with live_app.app_context():
            db.engine.dispose()
