"""Demo data: three stores, one account per role, a verified condition (all invented); the drug catalogue."""

from datetime import date
from io import BytesIO

from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from app.accounts import services as accounts
from app.accounts.models import Role, User
from app.database import utcnow
from app.drugs.services import load_shipped_catalogue
from app.extensions import db
from app.inventory.models import Store
from app.patients.models import Condition, ConditionStatus, UploadPurpose
from app.patients.uploads import save_upload

DEMO_PASSWORD = "Demo-Hospital-2026"  # noqa: S105  (invented demo accounts only)

STORES = [
    dict(code="SH01", name_en="Xuhui DTP Pharmacy", name_zh="徐汇DTP药房", city="Shanghai",
         address="88 Demo Road, Xuhui District, Shanghai", is_cold_chain_capable=True),
    dict(code="BJ01", name_en="Haidian DTP Pharmacy", name_zh="海淀DTP药房", city="Beijing",
         address="12 Example Street, Haidian District, Beijing", is_cold_chain_capable=True),
    dict(code="GZ01", name_en="Tianhe DTP Pharmacy", name_zh="天河DTP药房", city="Guangzhou",
         address="5 Sample Avenue, Tianhe District, Guangzhou", is_cold_chain_capable=False),
]

ACCOUNTS = [
    dict(role=Role.PATIENT, email="patient@demo.example", phone="+8613800000001",
         display_name="Li Demo", locale="zh"),
    dict(role=Role.DOCTOR, email="doctor@demo.example", phone="+8613800000002",
         display_name="Dr. Wang Demo", locale="zh", licence_number="DOC-DEMO-0001",
         department="Cardiology"),
    dict(role=Role.PHARMACIST, email="pharmacist@demo.example", phone="+8613800000003",
         display_name="Zhao Demo", locale="zh", licence_number="PHA-DEMO-0001", store="SH01"),
    dict(role=Role.COURIER, email="courier@demo.example", phone="+8613800000004",
         display_name="Chen Demo", locale="zh", store="SH01"),
    dict(role=Role.ADMIN, email="admin@demo.example", phone="+8613800000005",
         display_name="Ops Admin Demo", locale="en"),
]


def seed_demo() -> list[tuple[str, str, str]]:
    """Create what is missing and nothing else; return (role, login, password) rows."""
    stores = {}
    for spec in STORES:
        store = db.session.scalar(select(Store).where(Store.code == spec["code"]))
        if store is None:
            store = Store(**spec)
            db.session.add(store)
            db.session.flush()
        stores[store.code] = store

    logins = []
    for spec in ACCOUNTS:
        spec = dict(spec)
        store_code = spec.pop("store", None)
        user = db.session.scalar(select(User).where(User.email == spec["email"]))
        if user is None:
            role = spec.pop("role")
            common = dict(password=DEMO_PASSWORD, **spec)
            if role == Role.PATIENT:
                user = accounts.create_account(role=role, **common)
            else:
                user = accounts.create_staff(role=role, home_store=stores.get(store_code), **common)
            user.phone_verified_at = utcnow()
            if user.doctor_profile is not None:
                user.doctor_profile.is_verified = True
                user.doctor_profile.verified_at = utcnow()
        logins.append((str(user.role), user.email, DEMO_PASSWORD))
    # Upserts by catalogue code: a second run finds every drug unchanged and writes nothing.
    load_shipped_catalogue()
    db.session.flush()
    seed_demo_condition()
    return logins


def demo_proof_pdf() -> bytes:
    """A one-page PDF standing in for an outpatient record (invented text, valid PDF syntax)."""
    text = b"BT /F1 14 Tf 72 720 Td (Demo outpatient record: essential hypertension, I10) Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(text) + text + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def seed_demo_condition() -> None:
    """The demo patient's hypertension, verified by the admin, so a consultation can be booked at once."""
    patient = db.session.scalar(select(User).where(User.email == "patient@demo.example"))
    reviewer = db.session.scalar(select(User).where(User.email == "admin@demo.example"))
    exists = db.session.scalar(select(Condition.id).where(Condition.patient_id == patient.id,
                                                          Condition.icd10_code == "I10"))
    if exists is not None:
        return
    proof = save_upload(FileStorage(BytesIO(demo_proof_pdf()), filename="outpatient-record-demo.pdf"),
                        patient=patient, uploaded_by=patient, purpose=UploadPurpose.CONDITION_PROOF)
    db.session.add(Condition(
        patient_id=patient.id, icd10_code="I10", name="Essential (primary) hypertension",
        hospital="Demo People's Hospital", diagnosed_on=date(2024, 3, 12), proof_upload_id=proof.id,
        status=ConditionStatus.VERIFIED, reviewed_by_id=reviewer.id, reviewed_at=utcnow(),
        review_note="Demo data"))
    db.session.flush()
