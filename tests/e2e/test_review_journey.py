"""Pharmacist review on phone-sized screens, in English and in Chinese: the doctor signs a prescription,
a pharmacist returns it with a reason, the doctor revises it into a new version, and a pharmacist
approves that version, reading beside it what it replaces and why; the patient sees one prescription,
its earlier version folded under it, and what happens next."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests import factories
from tests.e2e.pages import add_drug, fits_the_screen, open_menu, sign_in, sign_out

pytestmark = pytest.mark.e2e

TEXT = {
    "en": {"write": "Write a prescription", "find": "Find a drug", "dose": "Dose", "how_often": "How often",
           "duration": "Duration in days", "add": "Add to prescription", "password": "Your password",
           "sign": "Sign prescription", "queue": "Prescription review", "claim": "Review this prescription",
           "return": "Return to the doctor", "approve": "Approve",
           "reason": "Dose or frequency inappropriate", "note": "Note to the doctor",
           "decide": "Record decision",
           "returned_flash": "Returned to the doctor with your reasons.",
           "approved_flash": "Approved. The patient can now order the medicines",
           "replaces": "version 1", "earlier": "Why earlier versions were returned",
           "next": "Approved by the pharmacist. It is valid until", "folded": "1 earlier version",
           "revise": "Revise (new version)", "remove": "Remove", "returned": "Returned to the doctor",
           "approved": "Approved by the pharmacist", "findings": "The automatic checks found nothing."},
    "zh": {"write": "开具处方", "find": "查找药品", "dose": "剂量", "how_often": "用药频次",
           "duration": "用药天数", "add": "加入处方", "password": "您的密码", "sign": "签署处方",
           "queue": "处方审核", "claim": "审核此处方", "return": "退回医生", "approve": "审核通过",
           "reason": "用法、用量不适宜", "note": "给医生的备注", "decide": "提交审核决定",
           "returned_flash": "已连同您的理由退回医生。",
           "approved_flash": "已审核通过。患者现在可以在",
           "replaces": "第1版", "earlier": "此前版本的退回原因", "next": "药师已审核通过，处方有效期至",
           "folded": "1个此前版本",
           "revise": "修改（新版本）", "remove": "删除", "returned": "已退回医生",
           "approved": "药师审核通过", "findings": "系统审方未发现问题。"},
}
NOTE = {"en": "Age 82: start amlodipine at 2.5 mg.", "zh": "患者82岁：氨氯地平应从2.5毫克起始。"}


def sign_prescription(page: Page, text: dict) -> None:
    page.get_by_label(text["password"]).fill(factories.PASSWORD)
    page.get_by_role("button", name=text["sign"]).click()
    expect(page.locator("[data-status=awaiting_review]")).to_be_visible()


def claim_from_queue(page: Page, text: dict, prescription_url: str) -> None:
    """The live server's queue is shared with the other browser tests: pick this test's prescription."""
    open_menu(page)
    # The link's name goes on with the count of prescriptions waiting.
    page.locator("#main-nav").get_by_role("link", name=re.compile("^" + re.escape(text["queue"]))).click()
    prescription_id = prescription_url.rstrip("/").rsplit("/", 1)[-1].split("#")[0]
    page.locator(f'#review-queue a[data-prescription-id="{prescription_id}"]').click()
    page.get_by_role("button", name=text["claim"]).click()


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_return_revise_and_approve(page: Page, live_server, consultation, lang):
    text = TEXT[lang]
    consultation_id, patient_login, doctor_login, pharmacist_login = consultation

    # The doctor writes and signs version 1.
    sign_in(page, live_server, doctor_login)
    page.goto(f"{live_server}/consultations/{consultation_id}")
    page.get_by_role("button", name=text["write"]).click()
    add_drug(page, text, search="amlodi", pick="5 mg", dose="5")
    page.get_by_role("button", name=text["add"]).click()
    expect(page.locator("#items .directions")).to_have_count(1)  # the draft, reloaded with its line
    sign_prescription(page, text)
    version_one = page.url
    sign_out(page)

    # A pharmacist claims it, reads the (empty) findings and returns it with a reason and a note.
    sign_in(page, live_server, pharmacist_login)
    claim_from_queue(page, text, version_one)
    expect(page.locator("#no-findings")).to_have_text(text["findings"])
    page.get_by_label(text["return"]).check()
    page.get_by_label(text["reason"]).check()
    page.get_by_label(text["note"]).fill(NOTE[lang])
    assert fits_the_screen(page)
    page.get_by_role("button", name=text["decide"]).click()
    expect(page.get_by_role("alert")).to_contain_text(text["returned_flash"])
    sign_out(page)

    # The doctor sees the return with its reason and note, and revises: 2.5 mg instead of 5 mg.
    sign_in(page, live_server, doctor_login)
    page.goto(version_one)
    expect(page.locator("[data-status=returned]")).to_have_text(text["returned"])
    expect(page.locator("#returned")).to_contain_text(text["reason"])
    expect(page.locator("#return-note")).to_have_text(NOTE[lang])
    page.get_by_role("button", name=text["revise"]).click()
    page.locator("#items").get_by_role("button", name=text["remove"]).click()
    # Removing reloads the draft: type into the new page, not into the one being replaced.
    expect(page.locator("#items .directions")).to_have_count(0)
    add_drug(page, text, search="amlodi", pick="5 mg", dose="2.5")
    page.get_by_role("button", name=text["add"]).click()
    expect(page.locator("#items .directions")).to_have_count(1)
    sign_prescription(page, text)
    expect(page.locator("#items .directions")).to_contain_text("2.5")
    version_two = page.url
    sign_out(page)

    # A pharmacist approves version 2, reading what it replaces and why version 1 was returned.
    sign_in(page, live_server, pharmacist_login)
    claim_from_queue(page, text, version_two)
    expect(page.locator("#items .directions")).to_contain_text("2.5")
    expect(page.locator("#replaces")).to_have_text(text["replaces"])
    expect(page.locator("#earlier-returns")).to_contain_text(text["earlier"])
    expect(page.locator("#earlier-returns")).to_contain_text(NOTE[lang])
    expect(page.locator("#consultation-note")).to_be_visible()
    page.get_by_label(text["approve"], exact=True).check()
    page.get_by_role("button", name=text["decide"]).click()
    expect(page.get_by_role("alert")).to_contain_text(text["approved_flash"])
    sign_out(page)

    sign_in(page, live_server, doctor_login)
    page.goto(version_one)
    page.locator("#newer-version").click()
    expect(page.locator("[data-status=approved]")).to_have_text(text["approved"])
    sign_out(page)

    # The patient's list shows version 2 only, version 1 folded under it; its page says what is next.
    sign_in(page, live_server, patient_login)
    page.goto(f"{live_server}/prescriptions/")
    version_two_id = version_two.rstrip("/").rsplit("/", 1)[-1].split("#")[0]
    entry = page.locator(f'#prescriptions a[data-prescription-id="{version_two_id}"]')
    expect(entry).to_be_visible()
    expect(page.locator(f'details[data-for="{version_two_id}"] summary')).to_have_text(text["folded"])
    entry.click()
    expect(page.locator("#next-step")).to_contain_text(text["next"])
    assert fits_the_screen(page)
