"""The payment page explains localstripe's declining card in the payer's language, not Stripe's English."""

import pytest
from sqlalchemy import select

from app.payments.models import Payment, PaymentStatus
from tests import factories

STRIPE_ENGLISH = "Your card was declined."


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.mark.parametrize(("locale", "expected"), [
    ("en", "The bank did not approve this card. Try another card or contact your bank."),
    ("zh", "银行未批准此卡。请换一张卡或联系您的银行。"),
])
def test_localstripes_declining_card_is_explained_in_the_payers_language(db, flow, as_user, locale, expected):
    patient = factories.make_patient(locale=locale)
    consultation = flow.book(patient=patient)
    browser = as_user(patient)
    declined = text(browser.post(f"/consultations/{consultation.id}/pay",
                                 data={"method_type": "card", "test_card": "pm_card_chargeCustomerFail"}))
    assert expected in declined and STRIPE_ENGLISH not in declined
    payment = db.session.scalar(select(Payment).where(Payment.payable_id == consultation.id))
    assert payment.status == PaymentStatus.FAILED and payment.failure_code == "card_declined"
    assert payment.failure_message == STRIPE_ENGLISH  # Stripe's own words stay for staff
    for page in (f"/consultations/{consultation.id}", f"/consultations/{consultation.id}/pay"):
        shown = text(browser.get(page))
        assert expected in shown and STRIPE_ENGLISH not in shown
