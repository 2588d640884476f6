"""The app sending through the real `twilio` library to the fake Twilio server on 127.0.0.1, and
signed webhook requests as Twilio makes them."""

from urllib.parse import urlsplit

import pytest

from app.integrations.sms import TwilioSmsBackend
from devtools.twilio_fake import FakeTwilio, post_signed

PUBLIC_BASE = "https://hospital.example"
SERVICE_SID = "MG" + "1" * 32


@pytest.fixture
def fake_twilio(app, client, monkeypatch):
    """The fake server, and the app configured for it: SMS_BACKEND=twilio, its status callbacks
    posted (signed) through the test client as if Twilio called PUBLIC_BASE_URL."""

    def through_client(url, params, headers):
        parts = urlsplit(url)
        return client.post(parts.path + (f"?{parts.query}" if parts.query else ""), data=params,
                           headers=headers).status_code

    fake = FakeTwilio(post=through_client)
    fake.start()
    for key, value in {"TWILIO_ACCOUNT_SID": fake.account_sid, "TWILIO_AUTH_TOKEN": fake.auth_token,
                       "TWILIO_MESSAGING_SERVICE_SID": SERVICE_SID, "TWILIO_API_BASE": fake.base,
                       "PUBLIC_BASE_URL": PUBLIC_BASE, "SMS_SEND_RATE": 0}.items():
        monkeypatch.setitem(app.config, key, value)
    monkeypatch.setitem(app.extensions, "sms", TwilioSmsBackend(app))
    yield fake
    fake.stop()


@pytest.fixture
def twilio_post(app, client):
    """POST a form to one of the app's webhooks signed as Twilio would (or with `signature`)."""

    def post(path: str, params: dict, signature: str | None = None):
        headers = {}
        if signature is not None:
            headers["X-Twilio-Signature"] = signature
            return client.post(path, data=params, headers=headers)
        answers = []

        def capture(url, form, signed_headers):
            answers.append(client.post(path, data=form, headers=signed_headers))
            return answers[-1].status_code

        post_signed(PUBLIC_BASE + path, params, app.config["TWILIO_AUTH_TOKEN"], capture)
        return answers[0]

    return post


# ---- a patient who received medicines -----------------------------------------------------------

from app.extensions import db as _db  # noqa: E402
from app.orders import dispensing  # noqa: E402
from app.orders.models import Order  # noqa: E402
from tests.orders.conftest import (  # noqa: E402,F401  (fixtures)
    AMLODIPINE,
    approve,
    as_user,
    catalogue_drugs,
    deliver,
    flow,
    ordering,
    pharmacists,
    shop,
    sign,
    stripe_client,
    texted,
    visit,
)
from tests.orders.test_dispensing import EVERY_CHECK, coded  # noqa: E402,F401  (fixture)
from tests.orders.test_dispensing import code as traceability_code  # noqa: E402

METFORMIN_BID = ("METFORMIN-500MG-TAB", dict(dose="500", dose_unit="mg", frequency="BID", duration_days=7))


@pytest.fixture
def receive(shop, approve, ordering, coded, texted):  # noqa: F811
    """Order, pay, dispense and hand over prescription lines to the texted patient, as the pages do."""
    from sqlalchemy import select

    from app.inventory.models import StockLot

    serials = iter(range(1, 1000))

    def received(*lines):
        order, _payment = ordering.paid(approve(*(lines or (AMLODIPINE,))), shop.store)
        order = _db.session.get(Order, order.id)
        scans = {}
        for line in order.lines:
            lot = _db.session.scalar(select(StockLot).where(StockLot.store_id == shop.store.id,
                                                            StockLot.drug_id == line.drug_id))
            prefix = line.drug.traceability_prefix
            scans[line.id] = (lot.lot_number, " ".join(traceability_code(next(serials), prefix)
                                                       for _ in range(line.packs)))
        dispensing.dispense(order, shop.pharmacist, scans, EVERY_CHECK)
        dispensing.hand_over(order, shop.pharmacist, order.handover_code)
        _db.session.commit()
        return order

    return received
