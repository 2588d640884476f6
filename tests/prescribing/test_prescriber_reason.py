"""A doctor signs a prescription with a major or contraindicated finding only with a written reason,
kept with the finding and shown to the pharmacist; a moderate or minor finding needs none."""

import html
import re

import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.errors import DomainError
from app.prescribing.models import Prescription
from app.prescribing.states import PrescriptionStatus
from app.review.models import CheckFinding
from tests import factories
from tests.consultations.conftest import as_user  # noqa: F401  (fixture)
from tests.prescribing.conftest import item, sign_and_submit

S = PrescriptionStatus
REASON = "Benefit outweighs the risk; the patient knows to report mouth ulcers."
# Methotrexate once a day is contraindicated (it must be weekly); 1,500 mg metformin twice a day is
# above its maximum daily dose (major); amlodipine with nifedipine is duplicate therapy (moderate).
DAILY_METHOTREXATE = dict(code="METHOTREXATE-2.5MG-TAB", dose="10", dose_unit="mg", frequency="QD")
METFORMIN_TOO_MUCH = dict(code="METFORMIN-500MG-TAB", dose="1500", dose_unit="mg", frequency="BID")


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _add(draft, visit, code, **sig):
    item(draft, visit.doctor, visit.drugs, code, **sig)


@pytest.mark.parametrize("line", [DAILY_METHOTREXATE, METFORMIN_TOO_MUCH], ids=["contraindicated", "major"])
def test_a_major_or_contraindicated_finding_is_not_signed_without_a_reason(db, visit, draft, line):
    _add(draft, visit, **line)
    db.session.commit()
    for missing in ("", "   "):
        with pytest.raises(DomainError) as refused:
            sign_and_submit(draft, visit.doctor, reason=missing)
        assert "your reason" in str(refused.value.reasons["prescriber_reason"])
        db.session.rollback()  # as the page does: nothing of the signature is kept
        assert db.session.get(Prescription, draft.id).status == S.DRAFT


@pytest.mark.parametrize("line", [DAILY_METHOTREXATE, METFORMIN_TOO_MUCH], ids=["contraindicated", "major"])
def test_the_reason_is_kept_with_each_serious_finding(db, visit, draft, line):
    _add(draft, visit, **line)
    sign_and_submit(draft, visit.doctor, reason=f"  {REASON}  ")
    db.session.commit()
    findings = db.session.scalars(select(CheckFinding).where(CheckFinding.prescription_id == draft.id)).all()
    serious = [f for f in findings if f.severity in ("major", "contraindicated")]
    assert serious and all(f.prescriber_reason == REASON for f in serious)
    assert all(f.prescriber_reason is None for f in findings if f not in serious)
    assert draft.status == S.AWAITING_REVIEW


def test_a_moderate_finding_needs_no_reason(db, visit, draft):
    _add(draft, visit, "AMLODIPINE-5MG-TAB")
    _add(draft, visit, "NIFEDIPINE-30MG-CRTAB", dose="30")
    sign_and_submit(draft, visit.doctor)
    findings = draft.findings
    assert findings and {f.severity for f in findings} <= {"moderate", "minor"}
    assert draft.status == S.AWAITING_REVIEW and all(f.prescriber_reason is None for f in findings)


def test_a_reason_longer_than_2000_characters_is_refused(db, visit, draft):
    _add(draft, visit, **DAILY_METHOTREXATE)
    db.session.commit()
    with pytest.raises(DomainError) as refused:
        sign_and_submit(draft, visit.doctor, reason="x" * 2001)
    assert "2000" in str(refused.value.reasons["prescriber_reason"])
    db.session.rollback()
    sign_and_submit(draft, visit.doctor, reason="x" * 2000)
    assert {f.prescriber_reason for f in draft.findings if f.severity == "contraindicated"} == {"x" * 2000}


def test_the_sign_page_asks_for_the_reason_and_refuses_on_the_field(db, visit, draft, as_user):  # noqa: F811
    _add(draft, visit, **DAILY_METHOTREXATE)
    db.session.commit()
    doctor = as_user(visit.doctor)
    page = text(doctor.get(f"/prescriptions/{draft.id}"))
    assert 'name="prescriber_reason"' in page and "Your reason for prescribing despite the findings" in page

    response = doctor.post(f"/prescriptions/{draft.id}/sign", data={"password": factories.PASSWORD})
    assert response.status_code == 400
    page = text(response)
    assert "A major or contraindicated finding can only be signed with your reason for prescribing it " \
           "anyway." in page
    assert "is-invalid" in re.search(r'<textarea[^>]*name="prescriber_reason"[^>]*>', page).group(0)
    db.session.expire_all()
    assert db.session.get(Prescription, draft.id).status == S.DRAFT
    refused = select(AuditEvent).where(AuditEvent.action == "prescription.action_refused")
    assert db.session.scalars(refused).all()

    response = doctor.post(f"/prescriptions/{draft.id}/sign",
                           data={"password": factories.PASSWORD, "prescriber_reason": REASON})
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(Prescription, draft.id).status == S.AWAITING_REVIEW


def test_a_prescription_without_serious_findings_shows_no_reason_field(db, visit, draft, as_user):  # noqa: F811
    _add(draft, visit, "AMLODIPINE-5MG-TAB")
    db.session.commit()
    page = text(as_user(visit.doctor).get(f"/prescriptions/{draft.id}"))
    assert 'name="prescriber_reason"' not in page


def test_the_pharmacist_reads_the_doctors_reason_with_the_finding(db, visit, draft, as_user):  # noqa: F811
    _add(draft, visit, **DAILY_METHOTREXATE)
    sign_and_submit(draft, visit.doctor, reason=REASON)
    pharmacist = factories.make_user("pharmacist")
    db.session.commit()
    page = text(as_user(pharmacist).get(f"/reviews/{draft.id}"))
    finding = page.split('data-severity="contraindicated"')[1].split("</li>")[0]
    assert "Prescriber's reason" in finding and REASON in finding

    pharmacist.locale = "zh"
    db.session.commit()
    assert "医生理由" in text(as_user(pharmacist).get(f"/reviews/{draft.id}"))
