"""Consultation fixtures: verified conditions, consultations at each step, browsers per user, webhooks."""

from io import BytesIO

import pytest
from werkzeug.datastructures import FileStorage

from app.accounts.models import Role
from app.consultations import queries
from app.consultations import services as consultations
from app.database import utcnow
from app.extensions import db as _db
from app.integrations.stripe_gateway import Intent
from app.patients.models import Condition, ConditionStatus, UploadPurpose
from app.patients.uploads import save_upload
from app.payments import operations as payment_operations
from app.payments import services as payments
from tests import factories
from tests.payments.conftest import CallCounter, deliver, intent_event, stripe_client  # noqa: F401

PDF = b"%PDF-1.4\n% test proof\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def upload_file(data: bytes = PDF, name: str = "record.pdf") -> FileStorage:
    return FileStorage(BytesIO(data), filename=name)


class Flow:
    """Builds consultations the way users do, step by step, committing like the views."""

    def __init__(self, deliver_event, stripe):
        self._deliver, self.stripe = deliver_event, stripe
        self._events = 0

    def condition(self, patient=None, status=ConditionStatus.VERIFIED, **fields) -> Condition:
        patient = patient or factories.make_patient()
        proof = save_upload(upload_file(), patient=patient, uploaded_by=patient,
                            purpose=UploadPurpose.CONDITION_PROOF)
        values = dict(patient_id=patient.id, icd10_code="E11.9", name="Type 2 diabetes mellitus",
                      hospital="Test People's Hospital", diagnosed_on=utcnow().date(),
                      proof_upload_id=proof.id, status=status)
        values.update(fields)
        condition = Condition(**values)
        _db.session.add(condition)
        _db.session.flush()
        return condition

    def doctor(self, department="Cardiology", fee_fen=3000, **fields):
        doctor = factories.make_user(Role.DOCTOR, **fields)
        doctor.doctor_profile.department = department
        doctor.doctor_profile.consultation_fee_fen = fee_fen
        _db.session.flush()
        return doctor

    def book(self, patient=None, doctor=None, condition=None, reason="Blood sugar is high in the mornings.",
             files=()):
        condition = condition or self.condition(patient)
        patient = patient or condition.patient
        doctor = doctor or self.doctor()
        consultation = consultations.book(patient, condition_id=condition.id, doctor_id=doctor.id,
                                          reason=reason, files=files)
        _db.session.commit()
        return consultation

    def pay(self, consultation, card="pm_card_visa"):
        payment = consultations.start_payment(consultation)
        _db.session.commit()
        payments.attach_intent(payment, card)
        _db.session.commit()
        return payment

    def intent(self, payment) -> dict:
        return self.stripe.v1.payment_intents.retrieve(payment.stripe_payment_intent_id).to_dict()

    def confirm(self, payment, event_id=None):
        """Stripe's signed webhook for the intent as localstripe holds it now."""
        self._events += 1
        event = intent_event(self.intent(payment), "payment_intent.amount_capturable_updated",
                             event_id or f"evt_consultation_{payment.id}_{self._events}")
        response = self._deliver(event)
        assert response.status_code == 200, response.get_data(as_text=True)
        _db.session.expire_all()
        return response

    def paid(self, **kwargs):
        consultation = self.book(**kwargs)
        self.confirm(self.pay(consultation))
        return consultation

    def accepted(self, **kwargs):
        consultation = self.paid(**kwargs)
        consultations.accept(consultation, consultation.doctor)
        _db.session.commit()
        self.settle(consultation)
        return consultation

    def settle(self, consultation) -> bool:
        """What a view does after its commit: perform the payment operations the action queued."""
        return payment_operations.perform_for_payable(consultations.PAYABLE, consultation.id)

    def apply(self, payment) -> None:
        """What the webhook would do, without HTTP (service-level tests)."""
        payments.apply_intent(payment, Intent.from_object(self.intent(payment)))
        _db.session.commit()

    def payment(self, consultation):
        return queries.current_payment(consultation)


@pytest.fixture
def flow(db, deliver, stripe_client):  # noqa: F811  (the imported fixtures)
    return Flow(deliver, stripe_client)


@pytest.fixture
def gateway(app):
    return app.extensions["stripe_gateway"]


@pytest.fixture
def as_user(app, client):
    """A signed-in browser of its own for `user` (cookies apart from every other browser)."""

    def open_as(user):
        _db.session.commit()
        own = app.test_client()
        response = own.post("/accounts/login", data={"identifier": user.login_name,
                                                     "password": factories.PASSWORD})
        assert response.status_code == 302, response.get_data(as_text=True)
        return own

    return open_as
