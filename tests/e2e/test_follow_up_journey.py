"""The whole online follow-up on phone-sized screens, in English and in Chinese: a patient registers
(SMS code), records a condition with proof, an admin verifies it, the patient books and pays with a
test card (localstripe signs the webhook), the doctor accepts, they talk, and the doctor completes
the consultation with a note."""

import re

import pytest
from playwright.sync_api import Page, expect

from app.extensions import db
from app.worker import run_once
from tests import factories
from tests.e2e.pages import fits_the_screen, open_menu, sign_in

pytestmark = pytest.mark.e2e

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PASSWORD = "Willow-Compass-58"
SCRIPT = "<script>document.title='pwned'</script>"

TEXT = {
    "en": {
        "language": "English", "register": "Register", "name": "Your name", "phone": "Mobile number",
        "email": "Email", "password": "Password", "confirm": "Repeat password", "create": "Create account",
        "code": "Verification code", "verify": "Verify", "my_health": "My health",
        "profile": "Profile and consents",
        "legal_name": "Legal name (as on your ID)", "sex": "Sex", "born": "Date of birth",
        "save_profile": "Save profile", "conditions": "My conditions", "diagnosis": "Diagnosis (ICD-10)",
        "hospital": "Hospital that made the diagnosis", "diagnosed": "Date of diagnosis",
        "proof": "Proof of diagnosis", "submit_condition": "Submit for verification",
        "verification_queue": "Condition verification", "mark_verified": "Mark as verified",
        "book": "Book a consultation", "reason": "Why do you need this consultation?",
        "book_submit": "Book and continue to payment", "pay": "Pay", "queue": "Consultation queue",
        "accept": "Accept", "message": "Message", "send": "Send", "complaint": "Chief complaint",
        "findings": "Findings", "assessment": "Assessment", "plan": "Plan", "save_note": "Save note",
        "complete": "Complete consultation",
    },
    "zh": {
        "language": "中文", "register": "注册", "name": "您的姓名", "phone": "手机号", "email": "邮箱",
        "password": "密码", "confirm": "再次输入密码", "create": "创建账号", "code": "验证码",
        "verify": "验证", "my_health": "我的健康",
        "profile": "个人资料与同意书", "legal_name": "真实姓名（与证件一致）", "sex": "性别",
        "born": "出生日期", "save_profile": "保存个人信息", "conditions": "我的疾病",
        "diagnosis": "诊断（ICD-10）", "hospital": "确诊医院", "diagnosed": "诊断日期",
        "proof": "诊断证明", "submit_condition": "提交核验", "verification_queue": "疾病核验",
        "mark_verified": "核验通过", "book": "预约在线复诊", "reason": "您为什么需要本次复诊？",
        "book_submit": "预约并前往支付", "pay": "支付", "queue": "复诊队列", "accept": "接诊",
        "message": "消息", "send": "发送", "complaint": "主诉", "findings": "检查所见",
        "assessment": "评估", "plan": "处理计划", "save_note": "保存病历记录", "complete": "完成复诊",
    },
}
PATIENT = {"en": ("Grace Journey", "139 2000 0101", "grace.journey@example.com"),
           "zh": ("李慢病", "139 2000 0102", "li.manbing@example.com")}
# Each run's own hospital, so the admin picks this patient's condition from a shared queue.
HOSPITAL = {"en": "Ruijin Hospital", "zh": "上海交通大学医学院附属瑞金医院"}


@pytest.fixture
def staff(live_app, tmp_path, request):
    previous = live_app.config["UPLOAD_FOLDER"]
    live_app.config["UPLOAD_FOLDER"] = str(tmp_path)
    lang = request.node.callspec.params["lang"]
    with live_app.app_context():
        admin = factories.make_user("admin", locale=lang)
        doctor = factories.make_user("doctor", locale=lang, display_name=f"Dr. Follow-up {lang}")
        db.session.commit()
        logins = admin.email, doctor.email, doctor.id
        db.session.remove()  # an open SQLite transaction would lock the live server out
    yield logins
    live_app.config["UPLOAD_FOLDER"] = previous


def sms_code(live_app, e164: str) -> str:
    with live_app.app_context():
        run_once()  # the worker sends the SMS outbox
    for phone, body in reversed(live_app.extensions["sms"].sent):
        if phone == e164:
            return re.search(r"\b(\d{6})\b", body).group(1)
    raise AssertionError(f"no SMS was sent to {e164}")


def nav(page: Page, name: str) -> None:
    open_menu(page)
    # A link's name may go on with its queue count ("Consultation queue 1 consultations waiting").
    page.locator("#main-nav").get_by_role("link", name=re.compile(rf"^{re.escape(name)}(\s|$)")).click()


def nav_in_menu(page: Page, menu: str, name: str) -> None:
    """Staff navigation groups its pages in menus: open the menu (by its id), then follow the link."""
    open_menu(page)
    page.locator(f"#menu-{menu}").click()
    page.locator("#main-nav").get_by_role("link", name=name, exact=True).click()


