"""The audit trail cannot be rewritten, and admins can search it by action, person and date."""

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from app.audit.models import AppendOnlyError, AuditEvent
from app.audit.services import record
from app.extensions import db as _db
from tests import factories


def _row(action: str, **fields) -> AuditEvent:
    event = AuditEvent(action=action, **fields)
    _db.session.add(event)
    _db.session.flush()
    return event


def _shown(page: str, action: str) -> bool:
    return f'data-action="{action}"' in page


def test_changing_an_audit_row_through_the_orm_is_refused(db):
    event = record("probe.created", detail="original")
    event.detail = "rewritten"
    with pytest.raises(AppendOnlyError):
        db.session.flush()


def test_deleting_an_audit_row_through_the_orm_is_refused(db):
    event = record("probe.created")
    db.session.delete(event)
    with pytest.raises(AppendOnlyError):
        db.session.flush()


@pytest.mark.postgres_only
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_events SET detail = 'rewritten' WHERE id = :id",
        "DELETE FROM audit_events WHERE id = :id",
    ],
)
def test_the_database_refuses_raw_sql_changes_to_audit_rows(db, statement):
    event = record("probe.created", detail="original")
    db.session.commit()
    with pytest.raises(sa.exc.DBAPIError, match="append-only"), db.session.begin_nested():
        db.session.execute(sa.text(statement), {"id": event.id})
    detail = db.session.execute(
        sa.text("SELECT detail FROM audit_events WHERE id = :id"), {"id": event.id}
    ).scalar_one()
    assert detail == "original"


def test_only_admins_can_open_the_audit_log(client, login_as):
    assert client.get("/audit/").status_code == 302
    login_as("doctor")
    assert client.get("/audit/").status_code == 403


def test_audit_log_lists_events_newest_first(client, login_as, db):
    _row("probe.older", occurred_at=datetime(2024, 1, 1, tzinfo=UTC))
    _row("probe.newer", occurred_at=datetime(2024, 6, 1, tzinfo=UTC))
    login_as("admin")
    page = client.get("/audit/").get_data(as_text=True)
    assert _shown(page, "probe.older") and _shown(page, "probe.newer")
    assert page.index('data-action="probe.newer"') < page.index('data-action="probe.older"')


def test_audit_log_filters_by_action_prefix(client, login_as, db):
    _row("prescription.signed")
    _row("prescription.returned")
    _row("payment.captured")
    login_as("admin")
    page = client.get("/audit/?action=prescription.").get_data(as_text=True)
    assert _shown(page, "prescription.signed")
    assert _shown(page, "prescription.returned")
    assert not _shown(page, "payment.captured")
    assert not _shown(page, "login.succeeded")


def test_audit_log_filters_by_actor(client, login_as, db):
    alice = factories.make_user("pharmacist", display_name="Alice Actor")
    bob = factories.make_user("doctor", display_name="Bob Actor")
    record("probe.by_alice", actor=alice)
    record("probe.by_bob", actor=bob)
    login_as("admin")
    page = client.get(f"/audit/?actor_id={alice.id}").get_data(as_text=True)
    assert _shown(page, "probe.by_alice")
    assert "Alice Actor" in page
    assert not _shown(page, "probe.by_bob")


def test_audit_log_filters_by_patient(client, login_as, db):
    first = factories.make_patient()
    second = factories.make_patient()
    record("probe.about_first", patient=first)
    record("probe.about_second", patient=second)
    login_as("admin")
    page = client.get(f"/audit/?patient_id={first.id}").get_data(as_text=True)
    assert _shown(page, "probe.about_first")
    assert not _shown(page, "probe.about_second")


def test_audit_log_shows_only_events_inside_the_date_range(client, login_as, db):
    # The admin reads dates in Asia/Shanghai (UTC+8).
    _row("probe.before", occurred_at=datetime(2024, 3, 4, 15, 30, tzinfo=UTC))  # 3-4 23:30 local
    _row("probe.first_day", occurred_at=datetime(2024, 3, 4, 16, 30, tzinfo=UTC))  # 3-5 00:30 local
    _row("probe.last_day", occurred_at=datetime(2024, 3, 15, 15, 30, tzinfo=UTC))  # 3-15 23:30 local
    _row("probe.after", occurred_at=datetime(2024, 3, 15, 16, 30, tzinfo=UTC))  # 3-16 00:30 local
    login_as("admin")
    page = client.get("/audit/?date_from=2024-03-05&date_to=2024-03-15").get_data(as_text=True)
    assert _shown(page, "probe.first_day")
    assert _shown(page, "probe.last_day")
    assert not _shown(page, "probe.before")
    assert not _shown(page, "probe.after")
    assert not _shown(page, "login.succeeded")  # today is outside March 2024


def test_audit_log_ignores_a_malformed_date(client, login_as, db):
    _row("probe.kept", occurred_at=datetime(2024, 3, 10, tzinfo=UTC))
    login_as("admin")
    response = client.get("/audit/?date_from=not-a-date")
    assert response.status_code == 200
    assert _shown(response.get_data(as_text=True), "probe.kept")


def test_failed_and_successful_logins_appear_in_the_audit_log(client, login_as, db):
    admin = factories.make_user("admin")
    db.session.commit()
    failed = client.post("/accounts/login", data={"identifier": admin.email, "password": "wrong-password-1"})
    assert failed.status_code == 200
    login_as(admin)
    page = client.get("/audit/?action=login.").get_data(as_text=True)
    assert _shown(page, "login.failed")
    assert _shown(page, "login.succeeded")
    assert f"identifier={admin.email}" in page
    failures = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "login.failed")).all()
    assert [(e.actor_id, e.object_id) for e in failures] == [(None, str(admin.id))]
    assert failures[0].ip == "127.0.0.1"


def test_audit_log_page_works_in_chinese(client, login_as, db):
    _row("probe.created")
    login_as("admin", locale="zh")
    page = client.get("/audit/").get_data(as_text=True)
    assert "审计日志" in page
    assert _shown(page, "probe.created")
    assert '<html lang="zh-Hans-CN">' in page
