"""On a phone-sized screen a patient fills in the record and a condition with proof; an admin verifies it."""

import pytest
from playwright.sync_api import Page, expect

from app.extensions import db
from tests import factories
from tests.e2e.pages import fits_the_screen, open_menu, sign_in, sign_out
from tests.patients.conftest import PNG

pytestmark = pytest.mark.e2e

TEXT = {
    "en": {
        "my_health": "My health", "legal_name": "Legal name (as on your ID)", "sex": "Sex",
        "born": "Date of birth", "id": "Resident ID card or passport number", "save": "Save profile",
        "saved": "Your profile has been saved.", "conditions": "My conditions",
        "diagnosis": "Diagnosis (ICD-10)", "hospital": "Hospital that made the diagnosis",
        "diagnosed": "Date of diagnosis", "proof": "Proof of diagnosis", "submit": "Submit for verification",
        "pending": "Pending verification", "queue": "Condition verification", "verify": "Mark as verified",
        "verified_flash": "The condition is verified.", "verified": "Verified by staff",
    },
    "zh": {
        "my_health": "我的健康", "legal_name": "真实姓名（与证件一致）", "sex": "性别",
        "born": "出生日期", "id": "居民身份证或护照号码", "save": "保存个人信息",
        "saved": "个人信息已保存。", "conditions": "我的疾病",
        "diagnosis": "诊断（ICD-10）", "hospital": "确诊医院",
        "diagnosed": "诊断日期", "proof": "诊断证明", "submit": "提交核验",
        "pending": "待核验", "queue": "疾病核验", "verify": "核验通过",
        "verified_flash": "该疾病已核验。", "verified": "已核验",
    },
}


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
        patient_login, admin_login = patient.email, admin.email

    sign_in(page, live_server, patient_login)
    open_menu(page)
    page.locator("#main-nav").get_by_role("link", name=text["my_health"], exact=True).click()
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
    page.locator("#main-nav").get_by_role("link", name=text["queue"], exact=True).click()
    page.locator(".list-group-item", has_text="E11.9").first.click()
    expect(page.locator("img.img-fluid")).to_be_visible()
    page.wait_for_function("document.querySelector('img.img-fluid').complete")
    assert page.evaluate("document.querySelector('img.img-fluid').naturalWidth") == 1  # the real PNG
    assert fits_the_screen(page)
    page.get_by_role("button", name=text["verify"]).click()
    expect(page.get_by_role("alert")).to_contain_text(text["verified_flash"])
    sign_out(page)

    sign_in(page, live_server, patient_login)
    page.goto(live_server + "/patients/conditions")
    expect(page.locator(".list-group-item").first).to_contain_text(text["verified"])
