"""No call to Stripe while a row lock is held: during the capture and the refund, another connection
can lock the consultation and its payment at once (PostgreSQL, real commits, real row locks)."""

import pytest
import sqlalchemy as sa
import stripe

from app.consultations import services as consultations
from app.consultations.models import Consultation
from app.consultations.states import ConsultationStatus
from app.extensions import db as _db
from app.payments import operations
from app.payments.models import Payment, PaymentStatus
from tests.consultations.conftest import Flow


class LockProbe:
    """Wraps a gateway call: just before Stripe is asked, another connection tries to take the rows."""

    def __init__(self, monkeypatch, gateway, consultation_id: int, payment_id: int):
        self.seen: list[tuple[str, str]] = []
        self.rows = {"consultations": consultation_id, "payments": payment_id}
        for name in ("capture", "cancel", "refund"):
            monkeypatch.setattr(gateway, name, self._probing(name, getattr(gateway, name)))

    def _probing(self, name, call):
        def probed(*args, **kwargs):
            self.seen.append((name, self._free()))
            return call(*args, **kwargs)

        return probed

    def _free(self) -> str:
        with _db.engine.connect() as other:
            try:
                for table, row_id in self.rows.items():
                    other.execute(sa.text(f"SELECT id FROM {table} WHERE id = :id FOR UPDATE NOWAIT"),  # noqa: S608
                                  {"id": row_id})
            except sa.exc.OperationalError:  # LockNotAvailable: someone holds the row
                return "locked"
            finally:
                other.rollback()
        return "free"


@pytest.mark.postgres_only
def test_the_capture_and_the_refund_are_sent_with_no_row_locked(committed_postgres_app, localstripe,
                                                                monkeypatch):
    app = committed_postgres_app
    with app.app_context():
        flow = Flow(None, stripe.StripeClient("sk_test_inspect", base_addresses={"api": localstripe.url}))
        consultation = flow.book()
        payment = flow.pay(consultation)
        flow.apply(payment)  # the webhook's work: authorized, the consultation waits for the doctor
        probe = LockProbe(monkeypatch, app.extensions["stripe_gateway"], consultation.id, payment.id)

        consultations.accept(consultation, consultation.doctor)
        _db.session.commit()
        assert probe.seen == []  # nothing was sent inside the transaction that locked the rows
        assert operations.perform_for_payable(consultations.PAYABLE, consultation.id)

        consultations.refer(consultation, consultation.doctor, "Needs an examination")
        _db.session.commit()
        assert operations.perform_for_payable(consultations.PAYABLE, consultation.id)

        assert probe.seen == [("capture", "free"), ("refund", "free")]
        assert _db.session.get(Consultation, consultation.id).status == ConsultationStatus.REFERRED
        assert _db.session.get(Payment, payment.id).status == PaymentStatus.REFUNDED


@pytest.mark.postgres_only
def test_the_release_on_cancel_is_sent_with_no_row_locked(committed_postgres_app, localstripe, monkeypatch):
    app = committed_postgres_app
    with app.app_context():
        flow = Flow(None, stripe.StripeClient("sk_test_inspect", base_addresses={"api": localstripe.url}))
        consultation = flow.book()
        payment = flow.pay(consultation)
        flow.apply(payment)
        probe = LockProbe(monkeypatch, app.extensions["stripe_gateway"], consultation.id, payment.id)

        consultations.cancel(consultation, consultation.patient)
        _db.session.commit()
        assert operations.perform_for_payable(consultations.PAYABLE, consultation.id)

        assert probe.seen == [("cancel", "free")]
        assert _db.session.get(Payment, payment.id).status == PaymentStatus.CANCELED
