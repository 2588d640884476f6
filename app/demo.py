"""Demo data: three stores in three cities and one account per role (all invented)."""

from sqlalchemy import select

from app.accounts import services as accounts
from app.accounts.models import Role, User
from app.database import utcnow
from app.extensions import db
from app.inventory.models import Store

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
    db.session.flush()
    return logins