def second_phone(browser, browser_context_args) -> Page:
    return browser.new_context(**browser_context_args).new_page()


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_register_record_verify_book_pay_consult_and_complete(page: Page, browser, browser_context_args,
                                                               live_server, live_app, staff, lang):
    text = TEXT[lang]
    name, phone, email = PATIENT[lang]
    admin_login, doctor_login, doctor_id = staff

    # The patient registers in their language and verifies the phone with the SMS code.
    page.goto(live_server + "/")
    open_menu(page)
    page.get_by_role("button", name=text["language"]).click()
    nav(page, text["register"])
    page.get_by_label(text["name"]).fill(name)
    page.get_by_label(text["phone"]).fill(phone)
    page.get_by_label(text["email"]).fill(email)
    page.get_by_label(text["password"], exact=True).fill(PASSWORD)
    page.get_by_label(text["confirm"]).fill(PASSWORD)
    page.get_by_role("button", name=text["create"]).click()
    page.get_by_label(text["code"]).fill(sms_code(live_app, "+86" + phone.replace(" ", "")))
    page.get_by_role("button", name=text["verify"], exact=True).click()

    # Profile, then a condition diagnosed offline with its proof.
    nav_in_menu(page, "health", text["profile"])
    page.get_by_label(text["legal_name"]).fill(name)
    page.get_by_label(text["sex"]).select_option("female")
    page.get_by_label(text["born"]).fill("1962-05-20")
    page.get_by_role("button", name=text["save_profile"]).click()
    nav_in_menu(page, "health", text["conditions"])
    page.get_by_label(text["diagnosis"]).select_option("I10")
    page.get_by_label(text["hospital"]).fill(HOSPITAL[lang])
    page.get_by_label(text["diagnosed"]).fill("2019-04-02")
    page.get_by_label(text["proof"]).set_input_files(
        files=[{"name": "outpatient-record.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    page.get_by_role("button", name=text["submit_condition"]).click()
    expect(page.locator(".list-group-item", has_text=HOSPITAL[lang])).to_be_visible()
    assert fits_the_screen(page)

    # An admin verifies the condition against the proof.
    admin = second_phone(browser, browser_context_args)
    sign_in(admin, live_server, admin_login)
    nav_in_menu(admin, "people", text["verification_queue"])
    admin.locator(".list-group-item", has_text=HOSPITAL[lang]).click()
    admin.get_by_role("button", name=text["mark_verified"]).click()
    admin.context.close()

    # The patient books the consultation for it and pays with the test card.
    nav(page, text["book"])
    page.locator(f"#doctor-{doctor_id}").check()
    page.get_by_label(text["reason"]).fill("Home readings around 150/95 on amlodipine 5 mg.")
    page.get_by_role("button", name=text["book_submit"]).click()
    page.get_by_label("Visa 4242").check()
    page.get_by_role("button", name=text["pay"], exact=True).click()
    # Only the webhook, signed by localstripe, moves it into the doctor's queue.
    expect(page.locator("#waiting")).to_be_visible(timeout=30_000)

    # The doctor accepts from the queue (this captures the fee).
    doctor = second_phone(browser, browser_context_args)
    sign_in(doctor, live_server, doctor_login)
    nav(doctor, text["queue"])
    doctor.locator(".queue-item").first.click()
    expect(doctor.locator("#patient-record")).to_contain_text("I10")
    doctor.get_by_role("button", name=text["accept"], exact=True).click()

    # They talk; each side sees the other's words without reloading, as plain text.
    expect(page.locator("#message-form")).to_be_visible(timeout=30_000)
    page.get_by_label(text["message"], exact=True).fill("Should I keep the same dose?")
    page.get_by_role("button", name=text["send"], exact=True).click()
    expect(doctor.locator("#message-thread .message-body").last).to_have_text(
        "Should I keep the same dose?", timeout=30_000)
    page.evaluate("window.stillThisPage = true")  # gone if the patient's page were reloaded
    doctor.get_by_label(text["message"], exact=True).fill(SCRIPT)
    doctor.get_by_role("button", name=text["send"], exact=True).click()
    expect(page.locator("#message-thread .message-body").last).to_have_text(SCRIPT, timeout=30_000)
    assert page.title() != "pwned" and doctor.title() != "pwned"
    assert page.evaluate("window.stillThisPage === true")

    # The doctor writes the note and completes the consultation.
    doctor.get_by_label(text["complaint"]).fill("Follow-up of hypertension.")
    doctor.get_by_label(text["findings"]).fill("Home BP 150/95, no symptoms.")
    doctor.get_by_label(text["assessment"]).fill("Hypertension, not at target.")
    doctor.get_by_label(text["plan"]).fill("Continue amlodipine; recheck in 4 weeks.")
    doctor.get_by_role("button", name=text["save_note"]).click()
    doctor.get_by_role("button", name=text["complete"]).click()
    doctor.context.close()

    page.reload()
    expect(page.locator("#doctor-note")).to_contain_text("Continue amlodipine; recheck in 4 weeks.")
    expect(page.locator("#rating")).to_be_visible()
    # Each star is a tap target of at least 44×44 px on the phone.
    stars = page.locator("#rating-stars label")
    expect(stars).to_have_count(5)
    for box in (stars.nth(i).bounding_box() for i in range(5)):
        assert box["width"] >= 44 and box["height"] >= 44, box
    stars.nth(1).click()  # the label is what the finger meets: it chooses 4 stars
    expect(page.locator("#rating-1")).to_be_checked()
    assert fits_the_screen(page)
