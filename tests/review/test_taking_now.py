"""What the patient takes now, from real dispensings and signed prescriptions: the pharmacist's review page,
the doctor's consultation page and new-prescription page list it as the checks count it."""

import html
import itertools
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.checks import adapters, taking
from app.database import utcnow
from app.extensions import db as _db
from app.inventory.models import StockLot
from app.orders import dispensing
from app.orders.models import DispensedPack, Order
from app.prescribing import services as rx
from app.prescribing.services import local_date
from app.review import services as review
from tests import factories
from tests.orders.conftest import approve, ordering, shop  # noqa: F401  (fixtures)
from tests.prescribing.conftest import item, sign_and_submit
from tests.query_budget import count_statements
from tests.review.conftest import AMLODIPINE, PRESCRIBER_REASON

METFORMIN = ("METFORMIN-500MG-TAB", dict(dose="500"))
NIFEDIPINE = ("NIFEDIPINE-30MG-CRTAB", dict(dose="30"))
METHOTREXATE_WEEKLY = ("METHOTREXATE-2.5MG-TAB", dict(dose="7.5", frequency="QW"))
# The product part of each test drug's traceability codes, as the supplier's catalogue gives it.
PREFIXES = {"AMLODIPINE-5MG-TAB": "8690001", "METFORMIN-500MG-TAB": "8690002",
            "NIFEDIPINE-30MG-CRTAB": "8690003"}
EVERY_CHECK = [check for check, _label in dispensing.CHECKLIST]
SUPPLY = 28  # one pack of 28 tablets, one a day: what an order line of amlodipine 5 mg QD × 7 d hands out
serials = itertools.count(1)


@pytest.fixture
def coded(visit):
    for code, prefix in PREFIXES.items():
        visit.drugs[code].traceability_prefix = prefix
    _db.session.commit()
    return visit.drugs


@pytest.fixture
def dispensed(shop, ordering, coded):  # noqa: F811
    """Have the shop dispense an approved prescription `days_ago` days ago, scanning the lot and a code
    per pack as the dispensing page does."""

    def dispense(prescription, days_ago=10) -> Order:
        order, _payment = ordering.paid(prescription, shop.store)
        order = _db.session.get(Order, order.id)
        scans = {}
        for line in order.lines:
            lot = _db.session.scalar(select(StockLot).where(StockLot.store_id == shop.store.id,
                                                            StockLot.drug_id == line.drug_id))
            codes = [f"{PREFIXES[line.drug.code]}{next(serials):013d}" for _ in range(line.packs)]
            scans[line.id] = (lot.lot_number, " ".join(codes))
        when = utcnow() - timedelta(days=days_ago)
        dispensing.dispense(order, shop.pharmacist, scans, EVERY_CHECK, now=when)
        _db.session.commit()
        return order

    return dispense


def text(response) -> str:
    assert response.status_code == 200
    return html.unescape(response.get_data(as_text=True))


def listed(page: str, list_id: str) -> dict[str, tuple[str, str, str]]:
    """The list `list_id` of a page: for each drug code, its source, last day and words."""
    block = page.split(f'id="{list_id}">')[1].split("</ul>")[0]
    rows = re.findall(r'<li data-drug="([^"]+)" data-source="(\w+)" data-last-day="([\d-]+)">(.*?)</li>',
                      block, re.S)
    return {code: (source, last_day, " ".join(re.sub(r"<[^>]+>", "", words).split()))
            for code, source, last_day, words in rows}


def today():
    return local_date(utcnow())


def _new_draft(visit):
    draft = rx.start(visit.consultation, visit.doctor, condition_id=visit.condition.id)
    _db.session.commit()
    return draft


def _record(visit, as_user) -> dict:
    page = text(as_user(visit.doctor).get(f"/consultations/{visit.consultation.id}"))
    return listed(page, "record-taking")


def _pages(visit, pharmacists, as_user, under_review, draft) -> dict[str, dict]:
    """What the pharmacist reviewing `under_review`, and the doctor writing `draft`, read as taken now."""
    doctor = as_user(visit.doctor)
    return {
        "review": listed(text(as_user(pharmacists[1]).get(f"/reviews/{under_review.id}")), "review-active"),
        "record": listed(text(doctor.get(f"/consultations/{visit.consultation.id}")), "record-taking"),
        "draft": listed(text(doctor.get(f"/prescriptions/{draft.id}")), "draft-taking-list"),
    }


