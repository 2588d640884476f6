"""Object-level access: a patient sees only their own record; patient-data views always leave an audit row."""

import pytest
from flask import Flask
from flask_login import AnonymousUserMixin
from sqlalchemy import func, select

from app.accounts.models import Role
from app.audit.models import AuditEvent
from app.policy import can_access_patient, patient_access_rules, patient_data
from tests import factories


def audit_count(db, **filters) -> int:
    statement = select(func.count()).select_from(AuditEvent)
    for name, value in filters.items():
        statement = statement.where(getattr(AuditEvent, name) == value)
    return db.session.scalar(statement)


def test_a_patient_may_open_only_their_own_record(db):
    alice, bob = factories.make_patient(), factories.make_patient()
    assert can_access_patient(alice, alice.id)
    assert not can_access_patient(alice, bob.id)


@pytest.mark.parametrize("role", [Role.DOCTOR, Role.PHARMACIST, Role.COURIER])
def test_staff_see_no_patient_until_a_feature_grants_it(db, role):
    staff, patient = factories.make_user(role), factories.make_patient()
    assert not can_access_patient(staff, patient.id)


def test_a_feature_rule_grants_a_doctor_their_own_patients_only(db, monkeypatch):
    doctor, mine, other = factories.make_user(Role.DOCTOR), factories.make_patient(), factories.make_patient()
    monkeypatch.setattr("app.policy.patient_access_rules",
                        [*patient_access_rules, lambda user, pid: user.id == doctor.id and pid == mine.id])
    assert can_access_patient(doctor, mine.id)
    assert not can_access_patient(doctor, other.id)


def test_admins_may_open_any_record_but_not_when_deactivated(db):
    admin, patient = factories.make_user(Role.ADMIN), factories.make_patient()
    assert can_access_patient(admin, patient.id)
    admin.is_active = False
    assert not can_access_patient(admin, patient.id)


def test_anonymous_visitors_see_no_patient(db):
    patient = factories.make_patient()
    assert not can_access_patient(AnonymousUserMixin(), patient.id)


def test_a_patient_opening_their_account_page_is_audited(client, login_as, db):
    patient = login_as(Role.PATIENT)
    before = audit_count(db, action="account.viewed", patient_id=patient.id)
    assert client.get("/accounts/profile").status_code == 200
    assert audit_count(db, action="account.viewed", patient_id=patient.id) == before + 1


def test_an_admin_opening_a_patient_is_audited_with_the_patient(client, login_as, db):
    admin = login_as(Role.ADMIN)
    patient = factories.make_patient()
    db.session.commit()
    assert client.get(f"/admin/users/{patient.id}").status_code == 200
    assert audit_count(db, action="patient.account.viewed", patient_id=patient.id, actor_id=admin.id) == 1


def test_a_patient_data_view_that_forgets_the_audit_row_fails_loudly():
    app = Flask(__name__)
    app.config["TESTING"] = True

    @app.route("/leaky")
    @patient_data
    def leaky():
        return "a patient's record"

    with pytest.raises(RuntimeError, match="wrote no audit row"):
        app.test_client().get("/leaky")
