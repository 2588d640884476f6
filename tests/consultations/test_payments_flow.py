"""Money follows the consultation, checked in localstripe: held at booking, taken on acceptance,
released on cancel / decline / expiry, refunded on referral — each exactly once."""

from datetime import timedelta

from sqlalchemy import func, select

from app import worker
from app.audit.models import AuditEvent
from app.consultations.models import Consultation
from app.consultations.states import ConsultationStatus
from app.database import utcnow
from app.payments.models import Payment, PaymentStatus, StripeEvent
from tests.consultations.conftest import CallCounter
from tests.payments.conftest import intent_event

S = ConsultationStatus


def text(response) -> str:
    return response.get_data(as_text=True)


def payments_of(db, consultation) -> list[Payment]:
    return list(db.session.scalars(select(Payment).where(Payment.payable_type == "consultation",
                                                         Payment.payable_id == consultation.id)
                                   .order_by(Payment.id)))


def audit_count(db, action: str, object_id) -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == action, AuditEvent.object_id == str(object_id)))


def refunds_at_stripe(flow, payment) -> int:
    return len(flow.stripe.v1.refunds.list(params={"payment_intent": payment.stripe_payment_intent_id}).data)


def reload(db, consultation) -> Consultation:
    db.session.expire_all()
    return db.session.get(Consultation, consultation.id)


def test_paying_with_a_test_card_then_the_signed_webhook_puts_it_in_the_doctors_queue(
        app, db, flow, as_user, deliver):
    consultation = flow.book()
    patient = as_user(consultation.patient)
    page = text(patient.get(f"/consultations/{consultation.id}/pay"))
    assert "¥30.00" in page and "pm_card_visa" in page and "pm_card_chargeCustomerFail" in page

    response = patient.post(f"/consultations/{consultation.id}/pay",
                            data={"method_type": "card", "test_card": "pm_card_visa"})
    assert response.status_code == 303
    detail = text(patient.get(response.location))
    assert "We are confirming your payment" in detail
    assert 'data-mode="status"' in detail
    assert patient.get(f"/consultations/{consultation.id}/status").get_json()["status"] == "awaiting_payment"
    [payment] = payments_of(db, consultation)
    assert payment.status == PaymentStatus.PENDING
    assert flow.intent(payment)["status"] == "requires_capture"  # held, not charged

    event = intent_event(flow.intent(payment), "payment_intent.amount_capturable_updated", "evt_paid_once")
    assert deliver(event).get_json()["outcome"] == "applied"
    assert deliver(event).get_json()["outcome"] == "duplicate"

    consultation = reload(db, consultation)
    assert consultation.status == S.WAITING
    hours = app.config["CONSULTATION_ACCEPT_HOURS"]
    assert consultation.expires_at == consultation.paid_at + timedelta(hours=hours)
    assert consultation.paid_at > utcnow() - timedelta(minutes=1)
    assert audit_count(db, "consultation.paid", consultation.id) == 1
    assert db.session.scalar(select(func.count()).select_from(StripeEvent)
                             .where(StripeEvent.event_id == "evt_paid_once")) == 1
    status = patient.get(f"/consultations/{consultation.id}/status").get_json()
    assert status["status"] == "waiting" and status["payment"] == "authorized"
    assert "in the doctor's queue" in text(patient.get(f"/consultations/{consultation.id}"))


def test_a_declined_card_leaves_the_consultation_unpaid_with_a_clear_message(db, flow, as_user):
    consultation = flow.book()
    patient = as_user(consultation.patient)
    response = patient.post(f"/consultations/{consultation.id}/pay",
                            data={"method_type": "card", "test_card": "pm_card_chargeCustomerFail"})
    assert response.status_code == 200
    assert "The payment was declined:" in text(response)
    assert reload(db, consultation).status == S.AWAITING_PAYMENT
    [failed] = payments_of(db, consultation)
    assert failed.status == PaymentStatus.FAILED and failed.failure_message
    assert "Your last payment attempt was declined" in text(patient.get(f"/consultations/{consultation.id}"))

    # The patient tries another card: a new payment, the old one stays as it was.
    retry = patient.post(f"/consultations/{consultation.id}/pay",
                         data={"method_type": "card", "test_card": "pm_card_visa"})
    assert retry.status_code == 303
    assert [p.status for p in payments_of(db, consultation)] == [PaymentStatus.FAILED, PaymentStatus.PENDING]


