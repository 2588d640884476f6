"""The prescription's shape at its legal limits: at most 5 drugs, and a supply of at most 7 days (normal),
28 (chronic condition) or 84 (long prescription). Each limit is accepted exactly and refused one above,
with the doctor's message in their language and nothing written, wherever prescribing enforces it:
adding a line, changing the supply category, signing, and the draft page."""

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from app.errors import DomainError
from app.extensions import db as _db
from app.prescribing import services as rx
from app.prescribing.models import Prescription, PrescriptionItem, SupplyCategory
from app.prescribing.states import PrescriptionStatus
from tests.consultations.conftest import as_user  # noqa: F401  (fixture)
from tests.prescribing.conftest import item, sign_and_submit

REASON = "Stable hypertension on this dose for a year; monthly follow-up."
ASSESSMENT = "Blood pressure controlled for 6 months; no side effects."

NORMAL_OVER = ("At most 7 days unless the diagnosis is chronic and you state why.",
               "用药天数最多为 7 天；慢性病需注明理由后方可延长。")
CHRONIC_OVER = ("At most 28 days for a chronic condition; longer needs a long prescription.",
                "慢性病处方的用药天数最多为 28 天；更长需开具长期处方。")
LONG_OVER = ("A long prescription covers at most 84 days.", "长期处方的用药天数最多为 84 天。")

# (supply category, the longest supply it allows, the refusal one day over it in English and Chinese)
LIMITS = [
    pytest.param("normal", 7, NORMAL_OVER, id="normal-7"),
    pytest.param("chronic", 28, CHRONIC_OVER, id="chronic-28"),
    pytest.param("long", 84, LONG_OVER, id="long-84"),
]


def choose(prescription, doctor, category: str) -> None:
    """Set the supply category with what it needs (a reason, or the doctor's assessment)."""
    if category == "chronic":
        rx.set_supply(prescription, doctor, "chronic", reason=REASON)
    elif category == "long":
        rx.set_supply(prescription, doctor, "long", assessment=ASSESSMENT)
    elif prescription.supply_category != category:
        rx.set_supply(prescription, doctor, category)


def both_languages(reason) -> tuple[str, str]:
    with force_locale("en"):
        english = str(reason)
    with force_locale("zh"):
        chinese = str(reason)
    return english, chinese


def stored_lines(prescription) -> int:
    return _db.session.scalar(select(func.count()).select_from(PrescriptionItem)
                              .where(PrescriptionItem.prescription_id == prescription.id))


# ---- adding a line -------------------------------------------------------------------------------

@pytest.mark.parametrize(("category", "days", "over"), LIMITS)
def test_lines_of_a_day_less_and_of_exactly_the_longest_supply_are_added(visit, draft, category, days, over):
    choose(draft, visit.doctor, category)
    shorter = item(draft, visit.doctor, visit.drugs, duration_days=days - 1)
    longest = item(draft, visit.doctor, visit.drugs, duration_days=days)
    _db.session.commit()
    assert (shorter.duration_days, longest.duration_days, stored_lines(draft)) == (days - 1, days, 2)
    assert longest.days_supply >= days  # whole packs: at least the days prescribed


@pytest.mark.parametrize(("category", "days", "over"), LIMITS)
def test_one_day_over_the_longest_supply_is_refused_with_the_doctors_message(visit, draft, category, days,
                                                                               over):
    choose(draft, visit.doctor, category)
    with pytest.raises(DomainError) as refused:
        item(draft, visit.doctor, visit.drugs, duration_days=days + 1)
    assert both_languages(refused.value.reasons["duration_days"]) == over
    _db.session.rollback()
    assert draft.items == [] and stored_lines(draft) == 0


# ---- changing the supply category of a draft that has lines --------------------------------------

@pytest.mark.parametrize(("wider", "narrower", "days", "over"), [
    pytest.param("chronic", "normal", 7, NORMAL_OVER, id="chronic-to-normal"),
    pytest.param("long", "chronic", 28, CHRONIC_OVER, id="long-to-chronic"),
])
def test_a_narrower_supply_keeps_a_line_exactly_at_its_limit_and_refuses_one_day_more(
        visit, draft, wider, narrower, days, over):
    choose(draft, visit.doctor, wider)
    at_limit = item(draft, visit.doctor, visit.drugs, duration_days=days)
    choose(draft, visit.doctor, narrower)
    assert draft.supply_category == narrower
    _db.session.commit()

    choose(draft, visit.doctor, wider)
    rx.remove_item(draft, visit.doctor, at_limit)
    item(draft, visit.doctor, visit.drugs, duration_days=days + 1)
    _db.session.commit()
    with pytest.raises(DomainError) as refused:
        choose(draft, visit.doctor, narrower)
    assert both_languages(refused.value.reasons["duration_days"]) == over
    _db.session.rollback()
    assert _db.session.get(Prescription, draft.id).supply_category == wider


# ---- signing re-checks every line ----------------------------------------------------------------

