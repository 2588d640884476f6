"""On a phone a patient books and pays a consultation; localstripe's webhook puts it in the doctor's queue;
the doctor accepts, and messages appear on the other side without a reload, as text."""

import pytest
from playwright.sync_api import Page, expect

from app.database import utcnow
from app.extensions import db
from app.patients.models import Condition, ConditionStatus, UploadPurpose
from app.patients.uploads import save_upload
from tests import factories
from tests.consultations.conftest import upload_file
from tests.e2e.test_patient_record_journey import fits_the_screen, open_menu, sign_in

pytestmark = pytest.mark.e2e

SCRIPT = "<script>document.title='pwned'</script>"


@pytest.fixture
def people(live_app, tmp_path):
    previous = live_app.config["UPLOAD_FOLDER"]
    live_app.config["UPLOAD_FOLDER"] = str(tmp_path)
    with live_app.app_context():
        patient = factories.make_patient()
        doctor = factories.make_user("doctor", display_name="Dr. Journey")
        proof = save_upload(upload_file(), patient=patient, uploaded_by=patient,
                            purpose=UploadPurpose.CONDITION_PROOF)
        db.session.add(Condition(patient_id=patient.id, icd10_code="I10", name="Essential hypertension",
                                 hospital="Ruijin Hospital", diagnosed_on=utcnow().date(),
                                 proof_upload_id=proof.id, status=ConditionStatus.VERIFIED))
        db.session.commit()
        people = patient.email, doctor.email, doctor.id
        db.session.remove()  # an open SQLite transaction would lock the live server out
    yield people
    live_app.config["UPLOAD_FOLDER"] = previous


def test_book_pay_accept_and_message_without_reloading(page: Page, browser, browser_context_args, live_server,
                                                        people):
    patient_login, doctor_login, doctor_id = people
    sign_in(page, live_server, patient_login)
    open_menu(page)
    page.locator("#main-nav").get_by_role("link", name="Book a consultation", exact=True).click()
    page.locator(f"#doctor-{doctor_id}").check()
    page.get_by_label("Why do you need this consultation?").fill("Morning blood pressure around 150/95.")
    assert fits_the_screen(page)
    page.get_by_role("button", name="Book and continue to payment").click()

    page.get_by_label("Visa 4242").check()
    page.get_by_role("button", name="Pay", exact=True).click()
    expect(page.locator("#confirming-payment")).to_be_visible()
    # localstripe signs and sends the webhook; the page notices the new status by itself.
    expect(page.locator("#waiting")).to_be_visible(timeout=20_000)
    consultation_url = page.url

    doctor = browser.new_context(**browser_context_args).new_page()
    sign_in(doctor, live_server, doctor_login)
    open_menu(doctor)
    doctor.locator("#main-nav").get_by_role("link", name="Consultation queue", exact=True).click()
    doctor.locator(".queue-item").first.click()
    expect(doctor.locator("#patient-record")).to_contain_text("Essential hypertension")
    doctor.get_by_role("button", name="Accept").click()
    expect(doctor.get_by_role("alert")).to_contain_text("Consultation accepted.")

    # The patient's page was polling the status: it reloads into the conversation.
    expect(page.locator("#message-form")).to_be_visible(timeout=30_000)
    doctor.get_by_label("Message").fill(SCRIPT)
    doctor.get_by_role("button", name="Send").click()
    expect(page.locator("#message-thread .message-body").last).to_have_text(SCRIPT, timeout=20_000)
    assert page.title() != "pwned" and doctor.title() != "pwned"
    assert page.url == consultation_url  # arrived without navigating

    page.get_by_label("Message").fill("Thank you, doctor.")
    page.get_by_role("button", name="Send").click()
    expect(doctor.locator("#message-thread .message-body").last).to_have_text("Thank you, doctor.",
                                                                              timeout=20_000)
    assert fits_the_screen(page)
    doctor.context.close()