def test_paying_twice_is_refused(db, flow, as_user):
    consultation = flow.book()
    patient = as_user(consultation.patient)
    card = {"method_type": "card", "test_card": "pm_card_visa"}
    assert patient.post(f"/consultations/{consultation.id}/pay", data=card).status_code == 303
    again = patient.post(f"/consultations/{consultation.id}/pay", data=card)
    assert "This has already been paid or a payment is in progress." in text(again)
    assert len(payments_of(db, consultation)) == 1

    flow.confirm(payments_of(db, consultation)[0])
    after_paid = patient.post(f"/consultations/{consultation.id}/pay", data=card, follow_redirects=True)
    assert "This consultation has already been paid." in text(after_paid)
    assert len(payments_of(db, consultation)) == 1


def test_cancelling_a_paid_consultation_releases_the_hold_once(db, flow, as_user, gateway, monkeypatch):
    consultation = flow.paid()
    payment = flow.payment(consultation)
    patient = as_user(consultation.patient)
    cancels = CallCounter(monkeypatch, gateway, "cancel")
    response = patient.post(f"/consultations/{consultation.id}/cancel", follow_redirects=True)
    assert "Your consultation is cancelled." in text(response)
    again = patient.post(f"/consultations/{consultation.id}/cancel", follow_redirects=True)
    assert "can only be cancelled before a doctor accepts it" in text(again)
    assert cancels.calls == 1
    assert reload(db, consultation).status == S.CANCELLED
    db.session.refresh(payment)
    assert payment.status == PaymentStatus.CANCELED
    assert flow.intent(payment)["status"] == "canceled"
    assert refunds_at_stripe(flow, payment) == 0  # never charged, so nothing to refund


def test_cancelling_before_paying_needs_no_money_back(db, flow, as_user, gateway, monkeypatch):
    consultation = flow.book()
    cancels = CallCounter(monkeypatch, gateway, "cancel")
    as_user(consultation.patient).post(f"/consultations/{consultation.id}/cancel")
    assert reload(db, consultation).status == S.CANCELLED
    assert cancels.calls == 0


def test_accepting_captures_the_fee_exactly_once(db, flow, as_user, gateway, monkeypatch):
    consultation = flow.paid()
    payment = flow.payment(consultation)
    doctor = as_user(consultation.doctor)
    captures = CallCounter(monkeypatch, gateway, "capture")
    response = doctor.post(f"/consultations/{consultation.id}/accept", follow_redirects=True)
    assert "Consultation accepted." in text(response)
    again = doctor.post(f"/consultations/{consultation.id}/accept", follow_redirects=True)
    assert "can no longer be accepted" in text(again)
    assert captures.calls == 1
    assert reload(db, consultation).status == S.IN_PROGRESS
    db.session.refresh(payment)
    assert payment.status == PaymentStatus.CAPTURED
    assert flow.intent(payment)["status"] == "succeeded"


def test_the_patient_cannot_cancel_once_the_doctor_accepted(db, flow, as_user, gateway, monkeypatch):
    consultation = flow.accepted()
    payment = flow.payment(consultation)
    cancels = CallCounter(monkeypatch, gateway, "cancel")
    refunds = CallCounter(monkeypatch, gateway, "refund")
    response = as_user(consultation.patient).post(f"/consultations/{consultation.id}/cancel",
                                                  follow_redirects=True)
    assert "A consultation can only be cancelled before a doctor accepts it." in text(response)
    assert reload(db, consultation).status == S.IN_PROGRESS
    assert (cancels.calls, refunds.calls) == (0, 0)
    db.session.refresh(payment)
    assert payment.status == PaymentStatus.CAPTURED


