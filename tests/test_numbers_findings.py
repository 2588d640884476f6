"""Findings 5 and 8 through the pages people use: hostile numbers are refused at once with a message
and change nothing; every number a pharmacy types has a bound, taken at its end and refused past it."""

import io
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app import limits
from app.accounts.models import Role
from app.database import utcnow
from app.drugs.forms import yuan_to_fen
from app.drugs.models import Drug
from app.errors import DomainError
from app.inventory import inputs
from app.inventory import services as inventory
from app.inventory.models import StockLot, StockMovement
from app.prescribing import services as rx
from app.prescribing.models import PrescriptionItem
from tests import factories
from tests.consultations.conftest import as_user, flow  # noqa: F401  (fixtures)
from tests.drugs.conftest import csv_text, drug_row
from tests.payments.conftest import deliver, stripe_client  # noqa: F401  (fixtures)
from tests.prescribing.conftest import catalogue_drugs, draft, load_shipped_rows, visit  # noqa: F401

# Full-width digits (９９) are what a Chinese input method types for 99: read as such, so not here.
HOSTILE_NUMBERS = ["1e999999", "1e30", "-1e999999", "١٢", "²", "9" * 10, "1_000", "0x10"]


def text(response) -> str:
    return response.get_data(as_text=True).replace("&#39;", "'")


