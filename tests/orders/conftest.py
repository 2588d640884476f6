"""Order fixtures: an approved prescription, a stocked store, and an order paid through localstripe."""

from datetime import timedelta
from types import SimpleNamespace

import pytest

from app.database import utcnow
from app.extensions import db as _db
from app.inventory import services as inventory
from app.orders import services as orders
from app.patients.models import Address, ConsentKind
from app.patients.services import grant_consent
from app.payments import services as payments
from app.review import services as review
from tests import factories
from tests.review.conftest import (  # noqa: F401  (fixtures)
    AMLODIPINE,
    as_user,
    catalogue_drugs,
    deliver,
    flow,
    pharmacists,
    sign,
    stripe_client,
    visit,
)

# Amlodipine 5 mg, once a day for 7 days: one pack of 28 tablets.
PACKS = 1


@pytest.fixture
def shop(db, visit, pharmacists):  # noqa: F811
    """A Shanghai store (cold chain, delivering in Shanghai) with 20 packs of each test drug, in date
    for a year; its own pharmacist receives them."""
    store = factories.make_store(code="SH1", city="Shanghai", opening_hours="Mon–Sun 08:00–21:00")
    from app.inventory.models import StoreServiceCity

    _db.session.add(StoreServiceCity(store_id=store.id, city="上海"))
    receiver = factories.make_user("pharmacist")
    receiver.pharmacist_profile.home_store_id = store.id
    for number, drug in enumerate(visit.drugs.values()):
        if drug.is_online_prescribable:
            inventory.receive(store, drug, f"LOT-{number:03d}", (utcnow() + timedelta(days=365)).date(), 20,
                              500, receiver, arrival_temperature=5 if drug.is_cold_chain else None)
    _db.session.commit()
    return SimpleNamespace(store=store, pharmacist=receiver)


@pytest.fixture
def courier(shop):
    """A courier of the shop."""
    rider = factories.make_user("courier", display_name="Rider Li")
    rider.courier_profile.home_store_id = shop.store.id
    _db.session.commit()
    return rider


@pytest.fixture
def approve(sign, pharmacists):  # noqa: F811
    """Sign the lines and have a pharmacist approve them."""

    def approved(*lines):
        prescription = sign(*(lines or (AMLODIPINE,)))
        review.claim(prescription, pharmacists[0])
        review.decide(prescription, pharmacists[0], "approved")
        _db.session.commit()
        return prescription

    return approved


@pytest.fixture
def texted(visit):  # noqa: F811
    """The visit's patient agreed to SMS."""
    grant_consent(visit.patient, ConsentKind.SMS_REMINDERS)
    _db.session.commit()
    return visit.patient


def home_address(patient, city="Shanghai") -> Address:
    address = Address(patient_id=patient.id, recipient=patient.display_name, phone=patient.phone,
                      province=city, city=city, street="8 Garden Lane", is_default=True)
    _db.session.add(address)
    _db.session.commit()
    return address


class OrderFlow:
    """Places and pays orders the way the pages do, committing like the views."""

    def __init__(self, flow):  # noqa: F811
        self.flow = flow

    def place(self, prescription, store, fulfilment="pickup", address=None):
        order = orders.place(prescription, prescription.patient, store_id=store.id, fulfilment=fulfilment,
                             address_id=address.id if address else None)
        _db.session.commit()
        return order

    def pay(self, order, card="pm_card_visa"):
        payment = orders.start_payment(order)
        _db.session.commit()
        payments.attach_intent(payment, card)
        _db.session.commit()
        return payment

    def paid(self, prescription, store, **kwargs):
        order = self.place(prescription, store, **kwargs)
        payment = self.pay(order)
        self.flow.confirm(payment)
        return order, payment


@pytest.fixture
def ordering(flow):  # noqa: F811
    return OrderFlow(flow)
