"""Prescribing on phone-sized screens, in English and in Chinese: inside an accepted consultation the
doctor finds a drug by typing, writes the sig, sees packs and days' supply, signs with their password;
the patient opens their prescriptions and reads plain-language directions."""

import pytest
from playwright.sync_api import Page, expect

from app.consultations.models import Consultation
from app.consultations.states import ConsultationStatus
from app.database import utcnow
from app.drugs import services as drug_catalogue
from app.extensions import db
from app.patients.models import Condition, ConditionStatus, UploadPurpose
from app.patients.uploads import save_upload
from tests import factories
from tests.consultations.conftest import upload_file
from tests.e2e.pages import fits_the_screen, open_menu, sign_in, sign_out

pytestmark = pytest.mark.e2e

TEXT = {
    "en": {"write": "Write a prescription", "find": "Find a drug", "dose": "Dose", "how_often": "How often",
           "duration": "Duration in days", "times": "Times of day (optional)", "add": "Add to prescription",
           "password": "Your password", "sign": "Sign prescription", "mine": "My prescriptions",
           "preview": "1 pack of 28 tablets, enough for 28 days", "status": "Awaiting pharmacist review",
           "signed": "Signature verified",
           "directions": "Take 5 mg (1 tablet) by mouth, once a day at 08:00, for 7 days."},
    "zh": {"write": "开具处方", "find": "查找药品", "dose": "剂量", "how_often": "用药频次",
           "duration": "用药天数", "times": "服药时间（选填）", "add": "加入处方", "password": "您的密码",
           "sign": "签署处方", "mine": "我的处方", "preview": "1盒（每盒28片），可用28天",
           "status": "待药师审核", "signed": "签名已验证",
           "directions": "口服，每次5毫克（1片），每日一次，08:00，共7天。"},
}


@pytest.fixture
def consultation(live_app, tmp_path, request):
    """An accepted consultation for a patient with a verified hypertension diagnosis."""
    lang = request.node.callspec.params["lang"]
    live_app.config["UPLOAD_FOLDER"] = str(tmp_path)
    with live_app.app_context():
        drug_catalogue.load_shipped_catalogue()  # idempotent: unchanged rows stay as they are
        patient = factories.make_patient(locale=lang, display_name=f"Patient Rx {lang}")
        doctor = factories.make_user("doctor", locale=lang, display_name=f"Dr. Rx {lang}")
        proof = save_upload(upload_file(), patient=patient, uploaded_by=patient,
                            purpose=UploadPurpose.CONDITION_PROOF)
        condition = Condition(patient_id=patient.id, icd10_code="I10", name="Essential hypertension",
                              hospital="Ruijin Hospital", diagnosed_on=utcnow().date(),
                              proof_upload_id=proof.id, status=ConditionStatus.VERIFIED,
                              reviewed_by_id=doctor.id, reviewed_at=utcnow())
        db.session.add(condition)
        db.session.flush()
        now = utcnow()
        visit = Consultation(patient_id=patient.id, doctor_id=doctor.id, condition_id=condition.id,
                             reason="Blood pressure follow-up.", status=ConsultationStatus.IN_PROGRESS,
                             fee_fen=3000, paid_at=now, accepted_at=now)
        db.session.add(visit)
        db.session.commit()
        found = visit.id, patient.email, doctor.email
        db.session.remove()  # an open SQLite transaction would lock the live server out
    return found


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_doctor_prescribes_and_signs_and_the_patient_reads_the_directions(
        page: Page, browser, browser_context_args, live_server, consultation, lang):
    text = TEXT[lang]
    consultation_id, patient_login, doctor_login = consultation

    sign_in(page, live_server, doctor_login)
    page.goto(f"{live_server}/consultations/{consultation_id}")
    page.get_by_role("button", name=text["write"]).click()

    # Typing finds the drug without pressing Search; choosing it sets the dose unit from its strength.
    page.get_by_label(text["find"]).press_sequentially("amlodi", delay=40)
    choice = page.locator("#drug-results label").filter(has_text="5 mg").first
    expect(choice).to_be_visible()
    choice.click()
    page.get_by_label(text["dose"], exact=True).fill("5")
    page.get_by_label(text["how_often"]).select_option("QD")
    page.get_by_label(text["duration"]).fill("7")
    page.get_by_label(text["times"]).fill("08:00")
    expect(page.locator("#quantity-preview")).to_have_text(text["preview"])
    assert fits_the_screen(page)
    page.get_by_role("button", name=text["add"]).click()
    expect(page.locator("#items .directions")).to_have_text(text["directions"])

    page.get_by_label(text["password"]).fill(factories.PASSWORD)
    page.get_by_role("button", name=text["sign"]).click()
    expect(page.locator("[data-status=awaiting_review]")).to_have_text(text["status"])
    expect(page.locator("#signature-verified")).to_have_text(text["signed"])
    sign_out(page)

    sign_in(page, live_server, patient_login)
    open_menu(page)
    page.locator("#main-nav").get_by_role("link", name=text["mine"], exact=True).click()
    page.locator("#prescriptions a").first.click()
    expect(page.locator("#items .directions")).to_have_text(text["directions"])
    expect(page.locator("#items .supply")).to_contain_text(text["preview"])
    assert fits_the_screen(page)
