"""Adherence as the patient and the doctor of their consultation read it: days covered over 90 and 180
days from what was handed over, the share of dose reminders answered "taken", and the chart."""

import re

import pytest
from sqlalchemy import select

from app.accounts.models import Role
from app.audit.models import AuditEvent
from app.extensions import db as _db
from app.notifications.models import SmsStatus
from app.reminders.models import DoseAnswer
from tests import factories
from tests.adherence.conftest import AMLODIPINE, METFORMIN_BID, add_doses

AMLODIPINE_KEY, METFORMIN_KEY = "C08CA01", "A10BA02"  # fills are grouped by ATC code
SENT, DELIVERED = SmsStatus.SENT, SmsStatus.DELIVERED
TAKEN, SKIPPED = DoseAnswer.TAKEN, DoseAnswer.SKIPPED


@pytest.fixture
def history(visit, received_on):
    """Amlodipine (28 days a fill) handed over 150, 70 and 20 days ago; metformin once, 20 days ago.
    Amlodipine's dose reminders: four sent in the last 90 days (two taken, one skipped, one not
    answered), one sent and taken 100 days ago, and five that never reached the patient."""
    received_on(150, AMLODIPINE)
    received_on(70, AMLODIPINE)
    received_on(20, AMLODIPINE, METFORMIN_BID)
    add_doses(visit.patient, "AMLODIPINE-5MG-TAB", [
        (10, SENT, TAKEN), (5, DELIVERED, TAKEN), (3, SENT, SKIPPED), (2, SENT, None), (100, SENT, TAKEN),
        # Not counted: never sent, refused, undelivered, withdrawn.
        (4, SmsStatus.FAILED, None), (6, SmsStatus.UNDELIVERED, None), (7, SmsStatus.QUEUED, None),
        (8, SmsStatus.CANCELLED, None), (9, SmsStatus.SENDING, None)])
    return visit


def _drug(page: str, key: str) -> str:
    found = re.search(rf'<div class="mb-3" data-adherence-drug="{key}">(.*?)</table>', page, re.S)
    assert found, f"no figures for {key}"
    return found.group(1)


def _cell(block: str, attribute: str, days: int) -> str:
    found = re.search(rf'<td data-window="{days}" {attribute}(.*?)</td>', block, re.S)
    assert found, (attribute, days)
    return found.group(0)


def assert_history_figures(page: str) -> None:
    """The figures of `history`, worked out by hand (T = today, in the patient's zone)."""
    amlodipine = _drug(page, AMLODIPINE_KEY)
    # 90 days: T-89..T. The fill of T-150 ran out long before; T-70 covers T-70..T-43 (28 days), and
    # T-20 covers T-20..T (21 days, the rest is after today): 49 of 90 days, not adherent.
    last_90 = _cell(amlodipine, 'data-pdc="0.5444"', 90)
    assert "54%" in last_90 and "49 of 90 days" in last_90 and "Not adherent" in last_90
    # 180 days, from the first fill (T-150): 28 + 28 + 21 = 77 of 151 days.
    last_180 = _cell(amlodipine, 'data-pdc="0.5099"', 180)
    assert "51%" in last_180 and "77 of 151 days" in last_180 and "Not adherent" in last_180
    # Dose answers among reminders sent: 2 taken, 1 skipped, 1 unanswered in 90 days; one more taken in 180.
    confirmed_90 = _cell(amlodipine, 'data-taken="2" data-skipped="1" data-unanswered="1"', 90)
    assert "50%" in confirmed_90 and "2 taken · 1 skipped · 1 no answer" in confirmed_90
    confirmed_180 = _cell(amlodipine, 'data-taken="3" data-skipped="1" data-unanswered="1"', 180)
    assert "60%" in confirmed_180
    # One fill of metformin: not yet in the measure, in either window; no reminder of it was sent.
    metformin = _drug(page, METFORMIN_KEY)
    assert metformin.count('data-pdc="ineligible"') == 2 and metformin.count("Not enough refills yet") == 2
    assert metformin.count("No reminders sent") == 2 and "Adherent" not in metformin


def chart_of(page: str) -> str:
    found = re.search(r'<svg[^>]*id="adherence-chart".*?</svg>', page, re.S)
    assert found, "no chart"
    return found.group(0)


# ---- the patient -------------------------------------------------------------------------------

def test_the_patient_sees_each_medicine_s_figures_worked_out_by_hand(db, as_user, history):
    page = as_user(history.patient).get("/adherence/")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert_history_figures(text)
    assert 'href="/adherence/"' in text and 'aria-current="page"' in text  # in the patient's menu
    # Newest fill first: metformin and amlodipine were last handed over the same day; then by key.
    order = [text.index(f'data-adherence-drug="{key}"') for key in (METFORMIN_KEY, AMLODIPINE_KEY)]
    assert order == sorted(order)


def test_the_page_is_audited_as_a_read_of_the_patient_s_data(db, as_user, history):
    as_user(history.patient).get("/adherence/")
    event = _db.session.scalar(select(AuditEvent).where(AuditEvent.action == "adherence.viewed"))
    assert event.patient_id == history.patient.id and event.actor_id == history.patient.id
    assert AMLODIPINE_KEY in event.detail and METFORMIN_KEY in event.detail


def test_another_patient_sees_only_their_own_page(db, as_user, history):
    other = factories.make_patient()
    page = as_user(other).get("/adherence/").get_data(as_text=True)
    assert 'id="adherence-none"' in page and "data-adherence-drug" not in page and "<svg" not in page


