"""A patient registers, verifies the phone by SMS code, signs out and back in — in English and Chinese."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.pages import fits_the_screen, open_menu
from tests.e2e.patient_pages import last_code_sent_to, small_targets

pytestmark = pytest.mark.e2e

TEXT = {
    "en": {
        "register": "Register", "name": "Your name", "phone": "Mobile number", "email": "Email",
        "password": "Password", "confirm": "Repeat password", "create": "Create account",
        "code": "Verification code", "verify": "Verify", "verified": "Your mobile number is verified.",
        "sign_out": "Sign out", "signed_out": "You have signed out.", "identifier": "Email or mobile number",
        "sign_in": "Sign in", "welcome": "Welcome, {name}", "common": "This password is too common",
    },
    "zh": {
        "register": "注册", "name": "您的姓名", "phone": "手机号", "email": "邮箱",
        "password": "密码", "confirm": "再次输入密码", "create": "创建账号",
        "code": "验证码", "verify": "验证", "verified": "手机号验证成功。",
        "sign_out": "退出登录", "signed_out": "您已退出登录。", "identifier": "邮箱或手机号",
        "sign_in": "登录", "welcome": "{name}，您好", "common": "该密码过于常见",
    },
}
PATIENTS = {
    "en": {"name": "Grace Example", "phone": "139 1000 0001", "email": "grace@example.com"},
    "zh": {"name": "王小测", "phone": "139 1000 0002", "email": "wangxiaoce@example.com"},
}
PASSWORD = "Lantern-Orchard-73"


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_patient_registers_verifies_phone_signs_out_and_in(page: Page, live_server, live_app, lang):
    text, patient = TEXT[lang], PATIENTS[lang]
    page.goto(live_server + "/")
    open_menu(page)
    page.get_by_role("button", name="中文" if lang == "zh" else "English").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans-CN" if lang == "zh" else "en")

    open_menu(page)
    page.get_by_role("link", name=text["register"], exact=True).click()
    page.get_by_label(text["name"]).fill(patient["name"])
    page.get_by_label(text["phone"]).fill(patient["phone"])
    page.get_by_label(text["email"]).fill(patient["email"])
    # A common password is refused on the form, in the page's language.
    page.get_by_label(text["password"], exact=True).fill("password123")
    page.get_by_label(text["confirm"]).fill("password123")
    page.get_by_role("button", name=text["create"]).click()
    expect(page.locator(".invalid-feedback")).to_contain_text(text["common"])

    page.get_by_label(text["password"], exact=True).fill(PASSWORD)
    page.get_by_label(text["confirm"]).fill(PASSWORD)
    page.get_by_role("button", name=text["create"]).click()

    e164 = "+86" + patient["phone"].replace(" ", "")
    page.get_by_label(text["code"]).fill(last_code_sent_to(live_app, e164))
    page.get_by_role("button", name=text["verify"], exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text(text["verified"])
    expect(page.locator("#welcome")).to_have_text(text["welcome"].format(name=patient["name"]))

    open_menu(page)
    page.get_by_role("button", name=text["sign_out"]).click()
    expect(page.get_by_role("alert")).to_contain_text(text["signed_out"])

    # Sign in again with the phone number typed the way people type it.
    page.get_by_label(text["identifier"]).fill(patient["phone"])
    page.get_by_label(text["password"], exact=True).fill(PASSWORD)
    page.locator("form").get_by_role("button", name=text["sign_in"]).click()
    expect(page.locator("#welcome")).to_have_text(text["welcome"].format(name=patient["name"]))

    open_menu(page)
    page.get_by_role("button", name=text["sign_out"]).click()
    expect(page).to_have_url(re.compile(r"/accounts/login$"))


ALL_AT_ONCE = {
    "en": ["This field is required.", "Enter a valid mobile number, e.g. 138 0013 8000.",
           "This password is too common. Choose one that is harder to guess.",
           "The two passwords do not match."],
    "zh": ["此项为必填项。", "请输入有效的手机号，例如 138 0013 8000。",
           "该密码过于常见，请选择更难猜到的密码。", "两次输入的密码不一致。"],
}


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_sign_in_pages_have_thumb_sized_targets_and_registration_names_every_bad_field_at_once(
        page: Page, live_server, lang):
    page.set_extra_http_headers({"Accept-Language": "zh-CN" if lang == "zh" else "en"})
    for path in ("/accounts/login", "/accounts/register", "/accounts/forgot-password",
                 "/accounts/reset-password"):
        page.goto(live_server + path)
        assert small_targets(page) == [], path
        assert fits_the_screen(page), path

    text = TEXT[lang]
    page.goto(live_server + "/accounts/register")
    page.get_by_label(text["phone"]).fill("12345")
    page.get_by_label(text["password"], exact=True).fill("password123")
    page.get_by_label(text["confirm"]).fill("password124")
    page.get_by_role("button", name=text["create"]).click()
    feedback = page.locator(".invalid-feedback")
    expect(feedback).to_have_count(len(ALL_AT_ONCE[lang]))
    expect(feedback).to_have_text(ALL_AT_ONCE[lang])  # name, phone, password, confirmation: one answer
