"""Check fixtures: drug facts straight from the shipped catalogue, the shipped knowledge base, and a
consultation whose doctor can sign real prescriptions."""

from decimal import Decimal
from types import SimpleNamespace

import pytest

from app.checks import adapters, knowledge, loader
from app.checks.engine import ActiveMedication, Line, MedicationSource
from app.drugs import catalogue
from app.drugs import services as drugs
from app.prescribing.models import Frequency
from tests.consultations.conftest import flow  # noqa: F401  (fixture)
from tests.payments.conftest import deliver, stripe_client  # noqa: F401  (fixtures)
from tests.prescribing.conftest import load_shipped_rows


def _shipped_facts() -> dict:
    """Every catalogue row parsed by the same validator the loader uses, so the facts are the real ones."""
    header, rows = catalogue.read_csv(drugs.SHIPPED_CATALOGUE.read_text(encoding="utf-8"))
    assert catalogue.check_header(header) == []
    facts = {}
    for line, raw in rows:
        values, errors = catalogue.parse_row(raw)
        assert errors == {}, (line, errors)
        facts[values["code"]] = adapters.facts_from_values(values)
    return facts


SHIPPED = _shipped_facts()


@pytest.fixture(scope="session")
def facts() -> dict:
    return SHIPPED


@pytest.fixture(scope="session")
def kb() -> knowledge.KnowledgeBase:
    return loader.get()


def line(code: str, dose, unit: str = "mg", frequency: str = "QD", days: int = 7, *, position: int = 1,
         max_doses_per_day: int | None = None) -> Line:
    return Line(drug=SHIPPED[code], dose=Decimal(str(dose)), dose_unit=unit, frequency=Frequency(frequency),
                duration_days=days, max_doses_per_day=max_doses_per_day, position=position)


def taking(code: str, source: str = "dispensing", reference: str = "dispensing 41") -> ActiveMedication:
    return ActiveMedication(drug=SHIPPED[code], source=MedicationSource(source), reference=reference)


# ---- the database: catalogue rows loaded the way seed-demo loads them --------------------------------

DB_CODES = ("WARFARIN-2.5MG-TAB", "CAPECITABINE-500MG-TAB", "SIMVASTATIN-20MG-TAB",
            "CLARITHROMYCIN-250MG-TAB", "AMOXICILLIN-250MG-CAP", "CEFUROXIME-AXETIL-250MG-TAB",
            "AMLODIPINE-5MG-TAB", "METFORMIN-500MG-TAB")


@pytest.fixture
def stocked(db):
    return load_shipped_rows(db, DB_CODES)


@pytest.fixture
def visit(flow, stocked):  # noqa: F811
    """An accepted consultation: its doctor, patient and verified condition, and the stocked drugs."""
    consultation = flow.accepted()
    return SimpleNamespace(consultation=consultation, doctor=consultation.doctor,
                           patient=consultation.patient, condition=consultation.condition, drugs=stocked)


@pytest.fixture
def whole_catalogue(db):
    drugs.load_shipped_catalogue()
    db.session.commit()
