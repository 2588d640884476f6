"""Operations admins create staff, deactivate and verify accounts, and browse users and stores."""

import pytest
from sqlalchemy import func, select

from app.accounts.models import DoctorProfile, PharmacistProfile, Role, User
from app.audit.models import AuditEvent
from tests import factories

STAFF_PASSWORD = "Lantern-Orchard-5710"


def _staff_form(role: str, email: str, **fields) -> dict:
    form = dict(role=role, display_name=f"New {role}", email=email, phone="", password=STAFF_PASSWORD,
                locale="en", licence_number="", department="", home_store_id="0")
    form.update(fields)
    return form


def _user_by_email(db, email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == email))


def _in_own_context(app, call, *args, **kwargs):
    """Run one request of another browser in an app context of its own, as in production.

    The test's requests share the fixture's app context, so flask.g (and Flask-Login's
    cached user in it) would otherwise leak from one browser's request into the next.
    """
    with app.app_context():
        return call(*args, **kwargs)


def _sign_in(app, login: str, password: str):
    """A separate browser signing in; returns (client, response)."""
    other = app.test_client()
    response = _in_own_context(app, other.post, "/accounts/login",
                               data={"identifier": login, "password": password})
    return other, response


def _audit(db, action: str) -> list[AuditEvent]:
    return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()


def test_admin_creates_a_doctor_with_licence_and_department(client, login_as, db):
    admin = login_as("admin")
    response = client.post("/admin/users/new", data=_staff_form(
        "doctor", "new.doctor@clinic.example", licence_number="DOC-NEW-001", department="Oncology"))
    doctor = _user_by_email(db, "new.doctor@clinic.example")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/admin/users/{doctor.id}")
    assert doctor.role == Role.DOCTOR
    assert doctor.doctor_profile.licence_number == "DOC-NEW-001"
    assert doctor.doctor_profile.department == "Oncology"
    assert doctor.doctor_profile.is_verified is False
    [event] = _audit(db, "staff.created")
    assert (event.actor_id, event.object_id, event.detail) == (admin.id, str(doctor.id), "role=doctor")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Staff account created for New doctor." in page


def test_a_staff_name_with_markup_is_shown_as_text_in_the_confirmation(client, login_as, db):
    login_as("admin")
    response = client.post("/admin/users/new", follow_redirects=True, data=_staff_form(
        "courier", "markup@clinic.example", display_name="<b>Bold</b> Rider"))
    page = response.get_data(as_text=True)
    assert "Staff account created for &lt;b&gt;Bold&lt;/b&gt; Rider." in page
    assert "<b>Bold</b>" not in page


def test_admin_creates_a_pharmacist_with_a_home_store(client, login_as, db):
    store = factories.make_store(name_en="Riverside Pharmacy")
    login_as("admin")
    response = client.post("/admin/users/new", data=_staff_form(
        "pharmacist", "new.pharmacist@clinic.example", licence_number="PHA-NEW-001",
        home_store_id=str(store.id)))
    assert response.status_code == 302
    pharmacist = _user_by_email(db, "new.pharmacist@clinic.example")
    assert pharmacist.role == Role.PHARMACIST
    assert pharmacist.pharmacist_profile.licence_number == "PHA-NEW-001"
    assert pharmacist.pharmacist_profile.home_store_id == store.id
    assert "Riverside Pharmacy" in client.get(response.headers["Location"]).get_data(as_text=True)


@pytest.mark.parametrize("role", ["courier", "admin"])
def test_admin_creates_a_courier_or_another_admin(client, login_as, db, role):
    login_as("admin")
    response = client.post("/admin/users/new", data=_staff_form(role, f"new.{role}@clinic.example",
                                                                 phone="138 0013 8123"))
    assert response.status_code == 302
    user = _user_by_email(db, f"new.{role}@clinic.example")
    assert user.role == Role(role)
    assert user.phone == "+8613800138123"
    assert (user.courier_profile is not None) is (role == "courier")


