"""Catalogue pages as admins, doctors, pharmacists and patients use them, and the typeahead JSON."""

import io

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.audit.models import AuditEvent
from app.drugs import services
from app.drugs.models import Drug
from tests.drugs.conftest import csv_text, drug_row


def form_data(**overrides) -> dict[str, str]:
    """The admin form's fields for a valid drug; unchecked boxes are simply left out."""
    row = drug_row(**overrides)
    data = {k: v for k, v in row.items() if not k.startswith("is_") and k != "price_fen"}
    data["price_yuan"] = overrides.get("price_yuan", "39.20")
    data.update({k: "y" for k, v in row.items() if k.startswith("is_") and v == "yes"})
    return data


def audit(db, action: str) -> list[AuditEvent]:
    return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()


def by_code(db, code: str) -> Drug | None:
    db.session.expire_all()
    return db.session.scalar(select(Drug).where(Drug.code == code))


def test_admin_searches_the_catalogue_in_english_and_chinese(client, login_as, catalogue):
    login_as("admin")
    english = client.get("/drugs/?q=capecitabine").get_data(as_text=True)
    assert "Capecitabine" in english and "Xeloda 希罗达" in english and "Imatinib" not in english
    chinese = client.get("/drugs/?q=卡培他滨").get_data(as_text=True)
    assert "Capecitabine" in chinese and "1 drug found." in chinese


def test_a_chinese_speaking_pharmacist_sees_the_catalogue_in_chinese(client, login_as, catalogue):
    login_as("pharmacist", locale="zh")
    page = client.get("/drugs/?q=胰岛素&cold_chain=1").get_data(as_text=True)
    assert "药品目录" in page and "甘精胰岛素" in page and "冷链（2–8 °C）" in page
    assert "Add a drug" not in page and "新增药品" not in page  # read-only for pharmacists


def test_filters_narrow_the_list(client, login_as, catalogue):
    login_as("doctor")
    page = client.get("/drugs/?controlled=1").get_data(as_text=True)
    assert "Morphine sulfate" in page and "Amlodipine" not in page
    page = client.get("/drugs/?not_deliverable=1&q=warfarin").get_data(as_text=True)
    assert "Warfarin" in page and "Store pickup only" in page
    page = client.get("/drugs/?status=inactive&q=phenelzine").get_data(as_text=True)
    assert "Phenelzine" in page and "Amlodipine" not in page


def test_admin_creates_a_drug(client, login_as, db):
    admin = login_as("admin")
    response = client.post("/drugs/new", data=form_data(code="NEW-AMLO-5", price_yuan="39.20"))
    drug = by_code(db, "NEW-AMLO-5")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/drugs/{drug.id}")
    assert (drug.price_fen, drug.is_deliverable) == (3920, True)
    assert [i.name for i in drug.ingredients] == ["amlodipine"]
    [event] = audit(db, "drug.created")
    assert (event.actor_id, event.object_id, event.patient_id) == (admin.id, str(drug.id), None)
    assert "Amlodipine was added to the catalogue." in client.get(response.headers["Location"]).get_data(
        as_text=True)


def test_bad_input_is_explained_on_each_field_and_nothing_is_saved(client, login_as, db):
    login_as("admin")
    response = client.post("/drugs/new", data=form_data(
        code="BAD-1", atc_code="XYZ", strength="0", price_yuan="abc", controlled_class="narcotic"))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Not a WHO ATC code" in page
    assert "Must be more than zero." in page
    assert "Enter a price in yuan above zero, with at most 2 decimals." in page
    assert page.count("is-invalid") >= 3
    assert by_code(db, "BAD-1") is None and audit(db, "drug.created") == []


def test_a_controlled_drug_cannot_be_marked_prescribable_online(client, login_as, db):
    login_as("admin")
    page = client.post("/drugs/new", data=form_data(code="NARC-1", controlled_class="narcotic")).get_data(
        as_text=True)
    assert "cannot be prescribed online" in page
    assert by_code(db, "NARC-1") is None


def test_admin_edits_a_drug_and_the_change_is_audited(client, login_as, db, make_drug):
    drug = make_drug(code="EDIT-1")
    login_as("admin")
    page = client.get(f"/drugs/{drug.id}/edit").get_data(as_text=True)
    assert 'value="39.20"' in page and "EDIT-1" in page
    response = client.post(f"/drugs/{drug.id}/edit", data=form_data(price_yuan="45", notes="price rise"))
    assert response.status_code == 302
    drug = by_code(db, "EDIT-1")
    assert (drug.price_fen, drug.notes) == (4500, "price rise")
    [event] = audit(db, "drug.updated")
    assert event.detail == "source=form; fields=price_fen,notes"


def test_admin_deactivates_and_reactivates_a_drug(client, login_as, db, make_drug):
    drug = make_drug(code="TOGGLE-1", generic_name_en="Togglamine", ingredients_en="togglamine")
    login_as("admin")
    response = client.post(f"/drugs/{drug.id}/active", follow_redirects=True)
    assert "it can no longer be prescribed" in response.get_data(as_text=True)
    assert by_code(db, "TOGGLE-1").is_active is False
    assert client.get("/drugs/search.json?q=togglamine").get_json() == {"results": []}
    assert "Togglamine" not in client.get("/drugs/?q=togglamine").get_data(as_text=True)
    client.post(f"/drugs/{drug.id}/active")
    assert by_code(db, "TOGGLE-1").is_active is True
    events = db.session.scalars(select(AuditEvent).where(
        AuditEvent.object_type == "drugs", AuditEvent.object_id == str(drug.id)).order_by(AuditEvent.id))
    assert [e.action for e in events] == ["drug.created", "drug.deactivated", "drug.reactivated"]


