"""Finding 9: refused probes, the admin user list and the audit page itself leave audit rows, and the
database itself refuses to rewrite or delete an audit row, on SQLite as on PostgreSQL."""

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select

from app.accounts.models import Role
from app.audit.models import AuditEvent
from app.audit.services import record
from tests import factories
from tests.patients.conftest import make_condition


def rows(db, action: str) -> list[AuditEvent]:
    db.session.expire_all()
    return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                              .order_by(AuditEvent.id)).all()


def count(db) -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEvent))


@pytest.mark.parametrize("statement", [
    "UPDATE audit_events SET detail = 'rewritten' WHERE id = ?",
    "DELETE FROM audit_events WHERE id = ?",
], ids=["update", "delete"])
def test_finding_9_the_database_refuses_to_change_an_audit_row(db, statement):
    event = record("probe.created", detail="original")
    db.session.commit()
    # Straight to the driver, past the ORM and its guard: only the database can say no here.
    placeholder = "%s" if db.session.connection().dialect.name == "postgresql" else "?"
    with pytest.raises(sa.exc.DBAPIError, match="append-only"), db.session.begin_nested():
        db.session.connection().exec_driver_sql(statement.replace("?", placeholder), (event.id,))
    still = db.session.execute(sa.text("SELECT detail FROM audit_events WHERE id = :id"),
                               {"id": event.id}).scalar_one()
    assert still == "original"


def test_finding_9_a_patient_probing_another_patients_file_is_audited(client, login_as, db):
    owner = factories.make_patient()
    condition = make_condition(owner)
    prober = login_as(Role.PATIENT)

    response = client.get(f"/patients/uploads/{condition.proof_upload_id}")

    assert response.status_code == 404
    [refused] = rows(db, "access.refused")
    assert (refused.actor_id, refused.patient_id) == (prober.id, owner.id)
    assert (refused.object_type, refused.object_id) == ("patients.upload", str(condition.proof_upload_id))
    assert refused.detail == f"404 GET /patients/uploads/{condition.proof_upload_id}"
    assert refused.ip == "127.0.0.1"


def test_finding_9_probing_an_id_that_does_not_exist_is_audited_the_same_way(client, login_as, db):
    doctor = login_as(Role.DOCTOR)
    assert client.get("/consultations/987654").status_code == 404
    assert client.get("/patients/uploads/987654").status_code == 404
    refused = rows(db, "access.refused")
    assert [(r.actor_id, r.object_type, r.object_id, r.patient_id) for r in refused] == [
        (doctor.id, "consultations.detail", "987654", None),
        (doctor.id, "patients.upload", "987654", None)]


def test_finding_9_a_page_refused_to_the_users_role_is_audited(client, login_as, db):
    patient = login_as(Role.PATIENT)
    assert client.get("/admin/users").status_code == 403
    [refused] = rows(db, "access.refused")
    assert (refused.actor_id, refused.object_type, refused.detail) == (
        patient.id, "admin.users", "403 GET /admin/users")


def test_finding_9_unknown_urls_and_missing_static_files_are_not_audited(client, login_as, db):
    before = count(db)
    assert client.get("/static/css/missing.css").status_code == 404
    assert client.get("/patients/uploads/5").status_code in (302, 401)  # anonymous: sent to sign in
    login_as(Role.PATIENT)
    after_login = count(db)
    assert client.get("/static/css/missing.css").status_code == 404
    assert client.get("/no/such/page").status_code == 404
    assert count(db) == after_login
    assert not rows(db, "access.refused")
    assert after_login > before  # the sign-in itself is audited, as before


def test_finding_9_the_admin_user_list_is_audited_with_one_row(client, login_as, db):
    patients = [factories.make_patient(display_name=f"Listed Patient {n}") for n in range(3)]
    admin = login_as(Role.ADMIN)

    page = client.get("/admin/users?role=patient&q=Listed")

    assert page.status_code == 200 and "Listed Patient 2" in page.get_data(as_text=True)
    [listed] = rows(db, "admin.users_listed")
    assert listed.actor_id == admin.id
    shown = {int(i) for i in listed.detail.split("users=")[1].split(";")[0].split(",")}
    assert shown == {p.id for p in patients}
    assert "role=patient" in listed.detail and listed.detail.endswith("q=Listed")


def test_finding_9_opening_the_audit_page_is_audited(client, login_as, db):
    admin = login_as(Role.ADMIN)
    assert client.get("/audit/?action=login.").status_code == 200
    [viewed] = rows(db, "audit.viewed")
    assert (viewed.actor_id, viewed.detail) == (admin.id, "action=login.")
    # The page does not list its own visit, and the next visit sees the first one.
    page = client.get("/audit/?action=audit.").get_data(as_text=True)
    assert page.count('data-action="audit.viewed"') == 1