@pytest.mark.parametrize(
    ("role", "fields", "message"),
    [
        ("doctor", dict(department="Oncology"), "A licence number is required for this role."),
        ("doctor", dict(licence_number="DOC-X-1"), "A department is required for a doctor."),
        ("pharmacist", dict(home_store_id="__store__"), "A licence number is required for this role."),
        ("pharmacist", dict(licence_number="PHA-X-1"), "A pharmacist needs a home store."),
    ],
)
def test_missing_licence_department_or_store_is_explained_and_nothing_is_created(
        client, login_as, db, role, fields, message):
    store = factories.make_store()
    fields = {k: (str(store.id) if v == "__store__" else v) for k, v in fields.items()}
    login_as("admin")
    response = client.post("/admin/users/new", data=_staff_form(role, "refused@clinic.example", **fields))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert message in page
    assert "is-invalid" in page
    assert _user_by_email(db, "refused@clinic.example") is None
    assert _audit(db, "staff.created") == []


@pytest.mark.parametrize("role", ["doctor", "pharmacist"])
def test_a_licence_number_already_registered_is_refused(client, login_as, db, role):
    existing = factories.make_user("doctor")
    store = factories.make_store()
    licence = existing.doctor_profile.licence_number
    login_as("admin")
    response = client.post("/admin/users/new", data=_staff_form(
        role, "copycat@clinic.example", licence_number=licence, department="Oncology",
        home_store_id=str(store.id)))
    assert response.status_code == 200
    assert "This licence number is already registered." in response.get_data(as_text=True)
    assert _user_by_email(db, "copycat@clinic.example") is None
    assert db.session.scalar(select(func.count()).select_from(DoctorProfile)) == 1
    assert db.session.scalar(select(func.count()).select_from(PharmacistProfile)) == 0


def test_an_email_already_in_use_is_refused(client, login_as, db):
    factories.make_patient(email="taken@clinic.example")
    login_as("admin")
    users_before = db.session.scalar(select(func.count()).select_from(User))
    response = client.post("/admin/users/new", data=_staff_form(
        "doctor", "Taken@Clinic.Example", licence_number="DOC-DUP-1", department="Oncology"))
    assert response.status_code == 200
    assert "An account with this email address already exists." in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(User)) == users_before
    assert db.session.scalar(select(DoctorProfile).where(DoctorProfile.licence_number == "DOC-DUP-1")) is None


def test_new_staff_member_can_sign_in_with_the_initial_password(app, client, login_as, db):
    login_as("admin")
    client.post("/admin/users/new", data=_staff_form("courier", "rider@clinic.example"))
    rider, response = _sign_in(app, "rider@clinic.example", STAFF_PASSWORD)
    assert response.status_code == 302
    profile = _in_own_context(app, rider.get, "/accounts/profile").get_data(as_text=True)
    assert "New courier" in profile and "rider@clinic.example" in profile


def test_deactivating_a_user_ends_their_session_and_blocks_login(app, client, login_as, db):
    doctor = factories.make_user("doctor")
    login_as("admin")
    victim, response = _sign_in(app, doctor.email, factories.PASSWORD)
    assert response.status_code == 302
    assert doctor.email in _in_own_context(app, victim.get, "/accounts/profile").get_data(as_text=True)

    response = client.post(f"/admin/users/{doctor.id}/active")
    assert response.status_code == 302
    assert "Account deactivated." in client.get(response.headers["Location"]).get_data(as_text=True)

    kicked_out = _in_own_context(app, victim.get, "/accounts/profile")
    assert kicked_out.status_code == 302
    assert "/accounts/login" in kicked_out.headers["Location"]
    _, again = _sign_in(app, doctor.email, factories.PASSWORD)
    assert again.status_code == 200
    assert "The email/mobile number or password is not correct." in again.get_data(as_text=True)
    assert [e.object_id for e in _audit(db, "account.deactivated")] == [str(doctor.id)]


def test_reactivated_user_can_sign_in_again(app, client, login_as, db):
    courier = factories.make_user("courier", is_active=False)
    login_as("admin")
    client.post(f"/admin/users/{courier.id}/active")
    db.session.refresh(courier)
    assert courier.is_active
    _, response = _sign_in(app, courier.email, factories.PASSWORD)
    assert response.status_code == 302


