"""Demo data (all invented): three stores with stock, one account per role, a verified condition; the
drug catalogue; the demo patient's orders in each state (app/demo_orders.py)."""

from datetime import date, timedelta
from decimal import Decimal
from io import BytesIO

from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from app.accounts import services as accounts
from app.accounts.models import Role, User
from app.database import utcnow
from app.demo_orders import seed_demo_orders
from app.drugs.models import Drug
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
# Filled in only where a store has none yet (an admin's later edits are kept).
STORE_DETAILS = {
    "SH01": dict(latitude=Decimal("31.188000"), longitude=Decimal("121.437000"),
                 delivery_radius_km=Decimal(30), opening_hours="Mon–Sun 08:30–21:00",
                 cities=("Shanghai", "Suzhou")),
    "BJ01": dict(latitude=Decimal("39.959000"), longitude=Decimal("116.298000"),
                 delivery_radius_km=Decimal(25), opening_hours="Mon–Sat 09:00–19:00", cities=("Beijing",)),
    "GZ01": dict(latitude=Decimal("23.135000"), longitude=Decimal("113.327000"), delivery_radius_km=None,
                 opening_hours="Mon–Fri 09:00–18:00", cities=("Guangzhou", "Foshan")),
}
# (catalogue code, packs) received into each store that has no stock yet; lots and costs invented.
DEMO_STOCK = [("AMLODIPINE-5MG-TAB", 40), ("METFORMIN-500MG-TAB", 60), ("ATORVASTATIN-20MG-TAB", 30),
              ("LOSARTAN-50MG-TAB", 30), ("CAPECITABINE-500MG-TAB", 6), ("IMATINIB-100MG-TAB", 4),
              ("TAMOXIFEN-10MG-TAB", 10), ("INSULIN-GLARGINE-300IU-PEN", 20)]

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
    seed_demo_consents()
    seed_demo_stock(stores, next(u for u in db.session.scalars(select(User).where(User.role == Role.ADMIN))))
    seed_demo_orders(DEMO_PASSWORD, demo_proof_pdf(b"type 2 diabetes mellitus, E11.9"))
    return logins


def seed_demo_stock(stores: dict[str, Store], admin: User) -> None:
    """Locations, delivery areas and a few lots per store (two expiries each), once per store."""
    from app.inventory import services as inventory  # after the catalogue is loaded
    from app.inventory.models import StockLot, StoreServiceCity

    for code, store in stores.items():
        details = STORE_DETAILS[code]
        if store.latitude is None:
            store.latitude, store.longitude = details["latitude"], details["longitude"]
            store.delivery_radius_km = details["delivery_radius_km"]
        store.opening_hours = store.opening_hours or details["opening_hours"]
        if not store.service_cities:
            store.service_cities = [StoreServiceCity(city=city) for city in details["cities"]]
        db.session.flush()
        if db.session.scalar(select(StockLot.id).where(StockLot.store_id == store.id).limit(1)):
            continue
        today = utcnow().date()
        for number, (drug_code, packs) in enumerate(DEMO_STOCK, start=1):
            drug = db.session.scalar(select(Drug).where(Drug.code == drug_code))
            if drug is None or (drug.is_cold_chain and not store.is_cold_chain_capable):
                continue
            # An invented product code, so the demo's packs can be scanned at dispensing: a pack's
            # traceability code is this and 13 more digits.
            drug.traceability_prefix = drug.traceability_prefix or f"69{drug.id:05d}"
            for months, share in ((7, 1), (16, 2)):  # an older, smaller lot and a newer one: FEFO shows
                inventory.receive(store, drug, f"{code}-{number:02d}{months:02d}",
                                  today + timedelta(days=30 * months), max(packs * share // 3, 1),
                                  drug.price_fen * 7 // 10, admin,
                                  Decimal("5.0") if drug.is_cold_chain else None)


def demo_proof_pdf(diagnosis: bytes = b"essential hypertension, I10") -> bytes:
    """A one-page PDF standing in for an outpatient record (invented text, valid PDF syntax)."""
    text = b"BT /F1 14 Tf 72 720 Td (Demo outpatient record: " + diagnosis + b") Tj ET"
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


def seed_demo_consents() -> None:
    """The demo patient agreed to SMS, so the orders text them and the delivered one plans reminders
    (read on /sms/phone with `make run`), and to data sharing, so the medicines they receive are
    pushed, de-identified, to the local data-platform receiver."""
    from app.patients.models import ConsentKind
    from app.patients.queries import active_consent
    from app.patients.services import grant_consent

    patient = db.session.scalar(select(User).where(User.email == "patient@demo.example"))
    for kind in (ConsentKind.SMS_REMINDERS, ConsentKind.DATA_SHARING):
        if active_consent(patient, kind) is None:
            grant_consent(patient, kind)


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
