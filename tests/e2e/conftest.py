"""Browser fixtures: Debian's Chromium driven by Playwright against a live server on 127.0.0.1."""

import json
import os
import threading
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
import stripe
from werkzeug.serving import make_server

from app import create_app
from app.accounts.models import User
from app.consultations.models import Consultation
from app.consultations.states import ConsultationStatus
from app.database import utcnow
from app.drugs import services as drug_catalogue
from app.extensions import db, limiter
from app.patients.models import Condition, ConditionStatus, UploadPurpose
from app.patients.uploads import save_upload
from app.schema import upgrade
from tests import factories
from tests.consultations.conftest import Flow, upload_file
from tests.fuzz_world import World
from tests.payments.conftest import sign

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
    try:
        yield base_url
    finally:
        server.shutdown()
        thread.join(timeout=10)
        with live_app.app_context():
            db.engine.dispose()


def send_webhooks_to(live_app, url: str) -> None:
    register = urllib.request.Request(  # noqa: S310  (localstripe on 127.0.0.1)
        f"{live_app.config['STRIPE_API_BASE']}/_config/webhooks/e2e",
        data=urllib.parse.urlencode({"url": url,
                                     "secret": live_app.config["STRIPE_WEBHOOK_SECRET"]}).encode(),
        method="POST",
    )
    urllib.request.urlopen(register, timeout=10).close()  # noqa: S310


@pytest.fixture(autouse=True)
def _webhooks_reach_the_live_server_during_the_test(request):
    """localstripe sends its signed events to the live server, as Stripe would in production, but only
    while a browser test runs. The localstripe is shared by the whole run, and the live server shares
    the database session object with other tests: an event from a later test's payment reaching it
    would use that test's connection from another thread."""
    if "live_server" not in request.fixturenames:
        yield
        return
    live_app, base_url = request.getfixturevalue("live_app"), request.getfixturevalue("live_server")
    send_webhooks_to(live_app, f"{base_url}/payments/webhooks/stripe")
    try:
        yield
    finally:
        send_webhooks_to(live_app, "http://127.0.0.1:9/nowhere")  # the discard port: nothing listens


@pytest.fixture
def consultation(live_app, tmp_path, request):
    """An accepted consultation for a patient with a verified hypertension diagnosis, and a pharmacist
    (logins: patient, doctor, pharmacist), all speaking the test's language."""
    lang = request.node.callspec.params["lang"]
    live_app.config["UPLOAD_FOLDER"] = str(tmp_path)
    with live_app.app_context():
        drug_catalogue.load_shipped_catalogue()  # idempotent: unchanged rows stay as they are
        patient = factories.make_patient(locale=lang, display_name=f"Patient Rx {lang}")
        doctor = factories.make_user("doctor", locale=lang, display_name=f"Dr. Rx {lang}")
        pharmacist = factories.make_user("pharmacist", locale=lang, display_name=f"Pharmacist Rx {lang}")
        proof = save_upload(upload_file(), patient=patient, uploaded_by=patient,
                            purpose=UploadPurpose.CONDITION_PROOF)
        condition = Condition(patient_id=patient.id, icd10_code="I10", name="Essential hypertension",
                              hospital="Ruijin Hospital", diagnosed_on=utcnow().date(),
                              proof_upload_id=proof.id, status=ConditionStatus.VERIFIED,
                              reviewed_by_id=doctor.id, reviewed_at=utcnow())
        db.session.add(condition)
        db.session.flush()
        now = utcnow()
        visit = Consultation(patient_id=patient.id, doctor_id=doctor.id, condition_id=condition.id,
                             reason="Blood pressure follow-up.", status=ConsultationStatus.IN_PROGRESS,
                             fee_fen=3000, paid_at=now, accepted_at=now)
        db.session.add(visit)
        db.session.commit()
        found = visit.id, patient.email, doctor.email, pharmacist.email
        db.session.remove()  # an open SQLite transaction would lock the live server out
    return found


@dataclass
class Sweep:
    """What a page sweep needs of the world, read while its session was open: logins and URL ids."""

    logins: dict[str, str]  # role → login name
    user_ids: dict[str, int]  # role → user id
    ids: dict[str, dict[str, int]]  # endpoint → URL parameter values


def live_flow(live_app, localstripe) -> Flow:
    """Consultations built step by step as users do, against the live app's database (call it inside
    the app's context): Stripe's signed webhooks reach the app in-process."""
    client = live_app.test_client()

    def deliver(event: dict):
        payload = json.dumps(event)
        header = sign(payload, live_app.config["STRIPE_WEBHOOK_SECRET"])
        return client.post("/payments/webhooks/stripe", data=payload,
                           headers={"Stripe-Signature": header, "Content-Type": "application/json"})

    return Flow(deliver, stripe.StripeClient("sk_test_inspect", base_addresses={"api": localstripe.url}))


@pytest.fixture(scope="session")
def world(live_app, localstripe):
    """One of everything a page takes an id of (the route fuzz's world), built once for the browser
    sweeps, committed like the views do; its users sign in with factories.PASSWORD."""
    with live_app.app_context():
        made = World(db, live_flow(live_app, localstripe))
        found = Sweep(logins={role: user.login_name for role, user in made.users.items()},
                      user_ids={role: user.id for role, user in made.users.items()},
                      ids={rule.endpoint: made.ids(rule.endpoint) for rule in live_app.url_map.iter_rules()})
        db.session.remove()  # an open SQLite transaction would lock the live server out
    return found


def speak(live_app, user_ids, lang: str) -> None:
    """Users read the portal in their saved language: set it before they sign in."""
    with live_app.app_context():
        for user_id in user_ids:
            db.session.get(User, user_id).locale = lang
        db.session.commit()
        limiter.reset()  # a sweep signs in many times from one address
        db.session.remove()