def test_the_last_active_admin_cannot_be_deactivated(client, login_as, db):
    admin = login_as("admin")
    response = client.post(f"/admin/users/{admin.id}/active", follow_redirects=True)
    assert "The last active admin cannot be deactivated." in response.get_data(as_text=True)
    db.session.refresh(admin)
    assert admin.is_active
    assert client.get("/admin/").status_code == 200


def test_an_admin_can_be_deactivated_while_another_remains(client, login_as, db):
    other = factories.make_user("admin")
    login_as("admin")
    client.post(f"/admin/users/{other.id}/active")
    db.session.refresh(other)
    assert not other.is_active


def test_admin_marks_a_doctors_licence_verified(client, login_as, db):
    doctor = factories.make_user("doctor")
    doctor.doctor_profile.is_verified = False
    doctor.doctor_profile.verified_at = None
    login_as("admin")
    page = client.get(f"/admin/users/{doctor.id}").get_data(as_text=True)
    assert "Mark licence verified" in page
    response = client.post(f"/admin/users/{doctor.id}/verify-doctor", follow_redirects=True)
    assert "licence is marked as verified." in response.get_data(as_text=True)
    db.session.refresh(doctor.doctor_profile)
    assert doctor.doctor_profile.is_verified
    assert doctor.doctor_profile.verified_at is not None
    assert [e.object_id for e in _audit(db, "doctor.verified")] == [str(doctor.id)]


def test_verifying_a_non_doctor_is_refused(client, login_as, db):
    courier = factories.make_user("courier")
    login_as("admin")
    response = client.post(f"/admin/users/{courier.id}/verify-doctor", follow_redirects=True)
    assert "licence can be verified." in response.get_data(as_text=True)
    assert _audit(db, "doctor.verified") == []


def test_users_list_filters_by_role_and_search_text(client, login_as, db):
    factories.make_user("doctor", display_name="Dr Marigold")
    factories.make_patient(display_name="Patient Juniper", email="juniper@clinic.example")
    login_as("admin")
    doctors = client.get("/admin/users?role=doctor").get_data(as_text=True)
    assert "Dr Marigold" in doctors and "Patient Juniper" not in doctors
    found = client.get("/admin/users?q=JUNIPER").get_data(as_text=True)
    assert "Patient Juniper" in found and "Dr Marigold" not in found
    by_email = client.get("/admin/users?q=juniper@clinic").get_data(as_text=True)
    assert "Patient Juniper" in by_email
    nobody = client.get("/admin/users?role=doctor&q=juniper").get_data(as_text=True)
    assert "No users match." in nobody


def test_opening_a_patients_account_is_audited(client, login_as, db):
    patient = factories.make_patient(display_name="Audited Patient")
    doctor = factories.make_user("doctor")
    admin = login_as("admin")
    assert "Audited Patient" in client.get(f"/admin/users/{patient.id}").get_data(as_text=True)
    client.get(f"/admin/users/{doctor.id}")  # a staff account is not patient data
    [event] = _audit(db, "patient.account.viewed")
    assert (event.patient_id, event.actor_id, event.object_id) == (patient.id, admin.id, str(patient.id))


def test_unknown_user_page_is_not_found(client, login_as):
    login_as("admin")
    assert client.get("/admin/users/999999").status_code == 404


def test_non_admins_cannot_open_admin_pages(client, login_as):
    login_as("pharmacist")
    assert client.get("/admin/").status_code == 403
    response = client.post("/admin/users/new", data=_staff_form("admin", "sneaky@clinic.example"))
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("locale", "dashboard_text", "store_name", "city"),
    [("en", "Operations dashboard", "Harbour Street Pharmacy", "Ningbo"),
     ("zh", "运营工作台", "港湾街药房", "宁波")],
)
def test_dashboard_and_stores_pages_in_english_and_chinese(client, login_as, db, locale,
                                                          dashboard_text, store_name, city):
    factories.make_store(name_en="Harbour Street Pharmacy", name_zh="港湾街药房", city="Ningbo")
    login_as("admin", locale=locale)
    dashboard = client.get("/admin/")
    assert dashboard.status_code == 200
    assert dashboard_text in dashboard.get_data(as_text=True)
    stores = client.get("/admin/stores")
    page = stores.get_data(as_text=True)
    assert stores.status_code == 200
    assert store_name in page and city in page
    assert ("门店" in page) is (locale == "zh")
