"""The patient record on the doctor's consultation page: verified diagnoses, past consultations with the
other doctor's note, prescriptions with their lines, newest first and limited (at, below and above)."""

import re

import pytest

from app.consultations import record
from app.consultations import services as consultations
from app.extensions import db as _db
from app.patients.models import ConditionStatus
from tests.review.conftest import (  # noqa: F401  (fixtures)
    AMLODIPINE,
    as_user,
    catalogue_drugs,
    deliver,
    flow,
    pharmacists,
    sign,
    stripe_client,
    visit,
)


def _section(page: str, section_id: str) -> str:
    return page.split(f'id="{section_id}"')[1].split("</ul>\n")[0]


def _record_page(as_user, visit) -> str:  # noqa: F811
    response = as_user(visit.doctor).get(f"/consultations/{visit.consultation.id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_the_record_shows_diagnoses_past_visits_and_prescriptions(db, as_user, visit, sign, flow):  # noqa: F811
    patient = visit.patient
    flow.condition(patient, icd10_code="I10", name="Essential hypertension", hospital="Ruijin Hospital")
    flow.condition(patient, status=ConditionStatus.PENDING, icd10_code="J45.9", name="Asthma")
    earlier = flow.accepted(patient=patient, condition=visit.condition,
                            doctor=flow.doctor(display_name="Dr. Earlier Zhou"))
    consultations.save_note(earlier, earlier.doctor, complaint="Thirsty", findings="FPG 7.9",
                            assessment="Diabetes, improving", plan="Continue metformin")
    consultations.complete(earlier, earlier.doctor)
    flow.book(patient=patient, condition=visit.condition)  # never paid: not clinical history
    _db.session.commit()
    prescription = sign(AMLODIPINE)

    page = _record_page(as_user, visit)
    conditions = _section(page, "record-conditions")
    assert "Essential (primary) hypertension (I10)" in conditions and "Ruijin Hospital" in conditions
    assert "J45.9" not in conditions  # a diagnosis not yet verified
    past = page.split('id="record-past"')[1].split("</section>")[0]
    assert past.count("<li>") == 1  # the earlier visit: neither this one nor the unpaid booking
    assert "Dr. Earlier Zhou" in past and "Diabetes, improving" in past and "Continue metformin" in past
    prescriptions = _section(page, "record-prescriptions")
    assert f'data-prescription-id="{prescription.id}"' in prescriptions
    assert visit.doctor.display_name in prescriptions and "5 mg QD ×7d" in prescriptions
    assert "1 pack of 28 tablets, enough for 28 days" in prescriptions


@pytest.mark.parametrize("signed", [1, 2, 3])
def test_the_record_lists_the_newest_prescriptions_up_to_its_limit(db, as_user, visit, sign,  # noqa: F811
                                                                   monkeypatch, signed):
    monkeypatch.setattr(record, "PRESCRIPTIONS_SHOWN", 2)
    made = [sign(AMLODIPINE) for _ in range(signed)]
    listed = re.findall(r'data-prescription-id="(\d+)"', _section(_record_page(as_user, visit),
                                                                   "record-prescriptions"))
    assert [int(found) for found in listed] == [p.id for p in reversed(made)][:2]


@pytest.mark.parametrize("past", [1, 2, 3])
def test_the_record_lists_the_newest_past_visits_up_to_its_limit(db, visit, flow,  # noqa: F811
                                                                 monkeypatch, past):
    monkeypatch.setattr(record, "PAST_SHOWN", 2)
    made = [flow.paid(patient=visit.patient, condition=visit.condition, reason=f"Visit number {n}")
            for n in range(past)]
    shown = record.patient_record(visit.consultation, made[0].created_at.date()).past
    assert [visit.created_at for visit in shown] == sorted((c.created_at for c in made), reverse=True)[:2]
