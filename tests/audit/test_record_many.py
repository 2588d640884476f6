"""record_many(): a list page that names several patients leaves one audit row per patient shown,
written in one INSERT (per 1,000 rows), not one round trip per row."""

from types import SimpleNamespace

from sqlalchemy import select

from app.audit import services
from app.audit.models import AuditEvent
from tests import factories
from tests.query_budget import count_statements


def _rows(db, action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                                   .order_by(AuditEvent.object_id)))


def _shown(patients) -> list[SimpleNamespace]:
    return [SimpleNamespace(__tablename__="prescriptions", id=n, patient_id=p.id)
            for n, p in enumerate(patients, 1)]


def test_each_patient_shown_gets_a_row_and_all_rows_go_in_one_insert(db):
    pharmacist = factories.make_user("pharmacist")
    patients = [factories.make_patient() for _ in range(5)]
    with count_statements(db) as seen:
        assert services.record_many("test.list_viewed", _shown(patients), actor=pharmacist) == 5
    assert seen.count == 1 and seen.inserts == 1, str(seen)
    rows = _rows(db, "test.list_viewed")
    assert [(r.object_type, r.object_id, r.patient_id) for r in rows] == [
        ("prescriptions", str(n), p.id) for n, p in enumerate(patients, 1)]
    assert {(r.actor_id, r.actor_role) for r in rows} == {(pharmacist.id, "pharmacist")}
    assert all(r.occurred_at is not None for r in rows)


def test_an_empty_list_still_leaves_one_row_saying_the_page_was_seen(db):
    assert services.record_many("test.empty_list_viewed", []) == 1
    rows = _rows(db, "test.empty_list_viewed")
    assert len(rows) == 1 and rows[0].patient_id is None


def test_a_very_long_list_is_split_to_stay_under_the_parameter_limit(db, monkeypatch):
    monkeypatch.setattr(services, "ROWS_PER_INSERT", 2)
    patients = [factories.make_patient() for _ in range(5)]
    with count_statements(db) as seen:
        services.record_many("test.long_list_viewed", _shown(patients))
    assert seen.inserts == 3
    assert len(_rows(db, "test.long_list_viewed")) == 5


def test_record_read_writes_the_row_record_would_in_one_insert_without_a_flush(db, app):
    patient = factories.make_patient()
    with app.test_request_context("/", environ_base={"REMOTE_ADDR": "203.0.113.9"}):
        with count_statements(db) as seen:
            assert services.record_read("test.read_list", patient=patient, detail="x" * 600) is None
        assert seen.count == 1 and seen.inserts == 1, str(seen)
        services.record("test.read_one", patient=patient, detail="x" * 600)
    fast, slow = _rows(db, "test.read_list"), _rows(db, "test.read_one")
    assert len(fast) == len(slow) == 1
    columns = ("actor_id", "actor_role", "object_type", "object_id", "patient_id", "ip", "detail")
    assert [getattr(fast[0], c) for c in columns] == [getattr(slow[0], c) for c in columns]
    assert fast[0].patient_id == patient.id and fast[0].ip == "203.0.113.9" and len(fast[0].detail) == 500
    assert fast[0].occurred_at is not None
