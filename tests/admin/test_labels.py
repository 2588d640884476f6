"""Departments come from a list with English and Chinese names; a store's city reads in the reader's
language when the list knows it; a value typed before the lists existed is shown as typed."""

import pytest
from sqlalchemy import select

from app.accounts.models import User
from app.labels import CITIES, DEPARTMENTS, city_name, department_name
from tests import factories
from tests.admin.test_views import _staff_form


def _doctor(db, email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == email))


def test_the_staff_form_offers_the_departments_by_their_chinese_names(client, login_as):
    login_as("admin", locale="zh")
    page = client.get("/admin/users/new").get_data(as_text=True)
    assert '<option value="Endocrinology">内分泌科</option>' in page
    assert page.count("<option value=") >= len(DEPARTMENTS)


def test_a_doctor_created_with_a_listed_department_reads_it_in_each_language(client, login_as, db):
    login_as("admin", locale="zh")
    response = client.post("/admin/users/new", data=_staff_form(
        "doctor", "endo@clinic.example", licence_number="DOC-ENDO-1", department="Endocrinology"))
    assert response.status_code == 302
    doctor = _doctor(db, "endo@clinic.example")
    assert doctor.doctor_profile.department == "Endocrinology"  # the stored value is the English name
    assert "内分泌科" in client.get(f"/admin/users/{doctor.id}").get_data(as_text=True)


@pytest.mark.parametrize("department", ["Astrology", "endocrinology ", "内分泌科"])
def test_a_department_not_offered_is_refused_and_nothing_is_created(client, login_as, db, department):
    login_as("admin")
    response = client.post("/admin/users/new", data=_staff_form(
        "doctor", "stray@clinic.example", licence_number="DOC-STRAY-1", department=department))
    assert response.status_code == 200
    assert "Not a valid choice" in response.get_data(as_text=True)
    assert _doctor(db, "stray@clinic.example") is None


def test_a_department_typed_before_the_list_is_shown_as_typed(client, login_as, db):
    doctor = factories.make_user("doctor")
    doctor.doctor_profile.department = "Sleep Clinic"
    login_as("admin", locale="zh")
    assert "Sleep Clinic" in client.get(f"/admin/users/{doctor.id}").get_data(as_text=True)


def test_store_cities_read_in_chinese_and_unknown_cities_as_typed(client, login_as, db):
    store = factories.make_store(city="Hangzhou")
    factories.make_store(city="Yiwu")
    login_as("admin", locale="zh")
    page = client.get("/admin/stores").get_data(as_text=True)
    row = page[page.index(f'data-store="{store.code}"'):]
    assert "<td>杭州</td>" in row[:row.index("</tr>")]
    assert "<td>Yiwu</td>" in page
    form = client.get(f"/admin/stores/{store.id}").get_data(as_text=True)
    assert 'list="known-cities"' in form and '<option value="Hangzhou">杭州</option>' in form


@pytest.mark.parametrize(("typed", "language", "shown"), [
    ("Shanghai", "zh", "上海"), ("shanghai ", "zh", "上海"), ("上海市", "en", "Shanghai"),
    ("上海", "zh", "上海"), ("Xi'an", "zh", "西安"), ("Kunshan", "zh", "Kunshan"), ("昆山", "en", "昆山"),
    ("", "zh", ""), (None, "en", ""),
])
def test_city_names(app, typed, language, shown):
    assert city_name(typed, language) == shown


@pytest.mark.parametrize(("typed", "language", "shown"), [
    ("Cardiology", "zh", "心内科"), (" cardiology", "zh", "心内科"), ("心内科", "en", "Cardiology"),
    ("Sleep Clinic", "zh", "Sleep Clinic"), (None, "zh", ""),
])
def test_department_names(app, typed, language, shown):
    assert department_name(typed, language) == shown


def test_every_listed_name_is_unique_in_both_languages():
    for names in (DEPARTMENTS, CITIES):
        assert len({n.en.casefold() for n in names}) == len({n.zh for n in names}) == len(names)


@pytest.mark.parametrize(("one", "other", "same"), [
    ("上海市", "Shanghai", True), (" shanghai ", "上海", True), ("Xi'an", "西安市", True),
    ("Shanghai", "Beijing", False), ("上海", "北京市", False),
    ("Kashgar", " kashgar", True), ("Kashgar", "Kashi", False),
    ("Shanghai", "", False), (None, "上海", False),
])
def test_delivery_areas_match_a_city_however_it_was_typed(one, other, same):
    from app.labels import same_city

    assert same_city(one, other) is same
    assert same_city(other, one) is same
