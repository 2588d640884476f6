"""The leaflet's catalogue text: key warnings and storage in both languages, on the form, the detail page,
the CSV and the shipped catalogue; storage falls back on what the cold-chain flag implies."""

import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.drugs import services
from app.drugs.models import DEFAULT_STORAGE
from tests.drugs.conftest import csv_text, drug_row
from tests.drugs.test_views import by_code, form_data

WARNINGS = dict(warnings_en="Swallow whole.\nStop and call your doctor if you faint.",
                warnings_zh="整片吞服。\n如晕厥请停药并联系医生。")


def test_an_admin_writes_the_warnings_in_both_languages_and_the_change_is_audited(client, login_as, db,
                                                                                make_drug):
    drug = make_drug(code="LF-1")
    login_as("admin")
    response = client.post(f"/drugs/{drug.id}/edit", data=form_data(
        warnings_en="Swallow whole.\r\n\r\nStop and call your doctor if you faint.\u202e ",
        warnings_zh=WARNINGS["warnings_zh"]))
    assert response.status_code == 302
    drug = by_code(db, "LF-1")
    # One paragraph a line: a browser's \r\n, blank lines and a hidden bidi override are gone.
    assert (drug.warnings_en, drug.warnings_zh) == (WARNINGS["warnings_en"], WARNINGS["warnings_zh"])
    [event] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "drug.updated"))
    assert event.detail == "source=form; fields=warnings_en,warnings_zh"
    page = client.get(f"/drugs/{drug.id}").get_data(as_text=True)
    assert '<p class="mb-0">Stop and call your doctor if you faint.</p>' in page
    assert '<p class="mb-0">如晕厥请停药并联系医生。</p>' in page
    # Saving the form as shown changes nothing.
    again = client.post(f"/drugs/{drug.id}/edit", data=form_data(**WARNINGS), follow_redirects=True)
    assert "Nothing was changed." in again.get_data(as_text=True)


@pytest.mark.parametrize(("given", "missing"), [
    (dict(warnings_en="Take with food."), "warnings_zh"),
    (dict(warnings_zh="随餐服用。"), "warnings_en"),
    (dict(storage_en="Below 30 °C."), "storage_zh"),
    (dict(storage_zh="30 °C以下保存。"), "storage_en"),
])
def test_a_text_in_one_language_only_is_refused_on_the_other(client, login_as, db, given, missing):
    login_as("admin")
    response = client.post("/drugs/new", data=form_data(code="LF-2", **given))
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and by_code(db, "LF-2") is None
    assert f'id="{missing}-error"' in page
    assert "Give this text in both English and Chinese, or leave both blank: the leaflet prints both." in page


@pytest.mark.parametrize(("column", "limit"), [
    ("warnings_en", 600), ("warnings_zh", 600), ("storage_en", 300), ("storage_zh", 300)])
def test_each_text_is_limited_and_the_limit_itself_is_accepted(db, column, limit):
    other = {"warnings_en": "warnings_zh", "warnings_zh": "warnings_en", "storage_en": "storage_zh",
             "storage_zh": "storage_en"}[column]
    at_limit = services.create_drug(drug_row(code=f"LIM-{limit}", **{column: "a" * limit, other: "b"}))
    assert len(getattr(at_limit, column)) == limit
    with pytest.raises(services.CatalogueError) as raised:
        services.load_catalogue([(2, drug_row(code="LIM-OVER", **{column: "a" * (limit + 1), other: "b"}))])
    [problem] = raised.value.problems
    assert (problem.column, problem.message) == (column, f"At most {limit} characters.")


@pytest.mark.parametrize("cold", [True, False])
def test_without_its_own_storage_text_a_drug_shows_what_its_cold_chain_flag_implies(client, login_as, db,
                                                                                   make_drug, cold):
    drug = make_drug(code=f"ST-{cold}", is_cold_chain="yes" if cold else "no")
    english, chinese = DEFAULT_STORAGE[cold]
    assert (drug.storage("en"), drug.storage("zh")) == (english, chinese)
    assert ("2–8 °C" in english) is cold and ("Do not freeze" in english) is cold
    assert ("切勿冷冻" in chinese) is cold
    assert ("below 25 °C" in english) is not cold and ("25 °C以下" in chinese) is not cold
    login_as("pharmacist")
    page = client.get(f"/drugs/{drug.id}").get_data(as_text=True)
    assert english in page and chinese in page
    assert ("The usual text for a cold-chain drug." if cold else
            "The usual text for a drug kept at room temperature.") in page


def test_a_storage_text_of_its_own_replaces_the_usual_one(db, make_drug):
    drug = make_drug(code="ST-OWN", is_cold_chain="yes", storage_en="Below 30 °C once in use.",
                     storage_zh="使用中30 °C以下保存。")
    assert (drug.storage("en"), drug.storage("zh")) == ("Below 30 °C once in use.", "使用中30 °C以下保存。")


def test_the_import_takes_the_leaflet_columns_and_a_second_load_changes_nothing(db):
    text = csv_text([drug_row(code="IMP-LF", **WARNINGS, storage_en="Below 30 °C.",
                              storage_zh="30 °C以下保存。")])
    assert services.load_csv_text(text).created == ["IMP-LF"]
    again = services.load_csv_text(text)
    assert (again.created, again.updated, again.unchanged) == ([], [], 1)
    drug = by_code(db, "IMP-LF")
    assert (drug.warnings_zh, drug.storage_en) == (WARNINGS["warnings_zh"], "Below 30 °C.")
    exported = services.catalogue.write_csv([drug])
    assert services.load_csv_text(exported).unchanged == 1


def test_every_active_shipped_drug_has_warnings_in_both_languages(db, catalogue):
    from app.drugs.models import Drug

    drugs = db.session.scalars(select(Drug).where(Drug.is_active)).all()
    assert len(drugs) >= 150
    assert [d.code for d in drugs if not (d.warnings_en and d.warnings_zh)] == []
    by = {d.code: d for d in drugs}
    assert "ONCE A WEEK ONLY" in by["METHOTREXATE-2.5MG-TAB"].warnings_en
    assert "仅每周服用一次" in by["METHOTREXATE-2.5MG-TAB"].warnings_zh
    assert "HLA-B*1502" in by["CARBAMAZEPINE-200MG-TAB"].warnings_en
    assert "grapefruit" in by["SIMVASTATIN-20MG-TAB"].warnings_en
    # Every cold-chain drug is stored at 2–8 °C before use, whether it says more or not.
    assert all("2–8 °C" in d.storage("en") and "2–8 °C" in d.storage("zh") for d in drugs if d.is_cold_chain)
    assert "30 °C" in by["INSULIN-GLARGINE-300IU-PEN"].storage("en")