def count(db, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def lot(db):
    """A lot of 50 packs in a pharmacist's store."""
    store = factories.make_store()
    pharmacist = factories.make_user(Role.PHARMACIST)
    pharmacist.pharmacist_profile.home_store_id = store.id
    drug = load_shipped_rows(db, ("AMLODIPINE-5MG-TAB",))["AMLODIPINE-5MG-TAB"]
    expiry = utcnow().date() + timedelta(days=400)
    found = inventory.receive(store, drug, "F5-1", expiry, 50, 1500, pharmacist)
    db.session.commit()
    return found, pharmacist


@pytest.fixture
def doctor_browser(visit, as_user):  # noqa: F811
    return as_user(visit.doctor)


def drug_form(code: str, price_yuan: str) -> dict:
    """The admin's new-drug form for a valid drug (unchecked boxes left out) at this price."""
    row = {k: v for k, v in drug_row(code=code).items() if not k.startswith("is_") and k != "price_fen"}
    return {**row, "price_yuan": price_yuan, "is_online_prescribable": "y", "is_deliverable": "y"}


def line(visit, **sig) -> dict:  # noqa: F811
    data = {"drug_id": str(visit.drugs["AMLODIPINE-5MG-TAB"].id), "dose": "5", "dose_unit": "mg",
            "frequency": "QD", "duration_days": "7", "times_of_day": "", "route": "", "instructions": "",
            "query": ""}
    data.update(sig)
    return data


# ---- finding 5: one short input froze a worker ----------------------------------------------------

@pytest.mark.parametrize("change", HOSTILE_NUMBERS)
def test_finding_5_a_stock_adjustment_of_1e999999_is_refused_at_once_and_changes_nothing(
        db, lot, login_as, client, change):
    found, pharmacist = lot
    login_as(pharmacist)
    movements = count(db, StockMovement)
    response = client.post(f"/stock/lots/{found.id}/adjust", data={"change": change, "reason": "found"})
    assert response.status_code == 400
    # Not "at most 100000 packs": the value is not read as a number at all (int(Decimal(...)) was the hang).
    assert "Enter a whole number of packs other than 0 (negative to reduce)." in text(response)
    db.session.expire_all()
    assert db.session.get(StockLot, found.id).quantity_on_hand == 50
    assert count(db, StockMovement) == movements


@pytest.mark.parametrize("value", ["1e999999", "1e30", "١٢", "9" * 10])
def test_finding_5_counts_write_offs_and_receipts_refuse_hostile_numbers(db, lot, login_as, client, value):
    found, pharmacist = lot
    login_as(pharmacist)
    movements = count(db, StockMovement)
    counted = client.post(f"/stock/lots/{found.id}/count", data={"counted": value})
    assert "Enter the number of packs counted, 0 or more." in text(counted)
    written_off = client.post(f"/stock/lots/{found.id}/write-off",
                              data={"quantity": value, "reason": "damaged"})
    assert "Enter a whole number of packs, at least 1." in text(written_off)
    received = client.post(f"/stock/stores/{found.store_id}/receive", data={
        "drug_id": str(found.drug_id), "lot_number": "F5-2", "expiry_date": found.expiry_date.isoformat(),
        "quantity": "5", "unit_cost": value})
    assert "Enter a price" in text(received)  # the unit cost is in yuan, read by the catalogue's parser
    assert {counted.status_code, written_off.status_code, received.status_code} == {400}
    db.session.expire_all()
    assert db.session.get(StockLot, found.id).quantity_on_hand == 50 and count(db, StockMovement) == movements


def test_finding_5_a_price_of_1e999999_yuan_is_refused_with_a_message(db, login_as, client):
    login_as(Role.ADMIN)
    for price, message in (("1e999999", "Enter a price in yuan above zero, with at most 2 decimals."),
                           ("1e30", "Enter a price in yuan above zero, with at most 2 decimals."),
                           ("١٢", "Enter a price in yuan above zero, with at most 2 decimals."),
                           ("9" * 5000, "Enter a price of at most ¥1,000,000.00.")):
        response = client.post("/drugs/new", data=drug_form("F5-PRICE", price))
        assert response.status_code == 200
        assert message in text(response)
    assert db.session.scalar(select(Drug).where(Drug.code == "F5-PRICE")) is None
    # The conversion itself gives up at once instead of building a million-digit number.
    assert yuan_to_fen("1e999999") == ""
    assert (yuan_to_fen("35.5"), yuan_to_fen("1,234.50")) == ("3550", "123450")


@pytest.mark.parametrize(("column", "value", "message"), [
    ("price_fen", "9" * 5000, "Enter a number from 1 to 100000000."),
    ("price_fen", "1e999999", "Enter a whole number."),
    ("price_fen", "١٢٠٠", "Enter a whole number."),
    ("pack_size", "1e30", "Enter a whole number."),
    ("strength", "1e999999", "Enter a number, e.g. 2.5."),
    ("max_daily_dose", "1e30", "Enter a number, e.g. 2.5."),
    ("strength", "5" * 5000, "Enter a number from 0.0001 to 10000000."),
])
def test_finding_5_hostile_numbers_in_a_catalogue_csv_are_reported_on_their_line(db, login_as, client, column,
                                                                                value, message):
    login_as(Role.ADMIN)
    body = csv_text([drug_row(code="F5-CSV-1"), drug_row(code="F5-CSV-2", **{column: value})])
    response = client.post("/drugs/import", content_type="multipart/form-data",
                           data={"file": (io.BytesIO(body.encode("utf-8")), "catalogue.csv")})
    assert response.status_code == 200
    assert message in text(response)
    assert count(db, Drug) == 0  # all or nothing


@pytest.mark.parametrize("dose", ["1e999999", "1e30", "5.5e19", "١٢", "9" * 20])
def test_finding_5_a_dose_of_1e999999_is_refused_with_a_message(db, visit, draft, doctor_browser, dose):  # noqa: F811
    response = doctor_browser.post(f"/prescriptions/{draft.id}/items", data=line(visit, dose=dose))
    assert response.status_code == 400
    page = text(response)
    assert "Enter the dose as a number." in page or "A single dose is at most 100000 mg." in page
    assert count(db, PrescriptionItem) == 0


@pytest.mark.parametrize(("field", "value"), [("duration_days", "١٢"), ("duration_days", "1e999999"),
                                              ("max_doses_per_day", "²"), ("duration_days", "7.0e0")])
def test_finding_5_day_counts_take_plain_digits_only(db, visit, draft, doctor_browser, field, value):  # noqa: F811
    data = line(visit, **{"frequency": "PRN", "max_doses_per_day": "3", field: value})
    response = doctor_browser.post(f"/prescriptions/{draft.id}/items", data=data)
    assert response.status_code == 400
    assert "Enter a whole number using the digits 0–9." in text(response)
    assert count(db, PrescriptionItem) == 0


# ---- finding 8: a dose of 5.5e19 mg was signed --------------------------------------------------------

def test_finding_8_a_dose_of_5_5e19_mg_cannot_reach_a_prescription(db, visit, draft):  # noqa: F811
    for dose in ("55000000000000000000", "5.5e19", 5.5e19):
        with pytest.raises(DomainError) as error:
            rx.add_item(draft, visit.doctor, drug_id=visit.drugs["AMLODIPINE-5MG-TAB"].id, dose=dose,
                        dose_unit="mg", frequency="QD", duration_days=7)
        assert "dose" in error.value.reasons
    assert count(db, PrescriptionItem) == 0


UNITS = {"mg": "AMLODIPINE-5MG-TAB", "µg": "AMLODIPINE-5MG-TAB", "g": "AMLODIPINE-5MG-TAB",
         "tablet": "AMLODIPINE-5MG-TAB", "IU": "INSULIN-GLARGINE-300IU-PEN"}


@pytest.mark.parametrize("unit", sorted(UNITS))
def test_finding_8_a_single_dose_has_a_largest_amount_per_unit(db, visit, draft, unit):  # noqa: F811
    most = limits.MAX_DOSE_BY_UNIT[unit]
    drug = visit.drugs[UNITS[unit]]
    with pytest.raises(DomainError) as error:
        rx.add_item(draft, visit.doctor, drug_id=drug.id, dose=str(most + limits.DOSE.low), dose_unit=unit,
                    frequency="QW", duration_days=7)
    assert str(error.value.reasons["dose"]) == f"A single dose is at most {most.normalize():f} {unit}."
    for ok in (most, most - 1):  # at the bound and below it, the dose itself is not what is refused
        try:
            added = rx.add_item(draft, visit.doctor, drug_id=drug.id, dose=str(ok), dose_unit=unit,
                                frequency="QW", duration_days=7)
        except DomainError as refused:  # e.g. ten million IU of a 300 IU pen: too many packs
            assert "A single dose is at most" not in str(refused.reasons.get("dose", ""))
        else:
            rx.remove_item(draft, visit.doctor, added)


def _pack_line(draft, visit, doses_per_day: int, tablets: int, days: int):  # noqa: F811
    """A line of a one-tablet-a-pack drug: packs = doses a day × tablets a dose × days."""
    return rx.add_item(draft, visit.doctor, drug_id=visit.single.id, dose=str(tablets), dose_unit="tablet",
                       frequency="PRN", max_doses_per_day=doses_per_day, duration_days=days)


@pytest.fixture
def long_draft(db, visit, draft):  # noqa: F811
    from app.drugs import services as drug_services

    visit.single = drug_services.create_drug(drug_row(code="SINGLE-TAB", pack_size="1", dosage_form="capsule",
                                                      pack_unit="capsule"))
    rx.set_supply(draft, visit.doctor, "long", assessment="Stable for a year on this dose.")
    db.session.commit()
    return draft


def test_finding_8_a_line_comes_to_at_most_1000_packs(db, visit, long_draft):  # noqa: F811
    assert limits.MAX_PACKS_PER_LINE == 1000
    below = rx.add_item(long_draft, visit.doctor, drug_id=visit.single.id, dose="9", dose_unit="capsule",
                        frequency="TID", duration_days=37)  # 3 × 9 × 37 = 999
    at = rx.add_item(long_draft, visit.doctor, drug_id=visit.single.id, dose="10", dose_unit="capsule",
                     frequency="QID", duration_days=25)  # 4 × 10 × 25 = 1000
    assert (below.quantity_packs, at.quantity_packs) == (999, 1000)
    with pytest.raises(DomainError) as error:  # 7 × 11 × 13 = 1001
        rx.add_item(long_draft, visit.doctor, drug_id=visit.single.id, dose="11", dose_unit="capsule",
                    frequency="PRN", max_doses_per_day=7, duration_days=13)
    assert "This line comes to 1001 packs, more than the 1000 a line may hold" in str(error.value)


@pytest.mark.parametrize(("field", "value", "refused"), [
    ("duration_days", "84", False), ("duration_days", "83", False), ("duration_days", "85", True),
    ("duration_days", "1", False), ("duration_days", "0", True),
    ("max_doses_per_day", "24", False), ("max_doses_per_day", "23", False), ("max_doses_per_day", "25", True),
    ("max_doses_per_day", "0", True),
])
def test_finding_8_duration_and_doses_a_day_have_bounds_on_the_form(db, visit, long_draft,  # noqa: F811
                                                                  doctor_browser, field, value, refused):
    data = line(visit, **{"dose": "1", "dose_unit": "capsule", "drug_id": str(visit.single.id),
                          "frequency": "PRN", "max_doses_per_day": "2", field: value})
    response = doctor_browser.post(f"/prescriptions/{long_draft.id}/items", data=data)
    bound = limits.DURATION_DAYS if field == "duration_days" else limits.DOSES_PER_DAY
    message = f"Enter a number from {bound.low} to {bound.high}."
    assert (message in text(response)) is refused
    assert response.status_code == (400 if refused else 303)


@pytest.mark.parametrize(("price", "accepted"), [
    ("1000000.00", True), ("999999.99", True), ("1000000.01", False), ("0.01", True), ("0.00", False)])
def test_finding_8_a_drug_price_is_at_most_one_million_yuan(db, login_as, client, price, accepted):
    login_as(Role.ADMIN)
    response = client.post("/drugs/new", data=drug_form("F8-PRICE", price))
    drug = db.session.scalar(select(Drug).where(Drug.code == "F8-PRICE"))
    assert (drug is not None) is accepted
    if not accepted:
        assert ("Enter a price of at most ¥1,000,000.00." in text(response)) is (price == "1000000.01")


@pytest.mark.parametrize(("column", "value", "accepted"), [
    ("price_fen", "100000000", True), ("price_fen", "99999999", True), ("price_fen", "100000001", False),
    ("pack_size", "10000", True), ("pack_size", "9999", True), ("pack_size", "10001", False),
    ("strength", "10000000", True), ("strength", "9999999.9999", True), ("strength", "10000000.0001", False),
    ("max_daily_dose", "10000000", True), ("max_daily_dose", "10000000.0001", False),
])
def test_finding_8_catalogue_numbers_have_bounds(db, column, value, accepted):
    from app.drugs.catalogue import parse_row

    _, errors = parse_row(drug_row(**{column: value}))
    assert (column not in errors) is accepted, errors
    if not accepted:
        assert errors[column].startswith("Enter a number from")


@pytest.mark.parametrize(("days", "accepted"), [
    (366, True), (365, True), (367, False), (0, True), (-1, False)])
def test_finding_8_days_of_supply_reserved_have_a_bound(days, accepted):
    if accepted:
        assert inputs.days(days) == days
    else:
        with pytest.raises(DomainError):
            inputs.days(days)


@pytest.mark.parametrize(("packs", "accepted"), [(100_000, True), (99_999, True), (100_001, False)])
def test_finding_8_adjustments_and_write_offs_move_at_most_100000_packs(db, lot, login_as, client, packs,
                                                                      accepted):
    found, pharmacist = lot
    login_as(pharmacist)
    response = client.post(f"/stock/lots/{found.id}/adjust", data={"change": str(packs), "reason": "found"})
    assert (response.status_code == 303) is accepted
    if not accepted:
        assert "Enter at most 100000 packs at a time." in text(response)
    refused = client.post(f"/stock/lots/{found.id}/write-off",
                          data={"quantity": "100001", "reason": "damaged"})
    assert "Enter at most 100000 packs at a time." in text(refused)


def test_finding_5_the_refusal_reads_in_the_doctors_language(db, visit, draft, as_user):  # noqa: F811
    visit.doctor.locale = "zh"
    db.session.commit()
    browser = as_user(visit.doctor)
    response = browser.post(f"/prescriptions/{draft.id}/items", data=line(visit, duration_days="١٢"))
    assert response.status_code == 400
    assert "请用数字 0–9 输入整数。" in text(response)
    response = browser.post(f"/prescriptions/{draft.id}/items", data=line(visit, duration_days="85"))
    assert "请输入 1 到 84 之间的数字。" in text(response)
