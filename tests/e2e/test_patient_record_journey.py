"""On a phone-sized screen a patient fills in the record and a condition with proof; an admin verifies it."""

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from app.accounts import services as accounts
from app.accounts.models import CodePurpose
from app.extensions import db
from app.patients import services as patient_record
from app.patients.models import Allergy, AllergyKind, Condition, Severity
from tests import factories
from tests.e2e.pages import fits_the_screen, open_menu, sign_in, sign_out
from tests.e2e.patient_pages import last_code_sent_to, small_targets
from tests.patients.conftest import PNG, make_condition, make_profile

pytestmark = pytest.mark.e2e

TEXT = {
    "en": {
        "my_health": "My health",
        "profile": "Profile and consents", "legal_name": "Legal name (as on your ID)", "sex": "Sex",
        "born": "Date of birth", "id": "Resident ID card or passport number", "save": "Save profile",
        "saved": "Your profile has been saved.", "conditions": "My conditions",
        "diagnosis": "Diagnosis (ICD-10)", "hospital": "Hospital that made the diagnosis",
        "diagnosed": "Date of diagnosis", "proof": "Proof of diagnosis", "submit": "Submit for verification",
        "pending": "Pending verification", "queue": "Condition verification", "verify": "Mark as verified",
        "verified_flash": "The condition is verified.", "verified": "Verified by staff",
    },
    "zh": {
        "my_health": "我的健康",
        "profile": "个人资料与同意书", "legal_name": "真实姓名（与证件一致）", "sex": "性别",
        "born": "出生日期", "id": "居民身份证或护照号码", "save": "保存个人信息",
        "saved": "个人信息已保存。", "conditions": "我的疾病",
        "diagnosis": "诊断（ICD-10）", "hospital": "确诊医院",
        "diagnosed": "诊断日期", "proof": "诊断证明", "submit": "提交核验",
        "pending": "待核验", "queue": "疾病核验", "verify": "核验通过",
        "verified_flash": "该疾病已核验。", "verified": "已核验",
    },
}


BACK = {"en": {"home": "Back to the home page", "record": "Back to my health record"},
        "zh": {"home": "返回首页", "record": "返回我的健康档案"}}