def upload(client, text: str):
    return client.post("/drugs/import", content_type="multipart/form-data",
                       data={"file": (io.BytesIO(text.encode("utf-8")), "catalogue.csv")})


def test_admin_imports_a_csv_file(client, login_as, db):
    login_as("admin")
    response = upload(client, csv_text([drug_row(code="IMP-1"), drug_row(code="IMP-2")]))
    assert response.status_code == 302
    assert by_code(db, "IMP-1") and by_code(db, "IMP-2")
    [event] = audit(db, "drug.catalogue_imported")
    assert "created=2" in event.detail
    assert "Import finished: 2 added, 0 changed, 0 unchanged." in client.get(
        response.headers["Location"]).get_data(as_text=True)


def test_an_upload_with_bad_rows_lists_them_and_imports_nothing(client, login_as, db):
    login_as("admin")
    rows = [drug_row(code="OK-1"), drug_row(code="BAD-ATC", atc_code="C8CA01"), drug_row(code="OK-2"),
            drug_row(code="BAD-PRICE", price_fen="-5")]
    page = upload(client, csv_text(rows)).get_data(as_text=True)
    assert "The file has 2 problems; nothing was imported." in page
    assert "<td>3</td><td><code>atc_code</code></td>" in page
    assert "<td>5</td><td><code>price_fen</code></td>" in page
    assert by_code(db, "OK-1") is None


def test_an_upload_that_is_not_utf8_is_refused(client, login_as, db):
    login_as("admin")
    response = client.post("/drugs/import", content_type="multipart/form-data", data={
        "file": (io.BytesIO(csv_text([drug_row()]).encode("gb18030")), "catalogue.csv")})
    assert "Save the file as UTF-8 CSV and try again." in response.get_data(as_text=True)


def test_export_downloads_a_csv_that_imports_back_unchanged(client, login_as, db, catalogue):
    login_as("admin")
    response = client.get("/drugs/export.csv")
    assert response.mimetype == "text/csv"
    assert "attachment; filename=drug-catalogue-" in response.headers["Content-Disposition"]
    text = response.get_data().decode("utf-8-sig")
    assert text.startswith("code,generic_name_en,generic_name_zh,")
    assert "AMLODIPINE-5MG-TAB,Amlodipine,氨氯地平," in text
    followed = upload(client, text)
    assert followed.status_code == 302
    message = client.get(followed.headers["Location"]).get_data(as_text=True)
    assert f"0 added, 0 changed, {len(catalogue.created)} unchanged." in message


@pytest.mark.parametrize("role", ["patient", "courier"])
def test_patients_and_couriers_cannot_open_the_catalogue(client, login_as, db, role):
    login_as(role)
    for url in ("/drugs/", "/drugs/search.json?q=a", "/drugs/export.csv", "/drugs/new"):
        assert client.get(url).status_code == 403, url


@pytest.mark.parametrize("role", ["doctor", "pharmacist"])
def test_doctors_and_pharmacists_read_but_cannot_change_the_catalogue(client, login_as, db, make_drug, role):
    drug = make_drug(code="READ-1")
    login_as(role)
    assert client.get(f"/drugs/{drug.id}").status_code == 200
    for url in ("/drugs/new", f"/drugs/{drug.id}/edit", "/drugs/import", "/drugs/export.csv"):
        assert client.get(url).status_code == 403, url
    assert client.post(f"/drugs/{drug.id}/active").status_code == 403
    assert by_code(db, "READ-1").is_active


def test_the_typeahead_returns_active_drugs_with_their_flags(client, login_as, catalogue):
    login_as("doctor")
    results = client.get("/drugs/search.json?q=甲氨蝶呤").get_json()["results"]
    tablet = next(r for r in results if r["code"] == "METHOTREXATE-2.5MG-TAB")
    names = (tablet["generic_name_en"], tablet["generic_name_zh"])
    assert names == ("Methotrexate", "甲氨蝶呤")
    assert (tablet["strength"], tablet["strength_unit"]) == ("2.5", "mg")
    assert tablet["dosage_form"] == "tablet" and tablet["atc_code"] == "L04AX03"
    assert tablet["flags"]["weekly_only"] is True
    [morphine] = client.get("/drugs/search.json?q=morphine").get_json()["results"]
    assert morphine["flags"]["online_prescribable"] is False
    assert morphine["flags"]["controlled_class"] == "narcotic"
    assert client.get("/drugs/search.json?q=phenelzine").get_json() == {"results": []}  # inactive
    assert client.get("/drugs/search.json").get_json() == {"results": []}


def test_the_typeahead_answers_anonymous_callers_with_401(client, db):
    response = client.get("/drugs/search.json?q=a", headers={"Accept": "application/json"})
    assert response.status_code == 401


def test_a_code_saved_by_someone_else_at_the_same_moment_gives_a_message_not_an_error(
        client, login_as, db, monkeypatch):
    def collide(_row):
        raise IntegrityError("INSERT INTO drugs", {}, Exception("UNIQUE constraint failed: drugs.code"))

    monkeypatch.setattr(services, "create_drug", collide)
    login_as("admin")
    response = client.post("/drugs/new", data=form_data(code="RACE-1"))
    assert response.status_code == 200
    assert "Someone else changed the catalogue at the same time." in response.get_data(as_text=True)
