"""Loading, exporting, editing and searching the catalogue through the services."""

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.drugs import services
from app.drugs.catalogue import COLUMNS
from app.drugs.models import Drug
from app.errors import DomainError
from tests.drugs.conftest import csv_text, drug_row


def count(db, model=Drug) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def audit(db, action: str) -> list[AuditEvent]:
    return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()


def problems_of(text: str) -> list[tuple[int, str]]:
    with pytest.raises(services.CatalogueError) as raised:
        services.load_csv_text(text)
    return [(p.line, p.column) for p in raised.value.problems]


def test_a_file_with_bad_rows_reports_each_line_and_column_and_imports_nothing(db):
    rows = [drug_row(), drug_row(atc_code="C8CA01"), drug_row(), drug_row(price_fen="-120")]
    assert problems_of(csv_text(rows)) == [(3, "atc_code"), (5, "price_fen")]
    assert count(db) == 0
    assert audit(db, "drug.created") == []


def test_line_numbers_stay_right_after_blank_lines_and_multi_line_notes(db):
    text = csv_text([drug_row(notes="first line\nsecond line"), drug_row(strength="five")])
    text = text.replace("\n", "\n\n", 1)  # a blank line after the header
    # header 1, blank 2, row on 3–4 (quoted newline), bad row on 5
    assert problems_of(text) == [(5, "strength")]


@pytest.mark.parametrize(
    ("overrides", "column", "message"),
    [
        (dict(atc_code="c08ca1x"), "atc_code", "Not a WHO ATC code"),
        (dict(atc_code=""), "atc_code", "leave it blank only for a substance WHO has not classified"),
        (dict(price_fen="0"), "price_fen", "Must be more than zero."),
        (dict(price_fen="12.50"), "price_fen", "Enter a whole number."),
        (dict(strength="-5"), "strength", "Must be more than zero."),
        (dict(pack_size="abc"), "pack_size", "Enter a whole number."),
        (dict(dosage_form="lozenge"), "dosage_form", "Not one of: tablet,"),
        (dict(is_cold_chain="maybe"), "is_cold_chain", "Write yes or no."),
        (dict(generic_name_zh=""), "generic_name_zh", "This field is required."),
        (dict(ingredients_zh="沙库巴曲; 缬沙坦"), "ingredients_zh", "one Chinese name for each English"),
        (dict(max_daily_dose_unit=""), "max_daily_dose_unit", "together with its unit"),
        (dict(max_daily_dose_unit="IU"), "max_daily_dose_unit", "must match the strength unit"),
        (dict(controlled_class="narcotic", is_deliverable="no"), "is_online_prescribable",
         "cannot be prescribed online"),
        (dict(route="subcutaneous", dosage_form="injection"), "is_deliverable", "Injectables other than"),
        (dict(ingredients_en="warfarin", ingredients_zh="华法林"), "is_deliverable",
         "warfarin is on the national"),
    ],
)
def test_each_rule_names_the_column_and_says_what_is_wrong(app, db, overrides, column, message):
    with pytest.raises(services.CatalogueError) as raised:
        services.load_catalogue([(2, drug_row(**overrides))], list(COLUMNS))
    [problem] = raised.value.problems
    assert (problem.line, problem.column) == (2, column)
    assert message in problem.message


def test_header_problems_are_reported_on_line_1(db):
    columns = [c for c in COLUMNS if c != "route"] + ["colour"]
    found = problems_of(csv_text([drug_row()], columns=columns))
    assert (1, "route") in found and (1, "colour") in found
    assert count(db) == 0


def test_the_same_code_twice_in_one_file_is_refused(db):
    assert problems_of(csv_text([drug_row(code="DUP-1"), drug_row(code="dup-1")])) == [(3, "code")]


def test_glucose_lowering_injectables_may_be_delivered_and_aliases_are_accepted(db):
    summary = services.load_csv_text(csv_text([drug_row(
        code="PEN-1", atc_code="a10bj02", route="subcutaneous", dosage_form="pen_injector", strength="18",
        strength_unit="MG", pack_unit="pen", pack_size="1", is_cold_chain="是", max_daily_dose="1800",
        max_daily_dose_unit="mcg")]))
    drug = db.session.scalar(select(Drug).where(Drug.code == "PEN-1"))
    assert summary.created == ["PEN-1"]
    assert (drug.atc_code, drug.is_deliverable, drug.is_cold_chain, drug.max_daily_dose_unit) == (
        "A10BJ02", True, True, "µg")


def test_export_then_reimport_round_trips_without_a_change(db, catalogue):
    exported = services.catalogue.write_csv(db.session.scalars(select(Drug).order_by(Drug.code)))
    again = services.load_csv_text(exported)
    assert (again.created, again.updated, again.unchanged) == ([], [], len(catalogue.created))
    assert services.catalogue.write_csv(db.session.scalars(select(Drug).order_by(Drug.code))) == exported


