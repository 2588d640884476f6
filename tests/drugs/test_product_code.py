"""The product code (药品标识码) on the admin form and the CSV import: 7 digits, one drug each, audited."""

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.audit.models import AuditEvent
from app.drugs import services
from app.drugs.catalogue import COLUMNS
from tests.drugs.conftest import csv_text, drug_row
from tests.drugs.test_views import by_code, form_data


def edit(client, drug, **overrides):
    return client.post(f"/drugs/{drug.id}/edit", data=form_data(**overrides))


@pytest.mark.parametrize(("typed", "saved"), [
    ("8690001", "8690001"),  # the 7 digits that open every 20-digit traceability code on the packs
    ("869 0001", "8690001"),  # as printed on some boxes, in groups
    ("８６９０００１", "8690001"),  # full-width, from a Chinese keyboard
])
def test_an_admin_sets_the_product_code_and_the_change_is_audited(client, login_as, db, make_drug, typed,
                                                                  saved):
    drug = make_drug(code="PC-1")
    admin = login_as("admin")
    response = edit(client, drug, traceability_prefix=typed)
    assert response.status_code == 302
    assert by_code(db, "PC-1").traceability_prefix == saved
    [event] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "drug.updated"))
    assert (event.actor_id, event.object_id) == (admin.id, str(drug.id))
    assert event.detail == "source=form; fields=traceability_prefix"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f'<code translate="no">{saved}</code>' in page


@pytest.mark.parametrize(("typed", "message"), [
    ("869000", "The product code has exactly 7 digits; this one has 6."),
    ("86900012", "The product code has exactly 7 digits; this one has 8."),
    ("86900123456789012345", "The product code has exactly 7 digits; this one has 20."),  # a whole code
    ("869000A", "Digits only: the product code is the first 7 digits"),
    ("869-0001", "Digits only"),
    ("٨٦٩٠٠٠١", "Digits only"),  # Arabic-Indic digits are digits to Python, not to a scanner
])
def test_a_product_code_that_is_not_seven_digits_is_refused_on_the_field(client, login_as, db, make_drug,
                                                                         typed, message):
    drug = make_drug(code="PC-2")
    login_as("admin")
    response = edit(client, drug, traceability_prefix=typed)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and message in page
    assert 'id="traceability_prefix-error"' in page
    assert by_code(db, "PC-2").traceability_prefix is None


def test_a_product_code_another_drug_has_is_refused_with_its_name_on_create_and_edit(client, login_as, db,
                                                                                   make_drug):
    make_drug(code="HOLDER-1", traceability_prefix="8690001")
    other = make_drug(code="PC-3")
    login_as("admin")
    page = edit(client, other, traceability_prefix="8690001").get_data(as_text=True)
    assert "Drug HOLDER-1 already has this product code. Each product code belongs to one drug." in page
    assert by_code(db, "PC-3").traceability_prefix is None
    created = client.post("/drugs/new", data=form_data(code="PC-4", traceability_prefix="8690001"))
    assert created.status_code == 200 and "Drug HOLDER-1 already has this product code." in created.get_data(
        as_text=True)
    assert by_code(db, "PC-4") is None
    # Saving a drug with its own code again is not a clash, and changes nothing.
    holder = by_code(db, "HOLDER-1")
    assert edit(client, holder, traceability_prefix="8690001").status_code == 302
    assert services.update_drug(holder, drug_row(traceability_prefix="8690001")) == []


def test_a_product_code_taken_at_the_same_moment_gives_a_message_not_an_error(client, login_as, db, make_drug,
                                                                              monkeypatch):
    drug = make_drug(code="PC-5")

    def collide(_drug, _row):
        raise IntegrityError("UPDATE drugs", {},
                             Exception("UNIQUE constraint failed: drugs.traceability_prefix"))

    monkeypatch.setattr(services, "update_drug", collide)
    login_as("admin")
    response = edit(client, drug, traceability_prefix="8690005")
    assert response.status_code == 200
    assert "Someone else changed the catalogue at the same time." in response.get_data(as_text=True)


