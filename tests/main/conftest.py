"""Home and live-queue fixtures: consultations and prescriptions built through the real services."""

import pytest
from sqlalchemy import select

from app.accounts.models import Role
from app.extensions import db as _db
from app.prescribing import services as rx
from app.review import services as review
from app.review.models import PrescriptionReview
from tests import factories
from tests.consultations.conftest import as_user, flow  # noqa: F401  (fixtures)
from tests.payments.conftest import deliver, stripe_client  # noqa: F401  (fixtures)
from tests.prescribing.conftest import catalogue_drugs, item, visit  # noqa: F401  (fixtures)


def _submitted(signed) -> None:
    """Put a just-signed version in the review queue, as the signing page does, unless signing did."""
    queued = select(PrescriptionReview.id).where(PrescriptionReview.prescription_id == signed.id)
    if _db.session.scalar(queued) is None:
        review.submit(signed)


def sign(visit, code="AMLODIPINE-5MG-TAB", **sig):  # noqa: F811
    """A new prescription with one line, signed by the visit's doctor and put in the review queue."""
    prescription = rx.start(visit.consultation, visit.doctor, condition_id=visit.condition.id)
    if sig.get("duration_days", 7) > 7:
        rx.set_supply(prescription, visit.doctor, "chronic", reason="Stable hypertension on this dose.")
    item(prescription, visit.doctor, visit.drugs, code, **sig)
    signed = rx.sign(prescription, visit.doctor, factories.PASSWORD)
    _submitted(signed)
    _db.session.commit()
    return signed


def decide(prescription, pharmacist, decision="approved", **fields):
    review.claim(prescription, pharmacist)
    review.decide(prescription, pharmacist, decision, **fields)
    _db.session.commit()
    return prescription


def revise_and_sign(prescription, doctor):
    draft = rx.revise(prescription, doctor)
    signed = rx.sign(draft, doctor, factories.PASSWORD)
    _submitted(signed)
    _db.session.commit()
    return signed


@pytest.fixture
def pharmacist(db):
    user = factories.make_user(Role.PHARMACIST, display_name="Pharmacist Lin")
    db.session.commit()
    return user
