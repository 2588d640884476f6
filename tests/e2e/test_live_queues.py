"""A pharmacist's open review queue keeps itself current on a phone: a prescription the doctor signs
meanwhile appears, and the count goes up, without a reload."""

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from app.consultations.models import Consultation
from app.drugs.models import Drug
from app.extensions import db
from app.prescribing import services as rx
from app.review import services as review
from app.review.models import PrescriptionReview
from tests import factories
from tests.e2e.pages import fits_the_screen, sign_in

pytestmark = pytest.mark.e2e


def sign_in_the_background(live_app, consultation_id: int) -> int:
    """The doctor signs a prescription from another device: straight through the services."""
    with live_app.app_context():
        consultation = db.session.get(Consultation, consultation_id)
        doctor = consultation.doctor
        drug = db.session.scalar(select(Drug).where(Drug.code == "AMLODIPINE-5MG-TAB"))
        draft = rx.start(consultation, doctor, condition_id=consultation.condition_id)
        rx.add_item(draft, doctor, drug_id=drug.id, dose="5", dose_unit="mg", frequency="QD", duration_days=7)
        signed = rx.sign(draft, doctor, factories.PASSWORD)
        queued = select(PrescriptionReview.id).where(PrescriptionReview.prescription_id == signed.id)
        if db.session.scalar(queued) is None:  # signing leaves the queueing to its caller
            review.submit(signed)
        db.session.commit()
        prescription_id = signed.id
        db.session.remove()  # an open SQLite transaction would lock the live server out
    return prescription_id


@pytest.fixture
def fast_polling(live_app):
    before = live_app.config.get("LIVE_POLL_SECONDS")
    live_app.config["LIVE_POLL_SECONDS"] = 0.5
    yield
    if before is None:
        live_app.config.pop("LIVE_POLL_SECONDS", None)
    else:
        live_app.config["LIVE_POLL_SECONDS"] = before


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_review_queue_shows_a_new_prescription_without_a_reload(page: Page, live_server, live_app,
                                                                    consultation, fast_polling, lang):
    consultation_id, _patient, _doctor, pharmacist_login = consultation
    sign_in(page, live_server, pharmacist_login)
    page.goto(f"{live_server}/reviews/")
    page.wait_for_load_state("load")
    badge = page.locator('h1 [data-queue-count="review"]')
    shown = int(badge.text_content().strip())
    page.evaluate("window.sameDocument = true")

    prescription_id = sign_in_the_background(live_app, consultation_id)

    expect(page.locator(f'#review-queue a[data-prescription-id="{prescription_id}"]')).to_be_visible()
    expect(badge).to_have_text(str(shown + 1))
    expect(badge).to_be_visible()
    assert page.evaluate("window.sameDocument === true"), "the page was reloaded"
    assert fits_the_screen(page)