@pytest.fixture
def uploads_in_tmp(live_app, tmp_path):
    """Keep the files this journey uploads out of the developer's instance folder."""
    previous = live_app.config["UPLOAD_FOLDER"]
    live_app.config["UPLOAD_FOLDER"] = str(tmp_path)
    yield tmp_path
    live_app.config["UPLOAD_FOLDER"] = previous


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_patient_records_a_condition_and_an_admin_verifies_it(page: Page, live_server, live_app,
                                                             uploads_in_tmp, lang):
    text = TEXT[lang]
    with live_app.app_context():
        patient = factories.make_patient(locale=lang)
        admin = factories.make_user("admin", locale=lang)
        db.session.commit()
        patient_login, admin_login, patient_id = patient.email, admin.email, patient.id

    sign_in(page, live_server, patient_login)
    open_menu(page)
    page.locator("#menu-health").click()
    page.locator("#main-nav").get_by_role("link", name=text["profile"], exact=True).click()
    page.get_by_label(text["legal_name"]).fill("Wang Fang")
    page.get_by_label(text["sex"]).select_option("female")
    page.get_by_label(text["born"]).fill("1970-03-14")
    page.get_by_label(text["id"]).fill("11010519491231002X")
    page.get_by_role("button", name=text["save"]).click()
    expect(page.get_by_role("alert")).to_contain_text(text["saved"])
    expect(page.locator("#personal")).to_contain_text("110***********002X")
    assert "11010519491231002X" not in page.content()
    assert fits_the_screen(page)

    open_menu(page)
    page.locator("#menu-health").click()
    page.locator("#main-nav").get_by_role("link", name=text["conditions"], exact=True).click()
    page.get_by_label(text["diagnosis"]).select_option("E11.9")
    page.get_by_label(text["hospital"]).fill("Ruijin Hospital")
    page.get_by_label(text["diagnosed"]).fill("2021-09-15")
    page.get_by_label(text["proof"]).set_input_files(
        files=[{"name": "record.png", "mimeType": "image/png", "buffer": PNG}])
    page.get_by_role("button", name=text["submit"]).click()
    expect(page.locator(".list-group-item").first).to_contain_text(text["pending"])
    assert fits_the_screen(page)
    sign_out(page)

    sign_in(page, live_server, admin_login)
    open_menu(page)
    page.locator("#menu-people").click()  # the admin's pages are grouped in menus
    page.locator("#main-nav").get_by_role("link", name=text["queue"], exact=True).click()
    # This patient's condition: other tests' patients may wait in the same queue with E11.9.
    with live_app.app_context():
        condition_id = db.session.scalar(select(Condition.id).where(Condition.patient_id == patient_id))
    page.locator(f".list-group-item[href$='/conditions/{condition_id}/review']").click()
    expect(page.locator("img.img-fluid")).to_be_visible()
    # decode() settles once the image has loaded (a polled predicate would need eval, which the CSP forbids).
    page.locator("img.img-fluid").evaluate("image => image.decode()")
    assert page.evaluate("document.querySelector('img.img-fluid').naturalWidth") == 1  # the real PNG
    assert fits_the_screen(page)
    page.get_by_role("button", name=text["verify"]).click()
    expect(page.get_by_role("alert")).to_contain_text(text["verified_flash"])
    sign_out(page)

    sign_in(page, live_server, patient_login)
    page.goto(live_server + "/patients/conditions")
    expect(page.locator(".list-group-item").first).to_contain_text(text["verified"])


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_target_on_the_patient_pages_is_big_enough_for_a_thumb_and_each_page_leads_back(
        page: Page, live_server, live_app, uploads_in_tmp, lang):
    with live_app.app_context():
        patient = factories.make_patient(locale=lang)
        make_profile(patient)
        make_condition(patient)  # with its proof link
        db.session.add(Allergy(patient_id=patient.id, kind=AllergyKind.CLASS, substance="statins",
                               severity=Severity.SEVERE, recorded_by_id=patient.id))
        patient_record.add_address(patient, recipient="Wang Fang", phone="138 0013 8000", province="Shanghai",
                                   city="Shanghai", district="Xuhui", street="88 Tianyaoqiao Road",
                                   postal_code="200030", make_default=False)
        patient_record.add_address(patient, recipient="Wang Fang", phone="138 0013 8000", province="Zhejiang",
                                   city="Hangzhou", district="", street="1 Lakeside Road", postal_code="",
                                   make_default=False)  # a second one, so "Make default" shows too
        patient_record.grant_consent(patient, "sms_reminders")
        db.session.commit()
        login = patient.email

    sign_in(page, live_server, login)
    back = BACK[lang]
    for path, back_to in (("/patients/profile", back["home"]), ("/patients/conditions", back["record"]),
                          ("/patients/allergies", back["record"]), ("/accounts/profile", back["home"])):
        page.goto(live_server + path)
        expect(page.locator("[data-back-link]")).to_contain_text(back_to)
        assert small_targets(page) == [], path
        assert fits_the_screen(page), path

    page.locator("[data-back-link]").click()  # from the account page, home
    expect(page).to_have_url(live_server + "/")


PHONE_FIRST = {
    "en": {"alert": "Please verify your mobile number before you record a condition",
           "verify_link": "Verify my mobile number", "code": "Verification code", "verify": "Verify",
           "verified": "Your mobile number is verified.", "diagnosis": "Diagnosis (ICD-10)"},
    "zh": {"alert": "请先验证手机号，再登记疾病", "verify_link": "验证我的手机号", "code": "验证码",
           "verify": "验证", "verified": "手机号验证成功。", "diagnosis": "诊断（ICD-10）"},
}


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_an_unverified_patient_verifies_the_phone_first_and_comes_back_to_record_the_condition(
        page: Page, live_server, live_app, lang):
    text = PHONE_FIRST[lang]
    with live_app.app_context():
        patient = factories.make_patient(locale=lang, phone_verified_at=None)
        make_profile(patient)
        accounts.issue_code(patient, CodePurpose.PHONE_VERIFICATION)
        db.session.commit()
        login, phone = patient.email, patient.phone

    sign_in(page, live_server, login)
    page.goto(live_server + "/patients/conditions")
    expect(page.locator("#phone-first")).to_contain_text(text["alert"])
    expect(page.get_by_label(text["diagnosis"])).to_have_count(0)
    page.get_by_role("link", name=text["verify_link"]).click()
    assert small_targets(page) == []

    page.get_by_label(text["code"]).fill(last_code_sent_to(live_app, phone))
    page.get_by_role("button", name=text["verify"], exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text(text["verified"])
    expect(page).to_have_url(live_server + "/patients/conditions")
    expect(page.get_by_label(text["diagnosis"])).to_be_visible()