def test_a_supply_dispensed_ten_days_ago_is_taken_now_on_the_pharmacists_and_the_doctors_pages(
        db, visit, pharmacists, as_user, shop, approve, sign, dispensed):  # noqa: F811
    order = dispensed(approve(AMLODIPINE), days_ago=10)
    assert [line.days_supply for line in order.lines] == [SUPPLY]
    under_review = sign(METFORMIN)
    dispensed_on = today() - timedelta(days=10)
    last_day = dispensed_on + timedelta(days=SUPPLY - 1)
    expected = ("dispensing", last_day.isoformat(),
                f"Amlodipine 5 mg · Tablet · dispensed on {dispensed_on} at {shop.store.name_en}, "
                f"supply until {last_day}")

    pages = _pages(visit, pharmacists, as_user, under_review, _new_draft(visit))

    # Once, from the dispensing: the prescription it filled is not counted again from its signing. The
    # prescription under review is not taken yet for its pharmacist; the doctor sees it signed.
    assert pages["review"] == {"AMLODIPINE-5MG-TAB": expected}
    metformin_last = today() + timedelta(days=under_review.items[0].days_supply - 1)
    metformin = ("prescription", metformin_last.isoformat(),
                 f"Metformin 500 mg · Tablet · prescribed on {today()}, supply until {metformin_last}")
    assert pages["record"] == pages["draft"] \
        == {"AMLODIPINE-5MG-TAB": expected, "METFORMIN-500MG-TAB": metformin}
    # The pages and the checks read the same supplies.
    checks = adapters.build_context(visit.patient, exclude=under_review).active_medications
    assert [(m.drug.code, str(m.source), m.last_day.isoformat()) for m in checks] \
        == [(code, source, day) for code, (source, day, _words) in pages["review"].items()]


def test_the_doctor_and_the_pharmacist_read_it_in_chinese(
        db, visit, pharmacists, as_user, shop, approve, sign, dispensed):  # noqa: F811
    dispensed(approve(AMLODIPINE), days_ago=10)
    under_review = sign(METFORMIN)
    visit.doctor.locale = pharmacists[1].locale = "zh"
    _db.session.commit()
    dispensed_on = today() - timedelta(days=10)
    last_day = dispensed_on + timedelta(days=SUPPLY - 1)

    pages = _pages(visit, pharmacists, as_user, under_review, _new_draft(visit))

    words = f"氨氯地平 5 mg · 片剂 · {dispensed_on} 于{shop.store.name_zh}发药，用药至 {last_day}"
    for page in pages.values():
        assert page["AMLODIPINE-5MG-TAB"] == ("dispensing", last_day.isoformat(), words)
    metformin_last = today() + timedelta(days=under_review.items[0].days_supply - 1)
    assert pages["record"]["METFORMIN-500MG-TAB"][2] \
        == f"二甲双胍 500 mg · 片剂 · {today()} 开具处方，用药至 {metformin_last}"


@pytest.mark.parametrize(("days_ago", "shown"), [(SUPPLY - 2, True), (SUPPLY - 1, True), (SUPPLY, False)])
def test_the_last_day_of_the_supply_counts_and_the_day_after_does_not(
        db, visit, pharmacists, as_user, approve, sign, dispensed, days_ago, shown):  # noqa: F811
    dispensed(approve(AMLODIPINE), days_ago=days_ago)  # its last day: tomorrow, today, yesterday
    under_review = sign(METFORMIN)
    pages = _pages(visit, pharmacists, as_user, under_review, _new_draft(visit))
    last_day = today() - timedelta(days=days_ago) + timedelta(days=SUPPLY - 1)
    for page in pages.values():
        assert ("AMLODIPINE-5MG-TAB" in page) is shown
        if shown:
            assert page["AMLODIPINE-5MG-TAB"][:2] == ("dispensing", last_day.isoformat())
    assert any(m.drug.code == "AMLODIPINE-5MG-TAB" for m in adapters.build_context(
        visit.patient, exclude=under_review).active_medications) is shown


def test_a_supply_is_taken_from_its_first_day_through_its_last(
        db, visit, approve, dispensed):  # noqa: F811
    dispensed(approve(AMLODIPINE), days_ago=10)
    first_day = today() - timedelta(days=10)
    last_day = first_day + timedelta(days=SUPPLY - 1)

    def on(day):
        return [(s.drug.code, s.source, s.first_day, s.last_day)
                for s in taking.taking_now(visit.patient.id, day)]

    for day in (first_day, last_day - timedelta(days=1), last_day):
        assert on(day) == [("AMLODIPINE-5MG-TAB", "dispensing", first_day, last_day)]
    assert on(last_day + timedelta(days=1)) == []
    assert on(first_day - timedelta(days=1)) == []  # a dispensing after the day asked about is not yet taken
    assert adapters.build_context(visit.patient, today=first_day - timedelta(days=1)).active_medications == ()


def test_one_line_per_drug_with_the_supply_that_lasts_longest(
        db, visit, pharmacists, as_user, approve, sign, dispensed):  # noqa: F811
    dispensed(approve(AMLODIPINE), days_ago=SUPPLY - 3)  # three days left
    again = sign(AMLODIPINE)  # a new week, signed today, not dispensed yet
    record = _record(visit, as_user)
    new_last = today() + timedelta(days=again.items[0].days_supply - 1)
    assert new_last > today() + timedelta(days=2)
    assert record == {"AMLODIPINE-5MG-TAB": (
        "prescription", new_last.isoformat(),
        f"Amlodipine 5 mg · Tablet · prescribed on {today()}, supply until {new_last}")}
    # The supplies behind it are both counted by the checks.
    assert sorted(str(s.source) for s in taking.running_supplies(visit.patient.id, today())) \
        == ["dispensing", "prescription"]