@pytest.mark.parametrize("role", [Role.DOCTOR, Role.PHARMACIST, Role.ADMIN, Role.COURIER])
def test_staff_cannot_open_the_patient_page(db, as_user, role):
    staff = factories.make_user(role)
    assert as_user(staff).get("/adherence/").status_code == 403


def test_a_visitor_is_sent_to_sign_in(db, client):
    response = client.get("/adherence/")
    assert response.status_code == 302 and "/accounts/login" in response.headers["Location"]


def test_the_page_speaks_chinese_to_a_chinese_reader(db, as_user, history):
    history.patient.locale = "zh"
    page = as_user(history.patient).get("/adherence/").get_data(as_text=True)
    assert "氨氯地平" in page and "二甲双胍" in page  # the generic names in the reader's language
    assert 'lang="zh-Hans-CN"' in page


def test_a_medicine_whose_supply_ended_before_the_window_is_not_current(db, as_user, visit, received_on):
    received_on(300, AMLODIPINE)  # 28 days' supply, long gone
    received_on(5, METFORMIN_BID)
    page = as_user(visit.patient).get("/adherence/").get_data(as_text=True)
    assert f'data-adherence-drug="{AMLODIPINE_KEY}"' not in page
    assert f'data-adherence-drug="{METFORMIN_KEY}"' in page


def test_an_early_refill_starts_when_the_supply_on_hand_runs_out(db, as_user, visit, received_on):
    received_on(50, AMLODIPINE)  # T-50..T-23
    received_on(25, AMLODIPINE)  # refilled 3 days early: T-22..T+5, so T-22..T in the window
    block = _drug(as_user(visit.patient).get("/adherence/").get_data(as_text=True), AMLODIPINE_KEY)
    last_90 = _cell(block, 'data-pdc="1.0000"', 90)  # from the first fill: 51 of 51 days
    assert "100%" in last_90 and "51 of 51 days" in last_90 and "Adherent" in last_90


# ---- the doctor --------------------------------------------------------------------------------

def _panel(page: str) -> str:
    return page.split('id="record-adherence"')[1].split("</section>")[0]


def test_the_doctor_of_the_consultation_sees_the_same_figures_beside_the_medicines(
        db, as_user, history):
    page = as_user(history.doctor).get(f"/consultations/{history.consultation.id}").get_data(as_text=True)
    panel = _panel(page)
    assert_history_figures(panel)
    chart_of(panel)
    # Beside the list of what the patient takes now.
    assert page.index('id="record-taking"') < page.index('id="record-adherence"') < page.index(
        'id="record-prescriptions"')


def test_another_doctor_does_not_get_the_consultation_page(db, as_user, history):
    stranger = factories.make_user(Role.DOCTOR)
    response = as_user(stranger).get(f"/consultations/{history.consultation.id}")
    assert response.status_code == 404
    assert "record-adherence" not in response.get_data(as_text=True)


def test_the_patient_s_own_consultation_page_has_no_doctor_s_panel(db, as_user, history):
    page = as_user(history.patient).get(f"/consultations/{history.consultation.id}").get_data(as_text=True)
    assert "record-adherence" not in page


def test_the_doctor_reads_that_there_is_nothing_to_measure_yet(db, as_user, visit):
    page = as_user(visit.doctor).get(f"/consultations/{visit.consultation.id}").get_data(as_text=True)
    assert 'id="record-adherence-none"' in _panel(page) and "<svg" not in _panel(page)


# ---- the chart ---------------------------------------------------------------------------------

SVG_NAMESPACES = {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}


def test_the_chart_loads_nothing_and_runs_nothing(db, as_user, history):
    svg = chart_of(as_user(history.patient).get("/adherence/").get_data(as_text=True))
    assert set(re.findall(r"https?://[^\s\"'<>)]+", svg)) <= SVG_NAMESPACES
    assert "<script" not in svg and "<style" not in svg and " style=" not in svg
    assert "<!--" not in svg and "href=" not in svg and "url(" not in svg


def test_the_chart_has_a_title_and_a_summary_for_screen_readers(db, as_user, history):
    svg = chart_of(as_user(history.patient).get("/adherence/").get_data(as_text=True))
    opening = svg[:svg.index(">") + 1]
    assert 'role="img"' in opening and 'aria-labelledby="adherence-chart-title"' in opening
    assert 'aria-describedby="adherence-chart-desc"' in opening and "viewBox=" in opening
    assert "width=" not in opening and "w-100" in opening  # as wide as its container: a phone's too
    title = re.search(r'<title id="adherence-chart-title">(.*?)</title>', svg).group(1)
    assert title == "Supply and dose answers over the last 180 days"
    summary = re.search(r'<desc id="adherence-chart-desc">(.*?)</desc>', svg).group(1)
    assert ("Amlodipine: supplied on 77 of the last 180 days; doses confirmed taken: 3, skipped: 1, "
            "without an answer: 1.") in summary
    assert "Metformin: supplied on 10 of the last 180 days" in summary
    assert svg.count("<title") == 1  # pygal's tooltips are gone; the one title names the chart


def test_the_chart_draws_a_band_per_supply_and_a_dot_per_answered_day(db, as_user, history):
    svg = chart_of(as_user(history.patient).get("/adherence/").get_data(as_text=True))
    # Supplies within the last 180 days: amlodipine three, metformin one, one stroke each.
    assert len(re.findall(r'<path d="M[^"]*L[^"]*"[^>]*stroke="#3d8bfd"', svg)) == 4
    assert svg.count('fill="#198754"') == 3 + 1  # three days with a dose taken, and the legend's box
    assert svg.count('fill="#dc3545"') == 1 + 1  # one day skipped, and the legend's box
