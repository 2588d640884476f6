"""Factories for tests: make_user(), make_patient(), make_store(); invented people only."""

import itertools
from functools import lru_cache

from app.accounts.models import CourierProfile, DoctorProfile, PharmacistProfile, Role, User
from app.accounts.passwords import hash_password
from app.database import utcnow
from app.extensions import db
from app.inventory.models import Store

PASSWORD = "Quiet-Harbour-4821"
_sequence = itertools.count(1)


@lru_cache(maxsize=1)
def password_hash() -> str:
    return hash_password(PASSWORD)  # argon2 is slow on purpose: hash once per run


def make_store(**fields) -> Store:
    n = next(_sequence)
    values = dict(code=f"T{n:03d}", name_en=f"Test Store {n}", name_zh=f"测试门店{n}", city="Shanghai",
                  address=f"{n} Test Road", is_cold_chain_capable=True)
    values.update(fields)
    store = Store(**values)
    db.session.add(store)
    db.session.flush()
    return store


def make_user(role: Role | str = Role.PATIENT, **fields) -> User:
    role = Role(role)
    n = next(_sequence)
    values = dict(
        role=role,
        email=f"{role}{n}@example.com",
        phone=f"+86139{n:08d}",
        phone_verified_at=utcnow(),
        password_hash=password_hash(),
        display_name=f"Test {role} {n}",
        locale="en",
    )
    values.update(fields)
    user = User(**values)
    db.session.add(user)
    db.session.flush()
    if role == Role.DOCTOR:
        db.session.add(DoctorProfile(user=user, licence_number=f"DOC{n:06d}", department="Cardiology",
                                     is_verified=True, verified_at=utcnow()))
    elif role == Role.PHARMACIST:
        db.session.add(PharmacistProfile(user=user, licence_number=f"PHA{n:06d}",
                                         home_store_id=make_store().id))
    elif role == Role.COURIER:
        db.session.add(CourierProfile(user=user))
    db.session.flush()
    return user


def make_patient(**fields) -> User:
    return make_user(Role.PATIENT, **fields)
