"""The drug typeahead on a phone, in English and Chinese: as the doctor types, the list shows the same
safety badges, maximum daily dose and no-match message as the server-side search does; and the
patient's prescription pages have tap targets of at least 44×44 px."""

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from app.accounts.models import Role, User
from app.consultations.models import Consultation
from app.drugs.models import Drug
from app.extensions import db
from app.prescribing import services as rx
from app.review import services as review
from tests import factories
from tests.e2e.pages import sign_in

pytestmark = pytest.mark.e2e

TEXT = {
    "en": {"write": "Write a prescription", "find": "Find a drug", "weekly": "Weekly dosing only",
           "not_online": "Not prescribable online", "cold": "Cold chain", "max": "Maximum daily dose",
           "none": "No drug matches.", "search": "Search"},
    "zh": {"write": "开具处方", "find": "查找药品", "weekly": "仅限每周给药", "not_online": "不可在线开具",
           "cold": "冷链", "max": "每日最大剂量", "none": "没有匹配的药品。", "search": "搜索"},
}


def typed(page: Page, text: dict, query: str):
    """Type a query into the typeahead and wait for the list the script built for exactly it."""
    box = page.get_by_label(text["find"])
    box.fill("")
    box.press_sequentially(query, delay=20)
    results = page.locator("#drug-results")
    expect(results).to_have_attribute("data-query", query)
    expect(results).not_to_have_attribute("aria-busy", "true")
    return results


def row(results, code_text: str):
    return results.locator("label").filter(has_text=code_text).first


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_typeahead_shows_badges_maximum_dose_and_no_match_like_the_server(page: Page, live_server,
                                                                            consultation, lang):
    text = TEXT[lang]
    consultation_id, _patient, doctor_login, _pharmacist = consultation
    sign_in(page, live_server, doctor_login)
    page.goto(f"{live_server}/consultations/{consultation_id}")
    page.get_by_role("button", name=text["write"]).click()
    page.wait_for_load_state("load")

    combobox = page.locator("[name=query]")
    expect(combobox).to_have_attribute("aria-expanded", "false")
    results = typed(page, text, "methotrexate")
    expect(combobox).to_have_attribute("aria-expanded", "true")
    tablet = row(results, "2.5 mg")
    expect(tablet.locator(".badge")).to_have_text([text["weekly"]])
    expect(tablet).to_contain_text(f"{text['max']}: 25 mg")
    # A drug without a catalogue maximum reads "—", as on the server, never ": " and nothing.
    expect(row(results, "50 mg")).to_contain_text(f"{text['max']}: —")
    client_rendered = [label.inner_text() for label in results.locator("label").all()]

    expect(row(typed(page, text, "oxycodone"), "10 mg").locator(".badge")).to_have_text([text["not_online"]])
    liraglutide = row(typed(page, text, "liraglutide"), "18 mg")
    expect(liraglutide.locator(".badge")).to_have_text([text["cold"]])
    expect(liraglutide).to_contain_text(f"{text['max']}: 1.8 mg")

    nothing = typed(page, text, "zzqxv")
    expect(nothing.locator("p")).to_have_text(text["none"])
    expect(combobox).to_have_attribute("aria-expanded", "false")

    # The no-script Search button renders the list on the server: the same words, line by line.
    typed(page, text, "methotrexate")
    page.locator("#search-submit").click()
    page.wait_for_load_state("load")
    expect(page.locator("#drug-results label")).to_have_count(len(client_rendered))
    server_rendered = [label.inner_text() for label in page.locator("#drug-results label").all()]
    assert [" ".join(t.split()) for t in server_rendered] == [" ".join(t.split()) for t in client_rendered]


def _returned_and_revised(live_app, consultation_id: int) -> tuple[int, int]:
    """Version 1 signed and returned by the pharmacist, version 2 signed in its place; their ids."""
    with live_app.app_context():
        visit = db.session.get(Consultation, consultation_id)
        doctor = visit.doctor
        pharmacist = db.session.scalar(select(User).where(User.role == Role.PHARMACIST)
                                       .order_by(User.id.desc()))
        amlodipine = db.session.scalar(select(Drug).where(Drug.code == "AMLODIPINE-5MG-TAB"))
        first = rx.start(visit, doctor, condition_id=visit.condition_id)
        rx.add_item(first, doctor, drug_id=amlodipine.id, dose="5", dose_unit="mg", frequency="QD",
                    duration_days=7)
        review.submit(rx.sign(first, doctor, factories.PASSWORD))
        review.claim(first, pharmacist)
        review.decide(first, pharmacist, "returned", reason_codes=["dose"], note="Start lower.")
        second = rx.revise(first, doctor)
        review.submit(rx.sign(second, doctor, factories.PASSWORD))
        db.session.commit()
        ids = first.id, second.id
        db.session.remove()  # an open SQLite transaction would lock the live server out
    return ids


def too_small(page: Page, selector: str) -> list[str]:
    """The elements matching `selector` smaller than 44×44 CSS pixels, with their sizes."""
    found = page.locator(selector)
    expect(found.first).to_be_visible()
    small = []
    for element in found.all():
        box = element.bounding_box()
        if box["width"] < 44 or box["height"] < 44:
            small.append(f"{selector} {element.inner_text()!r}: {box['width']:.0f}×{box['height']:.0f}")
    return small


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_patients_prescription_links_are_big_enough_to_tap(page: Page, live_app, live_server,
                                                                consultation, lang):
    consultation_id, patient_login, _doctor, _pharmacist = consultation
    first, second = _returned_and_revised(live_app, consultation_id)
    sign_in(page, live_server, patient_login)

    page.goto(f"{live_server}/prescriptions/")
    page.locator(f'details[data-for="{second}"] summary').click()
    small = too_small(page, "#prescriptions a[data-prescription-id]")
    small += too_small(page, f'details[data-for="{second}"] summary')
    small += too_small(page, f'[data-earlier-id="{first}"]')

    page.goto(f"{live_server}/prescriptions/{second}")
    small += too_small(page, "#previous-version") + too_small(page, "#back-to-consultation")
    page.goto(f"{live_server}/prescriptions/{first}")
    small += too_small(page, "#newer-version")
    assert not small, small