def test_declining_releases_the_hold_once_and_tells_the_patient_why(db, flow, as_user, gateway, monkeypatch):
    consultation = flow.paid()
    payment = flow.payment(consultation)
    doctor = as_user(consultation.doctor)
    cancels = CallCounter(monkeypatch, gateway, "cancel")
    missing = doctor.post(f"/consultations/{consultation.id}/decline", data={"reason": " "})
    assert missing.status_code == 400 and "Give the patient a reason." in text(missing)
    doctor.post(f"/consultations/{consultation.id}/decline", data={"reason": "Outside my specialty"})
    doctor.post(f"/consultations/{consultation.id}/decline", data={"reason": "Outside my specialty"})
    assert cancels.calls == 1
    assert reload(db, consultation).status == S.DECLINED
    db.session.refresh(payment)
    assert payment.status == PaymentStatus.CANCELED
    assert flow.intent(payment)["status"] == "canceled"
    page = text(as_user(consultation.patient).get(f"/consultations/{consultation.id}"))
    assert "The doctor declined this consultation." in page and "Outside my specialty" in page


def test_referral_refunds_the_captured_fee_once(db, flow, as_user, gateway, monkeypatch):
    consultation = flow.accepted()
    payment = flow.payment(consultation)
    doctor = as_user(consultation.doctor)
    refunds = CallCounter(monkeypatch, gateway, "refund")
    reason = "Chest pain on exertion: please see a cardiologist in person"
    doctor.post(f"/consultations/{consultation.id}/refer", data={"reason": reason})
    again = doctor.post(f"/consultations/{consultation.id}/refer", data={"reason": reason},
                        follow_redirects=True)
    assert "Only a consultation in progress can be ended" in text(again)
    assert refunds.calls == 1
    assert reload(db, consultation).status == S.REFERRED
    db.session.refresh(payment)
    assert payment.status == PaymentStatus.REFUNDED and payment.amount_refunded_fen == payment.amount_fen
    assert flow.intent(payment)["status"] == "succeeded"
    assert refunds_at_stripe(flow, payment) == 1
    page = text(as_user(consultation.patient).get(f"/consultations/{consultation.id}"))
    assert "an in-person visit is needed" in page and reason in page


def test_expiry_by_the_worker_releases_the_hold_once(db, flow, gateway, monkeypatch):
    consultation = flow.paid()
    payment_id = flow.payment(consultation).id
    consultation.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    consultation_id = consultation.id
    cancels = CallCounter(monkeypatch, gateway, "cancel")
    worker.run_once()
    worker.run_once()
    assert cancels.calls == 1
    assert db.session.get(Consultation, consultation_id).status == S.EXPIRED
    payment = db.session.get(Payment, payment_id)
    assert payment.status == PaymentStatus.CANCELED
    assert flow.intent(payment)["status"] == "canceled"


def test_without_test_cards_the_page_uses_the_payment_element_and_only_it_allows_stripe(
        app, db, flow, as_user, monkeypatch):
    monkeypatch.setitem(app.config, "STRIPE_TEST_CARDS", False)
    consultation = flow.book()
    patient = as_user(consultation.patient)
    form = patient.get(f"/consultations/{consultation.id}/pay")
    assert "pm_card_visa" not in text(form)
    assert "js.stripe.com" not in form.headers["Content-Security-Policy"]

    response = patient.post(f"/consultations/{consultation.id}/pay", data={"method_type": "card"})
    page = text(response)
    [payment] = payments_of(db, consultation)
    secret = flow.intent(payment)["client_secret"]
    assert f'data-client-secret="{secret}"' in page
    assert 'data-publishable-key="pk_test_localstripe"' in page
    assert "js/payment.js" in page and "<script>" not in page
    policy = response.headers["Content-Security-Policy"]
    csp = {part.split()[0]: part.split()[1:] for part in policy.split(";")}
    assert "https://js.stripe.com" in csp["script-src"] and "https://js.stripe.com" in csp["frame-src"]
    # Coming back to the page shows the same intent instead of starting a second payment.
    assert f'data-client-secret="{secret}"' in text(patient.get(f"/consultations/{consultation.id}/pay"))
    assert len(payments_of(db, consultation)) == 1
    # Every other page keeps the strict policy.
    other = patient.get(f"/consultations/{consultation.id}")
    assert "js.stripe.com" not in other.headers["Content-Security-Policy"]
