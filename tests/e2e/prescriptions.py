"""An approved prescription for the browser tests that start after the pharmacist's review."""

from app.prescribing import services as rx
from app.review import services as review
from tests import factories


def approved_prescription(visit, drug, **sig):
    """The visit's doctor prescribes `drug` (`sig` as rx.add_item takes it) and signs; a pharmacist
    approves. The caller commits."""
    prescription = rx.start(visit, visit.doctor, condition_id=visit.condition_id)
    rx.add_item(prescription, visit.doctor, drug_id=drug.id, **sig)
    review.submit(rx.sign(prescription, visit.doctor, factories.PASSWORD))
    reviewer = factories.make_user("pharmacist")
    review.claim(prescription, reviewer)
    review.decide(prescription, reviewer, "approved")
    return prescription
