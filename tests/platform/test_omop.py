"""`flask platform export-omop`: the OMOP DRUG_EXPOSURE CSV a researcher loads, one row per dispensed
line, dated in the store's zone, keyed by the research token's row, with nothing that names a person."""

import csv
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select, update

from app.extensions import db as _db
from app.orders.models import Dispense, Order, OrderLine
from app.patients.models import ConsentKind
from app.patients.services import revoke_consent
from app.platform import omop
from app.platform.models import ResearchToken
from tests.adherence.conftest import completed_on
from tests.platform.conftest import BIRTH_DATE, ID_NUMBER, LEGAL_NAME, METFORMIN_BID, STREET

HEADER = [
    "drug_exposure_id", "person_id", "drug_concept_id", "drug_exposure_start_date",
    "drug_exposure_start_datetime", "drug_exposure_end_date", "drug_exposure_end_datetime",
    "verbatim_end_date", "drug_type_concept_id", "stop_reason", "refills", "quantity", "days_supply",
    "sig", "route_concept_id", "lot_number", "provider_id", "visit_occurrence_id", "visit_detail_id",
    "drug_source_value", "drug_source_concept_id", "route_source_value", "dose_unit_source_value",
]
FREE_TEXT = "Ring Dr Wang on his mobile if dizzy"
AMLODIPINE_NOTED = ("AMLODIPINE-5MG-TAB", dict(instructions=FREE_TEXT))


def export(app, path, since="2026-01-01"):
    result = app.test_cli_runner().invoke(
        args=["platform", "export-omop", "--since", since, "--output", str(path)])
    assert result.exit_code == 0, result.output
    with open(path, encoding="utf-8", newline="") as handle:
        text = handle.read()
    rows = list(csv.reader(text.splitlines()))
    return text, rows[0], [dict(zip(rows[0], row, strict=True)) for row in rows[1:]], result


def handed_over_on(order, moment: datetime) -> None:
    """Date the handover back to `moment`: the export reads handed_over_at before completed_at."""
    completed_on(order, moment)
    _db.session.execute(update(Order).where(Order.id == order.id).values(handed_over_at=moment))
    _db.session.commit()


def person_id_of(patient) -> int:
    return _db.session.scalar(select(ResearchToken.id).where(
        ResearchToken.subject_type == "patient", ResearchToken.subject_id == patient.id))


def test_each_dispensed_line_is_one_drug_exposure_row_in_cdm_column_order(app, sharing, receive, tmp_path):
    order = receive(AMLODIPINE_NOTED, METFORMIN_BID)
    # 01:30 on 2 March in Shanghai is still 1 March in UTC: the start date is the store's day.
    handed_over_on(order, datetime(2026, 3, 1, 17, 30, tzinfo=UTC))
    text, header, rows, result = export(app, tmp_path / "drug_exposure.csv")

    assert header == HEADER
    assert "\r" not in text and text.endswith("\n")
    assert "2 rows." in result.output
    assert [row["drug_exposure_id"] for row in rows] == ["1", "2"]
    lines = sorted(order.lines, key=lambda line: line.position)
    amlodipine, metformin = rows
    for row, line in zip(rows, lines, strict=True):
        assert row["quantity"] == str(line.packs * line.drug.pack_size)
        assert row["days_supply"] == str(line.days_supply)
        assert row["drug_exposure_start_date"] == "2026-03-02"
        assert row["drug_exposure_start_datetime"] == "2026-03-01T17:30:00+00:00"
        end = date(2026, 3, 2) + timedelta(days=line.days_supply - 1)
        assert row["drug_exposure_end_date"] == end.isoformat()
        assert row["drug_type_concept_id"] == "32825"
        assert row["drug_concept_id"] == row["drug_source_concept_id"] == "0"
        assert row["route_concept_id"] == "4132161" and row["route_source_value"] == "oral"
        assert row["person_id"] == str(person_id_of(sharing))
        for empty in ("drug_exposure_end_datetime", "verbatim_end_date", "stop_reason", "refills",
                      "provider_id", "visit_occurrence_id", "visit_detail_id"):
            assert row[empty] == ""
    assert amlodipine["drug_source_value"] == "C08CA01"
    assert metformin["sig"] == "500 mg BID ×7d" and metformin["dose_unit_source_value"] == "mg"
    dispensed = _db.session.scalars(select(Dispense).where(Dispense.order_id == order.id)).one()
    assert amlodipine["lot_number"] == dispensed.packs[0].lot.lot_number


def test_a_seven_day_supply_ends_six_days_after_it_starts(app, sharing, receive, tmp_path):
    order = receive()
    handed_over_on(order, datetime(2026, 3, 1, 4, tzinfo=UTC))  # noon in Shanghai
    # No catalogue pack comes to exactly a week, so the line is given one.
    _db.session.execute(update(OrderLine).where(OrderLine.id == order.lines[0].id).values(days_supply=7))
    _db.session.commit()
    _text, _header, [row], _result = export(app, tmp_path / "out.csv")
    assert (row["days_supply"], row["drug_exposure_start_date"], row["drug_exposure_end_date"]) == (
        "7", "2026-03-01", "2026-03-07")


def test_two_orders_of_one_patient_share_a_person_id_and_are_numbered_in_the_file(
        app, sharing, receive, tmp_path, monkeypatch):
    monkeypatch.setattr(omop, "CHUNK", 1)  # each order in its own chunk: numbering runs across chunks
    receive()
    receive(METFORMIN_BID)
    _text, _header, rows, _result = export(app, tmp_path / "out.csv")
    assert [row["drug_exposure_id"] for row in rows] == ["1", "2"]
    assert {row["person_id"] for row in rows} == {str(person_id_of(sharing))}


def test_nothing_in_the_file_identifies_a_person(app, sharing, receive, visit, shop, tmp_path):
    receive(AMLODIPINE_NOTED, METFORMIN_BID)
    text, _header, rows, _result = export(app, tmp_path / "out.csv")
    assert len(rows) == 2
    people = (sharing, visit.doctor, shop.pharmacist)
    forbidden = [LEGAL_NAME, ID_NUMBER, STREET, BIRTH_DATE.isoformat(), FREE_TEXT]
    forbidden += [value for person in people for value in (person.display_name, person.phone, person.email)
                  if value]
    for value in forbidden:
        assert value.lower() not in text.lower(), value


def test_a_patient_who_never_consented_is_not_exported(app, visit, receive, tmp_path):
    receive()
    _text, header, rows, _result = export(app, tmp_path / "out.csv")
    assert header == HEADER and rows == []


def test_a_patient_who_withdrew_consent_is_not_exported(app, sharing, receive, tmp_path):
    receive()
    revoke_consent(sharing, ConsentKind.DATA_SHARING)
    _db.session.commit()
    _text, _header, rows, result = export(app, tmp_path / "out.csv")
    assert rows == [] and "0 rows." in result.output


def test_since_after_the_handover_exports_no_rows(app, sharing, receive, tmp_path):
    order = receive()
    handed_over_on(order, datetime(2026, 3, 1, 4, tzinfo=UTC))
    assert len(export(app, tmp_path / "on.csv", since="2026-03-01")[2]) == 1
    assert export(app, tmp_path / "after.csv", since="2026-03-02")[2] == []


def test_a_bad_date_is_a_clear_usage_error(app, tmp_path):
    path = tmp_path / "out.csv"
    result = app.test_cli_runner().invoke(
        args=["platform", "export-omop", "--since", "01/03/2026", "--output", str(path)])
    assert result.exit_code == 2
    assert "YYYY-MM-DD" in result.output and "Traceback" not in result.output
    assert not path.exists()