def test_clearing_the_product_code_says_the_packs_cannot_be_dispensed(client, login_as, db, make_drug):
    drug = make_drug(code="PC-6", traceability_prefix="8690006")
    login_as("admin")
    assert edit(client, drug, traceability_prefix="").status_code == 302
    assert by_code(db, "PC-6").traceability_prefix is None
    page = client.get(f"/drugs/{drug.id}").get_data(as_text=True)
    assert "Not set: its packs cannot be dispensed." in page


def test_the_form_and_detail_page_speak_chinese(client, login_as, db, make_drug):
    drug = make_drug(code="PC-7", traceability_prefix="8690007")
    login_as("admin", locale="zh")
    form = client.get(f"/drugs/{drug.id}/edit").get_data(as_text=True)
    assert "药品标识码" in form and 'value="8690007"' in form and "用药指导单" in form
    page = edit(client, drug, traceability_prefix="86900").get_data(as_text=True)
    assert "药品标识码应为7位数字，此处填写了5位。" in page


def test_the_import_refuses_a_product_code_used_twice_or_held_by_a_drug_outside_the_file(db, make_drug):
    make_drug(code="HOLDER-2", traceability_prefix="8690002")
    rows = [drug_row(code="IMP-A", traceability_prefix="8690010"),
            drug_row(code="IMP-B", traceability_prefix="8690010"),
            drug_row(code="IMP-C", traceability_prefix="8690002"),
            drug_row(code="IMP-D", traceability_prefix="12345")]
    with pytest.raises(services.CatalogueError) as raised:
        services.load_csv_text(csv_text(rows))
    found = {(p.line, p.column): p.message for p in raised.value.problems}
    assert set(found) == {(3, "traceability_prefix"), (4, "traceability_prefix"), (5, "traceability_prefix")}
    assert "already used on line 2" in found[(3, "traceability_prefix")]
    assert "Drug HOLDER-2 already has this product code." in found[(4, "traceability_prefix")]
    assert "exactly 7 digits" in found[(5, "traceability_prefix")]
    assert by_code(db, "IMP-A") is None


def test_two_drugs_may_swap_product_codes_in_one_import_and_each_change_is_audited(db, make_drug):
    first = make_drug(code="SWAP-1", traceability_prefix="8690021")
    second = make_drug(code="SWAP-2", traceability_prefix="8690022")
    third = make_drug(code="SWAP-3", traceability_prefix="8690023")
    summary = services.load_csv_text(csv_text([
        drug_row(code="SWAP-1", traceability_prefix="8690022"),
        drug_row(code="SWAP-2", traceability_prefix="8690021"),
        drug_row(code="SWAP-3", traceability_prefix=""),  # removed: its packs wait for a new code
    ]))
    db.session.commit()
    assert sorted(summary.updated) == ["SWAP-1", "SWAP-2", "SWAP-3"]
    assert [by_code(db, code).traceability_prefix for code in ("SWAP-1", "SWAP-2", "SWAP-3")] == [
        "8690022", "8690021", None]
    details = {event.object_id: event.detail for event in db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "drug.updated"))}
    assert details == {str(drug.id): "source=import; fields=traceability_prefix"
                       for drug in (first, second, third)}


def test_a_file_without_the_columns_keeps_product_codes_and_leaflets_and_a_reload_changes_nothing(
        db, make_drug):
    make_drug(code="KEEP-PC", traceability_prefix="8690031", warnings_en="Take with food.",
              warnings_zh="随餐服用。")
    older_export = [c for c in COLUMNS if c not in (
        "traceability_prefix", "warnings_en", "warnings_zh", "storage_en", "storage_zh")]
    text = csv_text([drug_row(code="KEEP-PC", price_fen="4000")], columns=older_export)
    assert services.load_csv_text(text).updated == ["KEEP-PC"]
    again = services.load_csv_text(text)
    assert (again.updated, again.unchanged) == ([], 1)
    drug = by_code(db, "KEEP-PC")
    assert (drug.price_fen, drug.traceability_prefix, drug.warnings_en) == (
        4000, "8690031", "Take with food.")