def test_reimport_updates_only_the_changed_drug_and_audits_it(db, catalogue):
    exported = services.catalogue.write_csv(db.session.scalars(select(Drug).order_by(Drug.code)))
    header, *lines = exported.splitlines()
    changed = [line.replace(",3920,", ",4100,") if line.startswith("AMLODIPINE-5MG-TAB,") else line
               for line in lines]
    summary = services.load_csv_text("\n".join([header, *changed]) + "\n")
    assert summary.updated == ["AMLODIPINE-5MG-TAB"]
    drug = db.session.scalar(select(Drug).where(Drug.code == "AMLODIPINE-5MG-TAB"))
    assert drug.price_fen == 4100
    [event] = [e for e in audit(db, "drug.updated") if e.object_id == str(drug.id)]
    assert "fields=price_fen" in event.detail


def test_an_import_can_change_ingredients(db, make_drug):
    drug = make_drug(code="COMBO-1")
    services.load_csv_text(csv_text([drug_row(
        code="COMBO-1", ingredients_en="amlodipine; valsartan", ingredients_zh="氨氯地平; 缬沙坦")]))
    db.session.expire_all()
    assert [(i.position, i.name) for i in drug.ingredients] == [(1, "amlodipine"), (2, "valsartan")]


def test_update_keeps_the_code_and_reports_what_changed(db, make_drug):
    drug = make_drug(code="KEEP-1")
    changed = services.update_drug(drug, drug_row(code="OTHER", price_fen="5000", notes="new pack"))
    assert (drug.code, drug.price_fen, changed) == ("KEEP-1", 5000, ["price_fen", "notes"])
    assert services.update_drug(drug, drug_row(price_fen="5000", notes="new pack")) == []


def test_a_code_already_in_use_is_refused_on_create(db, make_drug):
    make_drug(code="TAKEN-1")
    with pytest.raises(DomainError) as raised:
        services.create_drug(drug_row(code="taken-1"))
    assert "already exists" in raised.value.reasons["code"]


def test_deactivating_keeps_the_drug_and_hides_it_from_the_default_search(db, make_drug):
    drug = make_drug(code="OLD-1", generic_name_en="Oldamine", ingredients_en="oldamine")
    services.set_active(drug, False)
    assert db.session.scalars(services.search("oldamine")).all() == []
    assert db.session.scalars(services.search("oldamine", active=None)).all() == [drug]
    events = db.session.scalars(select(AuditEvent).where(
        AuditEvent.object_id == str(drug.id)).order_by(AuditEvent.id))
    assert [e.action for e in events] == ["drug.created", "drug.deactivated"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("amlodipine", {"AMLODIPINE-5MG-TAB", "LEVAMLODIPINE-2.5MG-TAB"}),
        ("AMLODIPINE", {"AMLODIPINE-5MG-TAB", "LEVAMLODIPINE-2.5MG-TAB"}),
        ("氨氯地平", {"AMLODIPINE-5MG-TAB", "LEVAMLODIPINE-2.5MG-TAB"}),
        ("络活喜", {"AMLODIPINE-5MG-TAB"}),
        ("Glivec", {"IMATINIB-100MG-TAB"}),
        ("L01EB", {"GEFITINIB-250MG-TAB", "ERLOTINIB-150MG-TAB", "AFATINIB-40MG-TAB", "OSIMERTINIB-80MG-TAB",
                   "ICOTINIB-125MG-TAB"}),
        ("sacubitril", {"SACUBITRIL-VALSARTAN-100MG-TAB"}),
        ("缬沙坦", {"VALSARTAN-80MG-CAP", "SACUBITRIL-VALSARTAN-100MG-TAB"}),
        ("100%", set()),
    ],
)
def test_search_by_name_in_either_language_brand_atc_prefix_or_ingredient(db, catalogue, query, expected):
    assert {d.code for d in db.session.scalars(services.search(query))} == expected


def test_search_filters(db, catalogue):
    cold = db.session.scalars(services.search(cold_chain=True)).all()
    assert cold and all(d.is_cold_chain for d in cold)
    controlled = {d.code for d in db.session.scalars(services.search(controlled=True))}
    assert {"MORPHINE-30MG-SRTAB", "ZOLPIDEM-10MG-TAB"} <= controlled
    pickup = {d.code for d in db.session.scalars(services.search("warfarin", not_deliverable=True))}
    assert pickup == {"WARFARIN-2.5MG-TAB"}
    inactive = {d.code for d in db.session.scalars(services.search(active=False))}
    assert "PHENELZINE-15MG-TAB" in inactive and "AMLODIPINE-5MG-TAB" not in inactive
