"""Finding 10: names and file names lose the invisible characters that make text read as something it
is not (right-to-left overrides, isolates, zero-width and control characters), wherever they come in."""

import io

from sqlalchemy import select

from app.accounts.models import Role, User
from app.consultations import services as consultations
from app.patients.models import Address, Condition, PatientProfile, Upload
from tests import factories
from tests.consultations.conftest import PNG, as_user, flow, upload_file  # noqa: F401  (fixtures)
from tests.patients.conftest import PDF, make_profile
from tests.payments.conftest import deliver, stripe_client  # noqa: F401  (fixtures)

# Right-to-left override and pop, a first-strong isolate, an RLM, the Arabic letter mark, NUL, ESC,
# a C1 control, a zero-width space and a BOM: none of them visible, all of them able to mislead.
HIDDEN = "\u202e\u202c\u2068\u200f\u061c\x00\x1b\x9b\u200b\ufeff"


def hide(text: str) -> str:
    """`text` with the hidden characters pushed between its letters."""
    return HIDDEN.join(text)


def fresh(db, model, **where):
    db.session.expire_all()
    return db.session.scalars(select(model).filter_by(**where)).one()


def test_finding_10_a_registered_name_loses_direction_overrides_and_controls(client, db):
    response = client.post("/accounts/register", data=dict(
        display_name=hide("Li Wei"), email="li.wei.names@example.com", phone="",
        password=factories.PASSWORD, confirm=factories.PASSWORD, locale="en"))
    assert response.status_code in (302, 303)
    assert fresh(db, User, email="li.wei.names@example.com").display_name == "Li Wei"


def test_finding_10_a_name_made_only_of_invisible_characters_is_refused(client, db):
    response = client.post("/accounts/register", data=dict(
        display_name=HIDDEN, email="nobody.names@example.com", phone="",
        password=factories.PASSWORD, confirm=factories.PASSWORD, locale="en"))
    assert response.status_code == 200
    assert "This field is required." in response.get_data(as_text=True)
    assert db.session.scalar(select(User).where(User.email == "nobody.names@example.com")) is None


def test_finding_10_a_staff_name_typed_by_an_admin_is_cleaned(client, login_as, db):
    login_as(Role.ADMIN)
    response = client.post("/admin/users/new", data=dict(
        role="courier", display_name=hide("Zhao Rider"), email="rider.names@clinic.example", phone="",
        password="Lantern-Orchard-5710", locale="en", licence_number="", department="", home_store_id="0"))
    assert response.status_code == 302
    assert fresh(db, User, email="rider.names@clinic.example").display_name == "Zhao Rider"


def test_finding_10_the_patients_legal_name_address_and_hospital_are_cleaned(db, person):
    web, patient = person("patient")
    web.post("/patients/profile", data=dict(legal_name=hide("Wang Fang"), sex="female",
                                            date_of_birth="1970-03-14", id_document_number="",
                                            time_zone="Asia/Shanghai"))
    assert fresh(db, PatientProfile, user_id=patient.id).legal_name == "Wang Fang"

    web.post("/patients/addresses", data=dict(
        recipient=hide("Wang Fang"), phone="138 0013 8000", province="Shanghai", city="Shang\u2067hai\u2069",
        district="Xuhui", street="88 Tianyaoqiao\u202e Road", postal_code="200030"))
    address = fresh(db, Address, patient_id=patient.id)
    assert (address.recipient, address.city, address.street) == (
        "Wang Fang", "Shanghai", "88 Tianyaoqiao Road")

    response = web.post("/patients/conditions", data=dict(
        icd10_code="E11.9", hospital=hide("Ruijin Hospital"), diagnosed_on="2021-09-15",
        proof=(io.BytesIO(PDF), "discharge\u202efdp.pdf")), content_type="multipart/form-data")
    assert response.status_code == 302
    condition = fresh(db, Condition, patient_id=patient.id)
    assert condition.hospital == "Ruijin Hospital"
    assert fresh(db, Upload, id=condition.proof_upload_id).original_name == "dischargefdp.pdf"
    page = web.page("/patients/conditions")
    assert "Ruijin Hospital" in page and "\u202e" not in page


def test_a_file_named_to_read_backwards_is_judged_by_its_real_extension(db, person):
    web, patient = person("patient")
    make_profile(patient)
    db.session.commit()
    # Shown as "scan_fdp.exe" reversed, i.e. "scan_exe.pdf"; really an .exe name.
    response = web.post("/patients/conditions", data=dict(
        icd10_code="E11.9", hospital="Ruijin Hospital", diagnosed_on="2021-09-15",
        proof=(io.BytesIO(PDF), "scan_\u202efdp.exe")), content_type="multipart/form-data")
    assert response.status_code == 200
    assert "Only PDF, JPEG and PNG files are accepted." in response.get_data(as_text=True)


def test_finding_10_a_file_sent_in_a_consultation_keeps_a_clean_name(db, flow, as_user):  # noqa: F811
    consultation = flow.accepted()
    message = consultations.post_message(consultation, consultation.patient, "",
                                         upload_file(PNG, "C:\\photos\\bp\u202e\u2066gnp.png"))
    db.session.commit()
    assert message.upload.original_name == "bpgnp.png"
    thread = as_user(consultation.doctor).get(f"/consultations/{consultation.id}").get_data(as_text=True)
    assert "bpgnp.png" in thread and "\u202e" not in thread
