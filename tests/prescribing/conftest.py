"""Prescribing fixtures: drugs from the shipped catalogue, an accepted consultation, a draft."""

from types import SimpleNamespace

import pytest
from sqlalchemy import select

from app.drugs import services as drugs
from app.drugs.models import Drug
from app.extensions import db as _db
from app.prescribing import services as rx
from app.review import services as review
from tests import factories
from tests.consultations.conftest import flow  # noqa: F401  (fixture)
from tests.payments.conftest import deliver, stripe_client  # noqa: F401  (fixtures)

# Only the rows the tests use, straight from the shipped file, so the facts are the real ones.
CODES = ("AMLODIPINE-5MG-TAB", "METHOTREXATE-2.5MG-TAB", "INSULIN-GLARGINE-300IU-PEN", "SALBUTAMOL-100UG-INH",
         "LIRAGLUTIDE-18MG-PEN", "OXYCODONE-10MG-SRTAB", "DIAZEPAM-2.5MG-TAB", "METFORMIN-500MG-TAB",
         "NIFEDIPINE-30MG-CRTAB")


def load_shipped_rows(db, codes) -> dict:
    """Load only these rows of the shipped catalogue (fast), as the import would; by code."""
    lines = drugs.SHIPPED_CATALOGUE.read_text(encoding="utf-8").splitlines()
    rows = [line for line in lines[1:] if line.split(",", 1)[0] in codes]
    assert len(rows) == len(codes)
    drugs.load_csv_text("\n".join([lines[0], *rows]) + "\n", source="test")
    db.session.commit()
    return {drug.code: drug for drug in db.session.scalars(select(Drug).where(Drug.code.in_(codes)))}


@pytest.fixture
def catalogue_drugs(db):
    return load_shipped_rows(db, CODES)


@pytest.fixture
def visit(flow, catalogue_drugs):  # noqa: F811
    """An accepted consultation: its doctor, patient, verified condition, and the test drugs."""
    consultation = flow.accepted()
    return SimpleNamespace(consultation=consultation, doctor=consultation.doctor,
                           patient=consultation.patient, condition=consultation.condition,
                           drugs=catalogue_drugs, flow=flow)


@pytest.fixture
def draft(visit):
    prescription = rx.start(visit.consultation, visit.doctor, condition_id=visit.condition.id)
    _db.session.commit()
    return prescription


def item(prescription, doctor, drugs_by_code, code="AMLODIPINE-5MG-TAB", **sig):
    values = dict(dose="5", dose_unit="mg", frequency="QD", duration_days=7)
    values.update(sig)
    return rx.add_item(prescription, doctor, drug_id=drugs_by_code[code].id, **values)


def sign_and_submit(prescription, doctor, password=factories.PASSWORD, reason: str = ""):
    """Sign and submit for review, as the sign page does (one step for the doctor)."""
    return review.submit(rx.sign(prescription, doctor, password), reason)
