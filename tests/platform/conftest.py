"""Platform fixtures: a patient with a full identity who shares data, medicines handed over through the
real services (tests/sms `receive`), and the reference receiver on 127.0.0.1 with the app pointed at it."""

from datetime import date

import pytest
from sqlalchemy import select

from app.extensions import db as _db
from app.outbox.models import OutboxEvent
from app.patients.models import Address, ConsentKind, PatientProfile, Sex
from app.patients.services import grant_consent
from app.platform.receiver import make_receiver, start_in_thread
from tests.sms.conftest import (  # noqa: F401  (fixtures)
    AMLODIPINE,
    METFORMIN_BID,
    approve,
    as_user,
    catalogue_drugs,
    coded,
    deliver,
    flow,
    ordering,
    pharmacists,
    receive,
    shop,
    sign,
    stripe_client,
    texted,
    visit,
)

# Invented identity, with values a PII scan can look for.
LEGAL_NAME = "Zhao Xiaoling"
ID_NUMBER = "11010519491231002X"
BIRTH_DATE = date(1949, 12, 31)
STREET = "17 Plum Blossom Road, Room 1203"
PUSH_SECRET = "platform-push-secret-for-tests"
LINKAGE_KEY = "platform-linkage-key-for-tests"


def give_identity(patient, *, birth_date: date = BIRTH_DATE, id_number: str = ID_NUMBER,
                  province: str = "浙江省", name: str = LEGAL_NAME) -> None:
    _db.session.add(PatientProfile(user_id=patient.id, legal_name=name, sex=Sex.FEMALE,
                                   date_of_birth=birth_date, id_document_number=id_number))
    _db.session.add(Address(patient_id=patient.id, recipient=name, phone=patient.phone, province=province,
                            city="Hangzhou", street=STREET, postal_code="310000", is_default=True))
    _db.session.flush()


def share(patient, *, linkage: bool = True) -> None:
    grant_consent(patient, ConsentKind.DATA_SHARING)
    if linkage:
        grant_consent(patient, ConsentKind.RECORD_LINKAGE)
    _db.session.commit()


@pytest.fixture
def sharing(visit, app, monkeypatch):  # noqa: F811
    """The visit's patient, with a profile, an address and both data consents."""
    monkeypatch.setitem(app.config, "PLATFORM_LINKAGE_KEY", LINKAGE_KEY)
    give_identity(visit.patient)
    share(visit.patient)
    return visit.patient


def events(event_type: str | None = None) -> list[OutboxEvent]:
    statement = select(OutboxEvent).order_by(OutboxEvent.id)
    if event_type:
        statement = statement.where(OutboxEvent.event_type == event_type)
    return list(_db.session.scalars(statement))


@pytest.fixture
def receiver(app, monkeypatch, tmp_path):
    """The reference receiver in a thread on 127.0.0.1 (its own SQLite file), and the app pushing to it
    with retries a few milliseconds apart: `.store` (what arrived), `.stats()`, `.set_faults()`."""
    platform = make_receiver(f"sqlite:///{tmp_path / 'received.sqlite3'}", PUSH_SECRET)
    server = start_in_thread(platform)
    for key, value in {"PLATFORM_PUSH_URL": server.url, "PLATFORM_PUSH_SECRET": PUSH_SECRET,
                       "PLATFORM_RETRY_BASE_SECONDS": 0.01, "PLATFORM_MAX_BACKOFF_SECONDS": 0.05}.items():
        monkeypatch.setitem(app.config, key, value)
    platform.url = server.url
    yield platform
    server.stop()
    platform.close()


def made_up_dispense(key: str, *, units: int = 28) -> dict:
    """A valid MedicationDispense for an invented pseudonymous patient, for tests that need many events
    without the whole ordering flow."""
    from datetime import UTC, datetime
    from decimal import Decimal

    from app.platform import fhir
    from app.platform.deidentify import PatientFacts

    moment = datetime(2026, 11, 2, 3, 0, tzinfo=UTC)
    return fhir.medication_dispense(fhir.DispenseFacts(
        key=key, status="completed",
        patient=PatientFacts("0" * 32, "female", "1960", "33", None),
        product=fhir.Product("AMLODIPINE-5MG-TAB", "C08CA01", "Amlodipine 5 mg",
                             (fhir.Lot("LOT-1", date(2027, 12, 31), units),)),
        dispense_id="1" * 32 + "-1", store_code="SH1", pharmacist_token="2" * 32, prescriber_token="3" * 32,
        prescription_token="4" * 32, units=units, unit="tablet", days_supply=units, prepared_at=moment,
        handed_over_at=moment,
        sig=fhir.Sig(Decimal("5"), "mg", "QD", "oral", units, "5 mg QD ×28d")))


def made_up_rows(count: int, *, start: int = 0, patient_id: int | None = None) -> list[dict]:
    """`count` outbox rows of made-up dispenses, each with its own source and idempotency key."""
    import uuid

    from app.outbox.services import event_row

    rows = []
    for n in range(start, start + count):
        key = str(uuid.uuid4())
        rows.append(event_row("medication.dispensed", "order_lines", n + 1, patient_id, made_up_dispense(key),
                              source_key=f"test:{n}", key=key))
    return rows
