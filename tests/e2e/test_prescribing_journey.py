"""Prescribing on phone-sized screens, in English and in Chinese: inside an accepted consultation the
doctor finds a drug by typing, writes the sig, sees packs and days' supply, signs with their password;
the patient opens their prescriptions and reads plain-language directions."""

import pytest
from playwright.sync_api import Page, expect

from tests import factories
from tests.e2e.pages import add_drug, fits_the_screen, open_menu, sign_in, sign_out

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


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_doctor_prescribes_and_signs_and_the_patient_reads_the_directions(
        page: Page, live_server, consultation, lang):
    text = TEXT[lang]
    consultation_id, patient_login, doctor_login, _pharmacist_login = consultation

    sign_in(page, live_server, doctor_login)
    page.goto(f"{live_server}/consultations/{consultation_id}")
    page.get_by_role("button", name=text["write"]).click()

    # Typing finds the drug without pressing Search; choosing it sets the dose unit from its strength.
    add_drug(page, text, search="amlodi", pick="5 mg", dose="5")
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



@pytest.mark.parametrize("lang", ["en"])
def test_a_drug_typed_before_the_page_script_has_run_is_still_found(page: Page, live_server, consultation,
                                                                     lang):
    """On a busy machine the doctor can type before prescribing.js runs; those keystrokes count too."""
    text = TEXT[lang]
    consultation_id, _patient_login, doctor_login, _pharmacist_login = consultation
    held = []
    page.route("**/static/js/prescribing.js", lambda route: held.append(route))  # answered after the typing

    sign_in(page, live_server, doctor_login)
    page.goto(f"{live_server}/consultations/{consultation_id}")
    with page.expect_request("**/static/js/prescribing.js"):
        page.get_by_role("button", name=text["write"]).click()
    page.get_by_label(text["find"]).press_sequentially("amlodi", delay=10)
    while not held:  # the request went out; its route callback arrives with the next message
        page.evaluate("0")
    assert page.evaluate("document.readyState") == "loading"  # the script has not run yet
    held[0].continue_()

    expect(page.locator("#drug-results")).to_have_attribute("data-query", "amlodi")
    expect(page.locator("#drug-results label").filter(has_text="5 mg").first).to_be_visible()