def test_a_longer_dispensed_supply_wins_over_a_newer_prescription(
        db, visit, as_user, approve, sign, dispensed):  # noqa: F811
    dispensed(approve(AMLODIPINE), days_ago=10)
    shorter = sign(("AMLODIPINE-5MG-TAB", dict(dose="10")))  # two tablets a day: one pack lasts 14 days
    record = _record(visit, as_user)
    last_day = today() - timedelta(days=10) + timedelta(days=SUPPLY - 1)
    assert today() + timedelta(days=shorter.items[0].days_supply - 1) < last_day
    assert list(record) == ["AMLODIPINE-5MG-TAB"]
    assert record["AMLODIPINE-5MG-TAB"][:2] == ("dispensing", last_day.isoformat())


def test_packs_that_came_back_are_not_taken(
        db, visit, pharmacists, as_user, approve, sign, dispensed):  # noqa: F811
    order = dispensed(approve(AMLODIPINE), days_ago=10)
    dispensed(approve(NIFEDIPINE), days_ago=2)  # seven tablets: a week
    lines = [line.id for line in order.lines]
    for pack in _db.session.scalars(select(DispensedPack).where(DispensedPack.order_line_id.in_(lines))):
        pack.returned_at = utcnow()  # as taking the packs back at the store records it
    _db.session.commit()
    under_review = sign(METFORMIN)

    pages = _pages(visit, pharmacists, as_user, under_review, _new_draft(visit))

    for page in pages.values():
        # Neither from the dispensing nor from the prescription it filled.
        assert "AMLODIPINE-5MG-TAB" not in page
        assert page["NIFEDIPINE-30MG-CRTAB"][0] == "dispensing"
    checks = adapters.build_context(visit.patient, exclude=under_review).active_medications
    assert [m.drug.code for m in checks] == ["NIFEDIPINE-30MG-CRTAB"]


def _approved_for(consultation, pharmacist, drugs, *lines):
    """A prescription of another consultation, signed and approved."""
    prescription = rx.start(consultation, consultation.doctor, condition_id=consultation.condition_id)
    for code, sig in lines:
        item(prescription, consultation.doctor, drugs, code, **sig)
    sign_and_submit(prescription, consultation.doctor, factories.PASSWORD, PRESCRIBER_REASON)
    review.claim(prescription, pharmacist)
    review.decide(prescription, pharmacist, "approved")
    _db.session.commit()
    return prescription


def test_another_patients_dispensing_never_shows(
        db, visit, pharmacists, as_user, approve, sign, dispensed):  # noqa: F811
    other = visit.flow.accepted()
    assert other.patient_id != visit.patient.id
    dispensed(_approved_for(other, pharmacists[0], visit.drugs, NIFEDIPINE), days_ago=2)
    dispensed(approve(AMLODIPINE), days_ago=10)
    under_review = sign(METFORMIN)

    pages = _pages(visit, pharmacists, as_user, under_review, _new_draft(visit))

    for page in pages.values():
        assert "NIFEDIPINE-30MG-CRTAB" not in page and "AMLODIPINE-5MG-TAB" in page
    assert [s.drug.code for s in taking.taking_now(other.patient_id, today())] == ["NIFEDIPINE-30MG-CRTAB"]


def test_the_pages_statements_do_not_grow_with_the_dispensings(
        db, visit, pharmacists, as_user, approve, sign, dispensed):  # noqa: F811
    under_review = sign(METHOTREXATE_WEEKLY)  # none of the drugs dispensed below
    draft = _new_draft(visit)
    doctor, pharmacist = as_user(visit.doctor), as_user(pharmacists[1])
    pages = {"review-active": (pharmacist, f"/reviews/{under_review.id}"),
             "record-taking": (doctor, f"/consultations/{visit.consultation.id}"),
             "draft-taking-list": (doctor, f"/prescriptions/{draft.id}")}
    counts, made = {}, set()
    for more in ((AMLODIPINE,), (NIFEDIPINE, METFORMIN)):  # one dispensing, then three
        for line in more:
            dispensed(approve(line), days_ago=5)
            made.add(line[0])
        for list_id, (browser, url) in pages.items():
            _db.session.expire_all()
            with count_statements(_db) as seen:
                page = text(browser.get(url))
            shown = listed(page, list_id)
            assert {code for code, (source, _day, _words) in shown.items() if source == "dispensing"} == made
            counts.setdefault(list_id, []).append(seen.count)
    assert all(one == three for one, three in counts.values()), counts
