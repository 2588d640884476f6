"""The patient's home on a 390-px phone: every next step and button is a target a thumb can hit."""

from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from app.accounts.models import User
from app.consultations.models import Consultation
from app.database import utcnow
from app.drugs.models import Drug
from app.extensions import db
from app.patients.models import Condition, ConditionStatus
from app.prescribing import services as rx
from app.review import services as review
from app.review.models import PrescriptionReview
from tests import factories
from tests.e2e.pages import fits_the_screen, sign_in

pytestmark = pytest.mark.e2e

MINIMUM = 44  # px, the smallest comfortable tap target
TEXT = {"en": {"refill": "Book a follow-up for a refill"}, "zh": {"refill": "预约复诊续方"}}


def approved_running_low(live_app, consultation_id: int, pharmacist_login: str, days_left: int) -> None:
    """A prescription approved long enough ago that `days_left` days of supply remain, and a second
    condition still awaiting verification."""
    with live_app.app_context():
        consultation = db.session.get(Consultation, consultation_id)
        doctor = consultation.doctor
        pharmacist = db.session.scalar(select(User).where(User.email == pharmacist_login))
        drug = db.session.scalar(select(Drug).where(Drug.code == "AMLODIPINE-5MG-TAB"))
        draft = rx.start(consultation, doctor, condition_id=consultation.condition_id)
        rx.add_item(draft, doctor, drug_id=drug.id, dose="5", dose_unit="mg", frequency="QD", duration_days=7)
        signed = rx.sign(draft, doctor, factories.PASSWORD)
        queued = select(PrescriptionReview.id).where(PrescriptionReview.prescription_id == signed.id)
        if db.session.scalar(queued) is None:
            review.submit(signed)
        review.claim(signed, pharmacist)
        decided = review.decide(signed, pharmacist, "approved")
        decided.decided_at = utcnow() - timedelta(days=signed.items[0].days_supply - days_left)
        pending = Condition(patient_id=consultation.patient_id, icd10_code="E11.9",
                            name="Type 2 diabetes mellitus", hospital="Ruijin Hospital",
                            diagnosed_on=utcnow().date(), status=ConditionStatus.PENDING,
                            proof_upload_id=consultation.condition.proof_upload_id)
        db.session.add(pending)
        db.session.commit()
        db.session.remove()


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_patient_home_fits_a_phone_with_large_tap_targets(page: Page, live_server, live_app, consultation,
                                                              lang):
    consultation_id, patient_login, _doctor, pharmacist_login = consultation
    approved_running_low(live_app, consultation_id, pharmacist_login, days_left=3)
    sign_in(page, live_server, patient_login)
    page.goto(live_server + "/")
    expect(page.locator('[data-next-step="chat"]')).to_be_visible()
    expect(page.locator('[data-next-step="condition_pending"]')).to_be_visible()
    expect(page.locator('#medicines [data-refill]')).to_have_text(TEXT[lang]["refill"])
    assert fits_the_screen(page)

    targets = page.locator("main a, main button")
    assert targets.count() >= 7  # three next steps, the refill button, the four shortcuts
    small = []
    for index in range(targets.count()):
        target = targets.nth(index)
        if not target.is_visible():
            continue
        box = target.bounding_box()
        if box["width"] < MINIMUM or box["height"] < MINIMUM:
            small.append(f"{target.text_content().strip()[:40]!r}: {box['width']:.0f}×{box['height']:.0f}")
    assert not small, "tap targets smaller than 44×44 px:\n" + "\n".join(small)