@pytest.mark.parametrize(("category", "days", "over"), [
    pytest.param("normal", 7, NORMAL_OVER, id="normal-7"),
    pytest.param("chronic", 28, CHRONIC_OVER, id="chronic-28"),
])
def test_signing_refuses_a_line_that_no_longer_fits_its_supply(visit, draft, category, days, over):
    """A draft saved before a rule changed (or edited behind the page's back) is checked again when the
    doctor signs: one day over is refused and the prescription stays a draft."""
    choose(draft, visit.doctor, category)
    line = item(draft, visit.doctor, visit.drugs, duration_days=days)
    line.duration_days = days + 1
    _db.session.commit()
    with pytest.raises(DomainError) as refused:
        sign_and_submit(draft, visit.doctor)
    assert both_languages(refused.value.reasons["duration_days"]) == over
    _db.session.rollback()
    assert _db.session.get(Prescription, draft.id).status == PrescriptionStatus.DRAFT


@pytest.mark.parametrize(("category", "days"), [("normal", 7), ("chronic", 28), ("long", 84)])
def test_a_line_exactly_at_its_limit_is_signed(visit, draft, category, days):
    choose(draft, visit.doctor, category)
    item(draft, visit.doctor, visit.drugs, duration_days=days)
    if category == "long":
        rx.confirm_long(draft, visit.patient)
    sign_and_submit(draft, visit.doctor)
    _db.session.commit()
    signed = _db.session.get(Prescription, draft.id)
    assert signed.status == PrescriptionStatus.AWAITING_REVIEW
    assert [line.duration_days for line in signed.items] == [days]


# ---- the draft page ------------------------------------------------------------------------------

def _line_form(visit, days: int) -> dict:
    return {"drug_id": str(visit.drugs["AMLODIPINE-5MG-TAB"].id), "dose": "5", "dose_unit": "mg",
            "frequency": "QD", "duration_days": str(days), "times_of_day": "", "route": "",
            "instructions": "", "query": ""}


@pytest.fixture
def doctor_browser(visit, as_user):  # noqa: F811
    return as_user(visit.doctor)


@pytest.mark.parametrize(("category", "days", "message"), [
    pytest.param("normal", 7, NORMAL_OVER[0], id="normal-7"),
    pytest.param("chronic", 28, CHRONIC_OVER[0], id="chronic-28"),
    # The form's own bound (the longest supply of any category) answers before the service does.
    pytest.param("long", 84, "Enter a number from 1 to 84.", id="long-84"),
])
def test_the_page_adds_a_line_at_the_limit_and_refuses_one_day_more(db, visit, draft, doctor_browser,
                                                                    category, days, message):
    choose(draft, visit.doctor, category)
    _db.session.commit()
    refused = doctor_browser.post(f"/prescriptions/{draft.id}/items", data=_line_form(visit, days + 1))
    assert refused.status_code == 400
    assert message in refused.get_data(as_text=True)
    assert stored_lines(draft) == 0
    added = doctor_browser.post(f"/prescriptions/{draft.id}/items", data=_line_form(visit, days))
    assert added.status_code == 303
    assert stored_lines(draft) == 1


def test_the_page_takes_a_fifth_drug_then_offers_no_sixth_and_refuses_one(db, visit, draft, doctor_browser):
    for _ in range(4):
        item(draft, visit.doctor, visit.drugs)
    _db.session.commit()
    page = doctor_browser.get(f"/prescriptions/{draft.id}").get_data(as_text=True)
    assert "4 of at most 5" in page and 'id="item-form"' in page

    added = doctor_browser.post(f"/prescriptions/{draft.id}/items", data=_line_form(visit, 7))
    assert added.status_code == 303
    assert stored_lines(draft) == 5
    page = doctor_browser.get(f"/prescriptions/{draft.id}").get_data(as_text=True)
    assert "5 of at most 5" in page and 'id="item-form"' not in page

    # A sixth sent from a page opened earlier (a second tab, a double click) is refused.
    refused = doctor_browser.post(f"/prescriptions/{draft.id}/items", data=_line_form(visit, 7))
    assert refused.status_code == 400
    assert "5 of at most 5" in refused.get_data(as_text=True)
    assert stored_lines(draft) == 5


@pytest.mark.parametrize(("locale", "message"), [("en", "A prescription holds at most 5 drugs."),
                                                 ("zh", "每张处方最多开具 5 种药品。")], ids=["en", "zh"])
def test_a_sixth_drug_refused_on_the_page_says_why(db, visit, draft, doctor_browser, locale, message):
    for _ in range(5):
        item(draft, visit.doctor, visit.drugs)
    visit.doctor.locale = locale
    _db.session.commit()
    refused = doctor_browser.post(f"/prescriptions/{draft.id}/items", data=_line_form(visit, 7))
    assert refused.status_code == 400
    assert message in refused.get_data(as_text=True)


def test_the_sixth_drug_is_refused_in_the_doctors_language_and_the_fifth_is_kept(visit, draft):
    for _ in range(5):
        item(draft, visit.doctor, visit.drugs)
    _db.session.commit()
    with pytest.raises(DomainError) as refused:
        item(draft, visit.doctor, visit.drugs, "METFORMIN-500MG-TAB", dose="500", frequency="BID")
    assert both_languages(refused.value.reasons["drug_id"]) == (
        "A prescription holds at most 5 drugs.", "每张处方最多开具 5 种药品。")
    _db.session.rollback()
    assert stored_lines(draft) == 5
    assert _db.session.get(Prescription, draft.id).supply_category == SupplyCategory.NORMAL
