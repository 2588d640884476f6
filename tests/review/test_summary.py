"""The review page's patient summary and queue rows: what they print, read from plain columns, agrees
with the checks' own reading of the record and with the claim rules."""

import html
from datetime import date, timedelta

from app.checks import adapters
from app.database import utcnow
from app.extensions import db as _db
from app.patients import catalog
from app.patients.models import Allergy, AllergyKind, Severity
from app.prescribing.services import local_date
from app.review import queries, summary
from app.review import services as review
from tests.patients.conftest import make_profile
from tests.review.conftest import AMLODIPINE, METHOTREXATE_DAILY

METFORMIN = ("METFORMIN-500MG-TAB", dict(dose="500"))


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _record(visit, wang, sign):
    """A patient born 1950 with three allergies (one no longer active), taking amlodipine, with a
    returned prescription (not taken) and a new one waiting for review."""
    patient = visit.patient
    make_profile(patient, date_of_birth=date(1950, 6, 1))
    for kind, substance, severity, active in ((AllergyKind.CLASS, "statins", Severity.SEVERE, True),
                                              (AllergyKind.DRUG, "Penicillin", Severity.MILD, True),
                                              (AllergyKind.DRUG, "Aspirin", Severity.MODERATE, False)):
        _db.session.add(Allergy(patient_id=patient.id, kind=kind, substance=substance, severity=severity,
                                recorded_by_id=patient.id, is_active=active))
    _db.session.commit()
    taking = sign(AMLODIPINE)
    dropped = sign(("NIFEDIPINE-30MG-CRTAB", dict(dose="30")))
    review.claim(dropped, wang)
    review.decide(dropped, wang, "returned", reason_codes=["drug_choice"])
    _db.session.commit()
    return taking, sign(METFORMIN)


def test_the_summary_reads_the_record_as_the_checks_do(db, sign, pharmacists, visit):
    _taking, current = _record(visit, pharmacists[0], sign)
    checks = adapters.build_context(current.patient, exclude=current)
    shown = summary.for_review(current, queries.earlier_versions(current))
    assert (shown.age, shown.sex) == (checks.age, checks.sex) and shown.sex == "female"
    assert [(str(a.kind), a.substance, str(a.severity)) for a in shown.allergies] \
        == [(a.kind, a.substance, a.severity) for a in checks.allergies]
    assert [a.substance for a in shown.allergies] == ["statins", "Penicillin"]
    assert [(m.drug.code, m.source, m.reference, m.last_day) for m in shown.active_medications] \
        == [(m.drug.code, m.source, m.reference, m.last_day) for m in checks.active_medications]
    # Not the returned one, nor itself.
    assert [m.drug.generic_name_en for m in shown.active_medications] == ["Amlodipine"]


def test_the_review_page_shows_allergies_and_what_the_patient_takes_now(db, sign, pharmacists, visit,
                                                                       as_user):
    taking, current = _record(visit, pharmacists[0], sign)
    page = text(as_user(pharmacists[1]).get(f"/reviews/{current.id}"))
    allergies = page.split('id="review-allergies">')[1].split("</dd>")[0]
    assert allergies == "Statins (Severe); Penicillin (Mild)"
    active = page.split('id="review-active">')[1].split("</ul>")[0]
    signed_on = local_date(taking.signed_at)
    last_day = signed_on + timedelta(days=taking.items[0].days_supply - 1)
    assert " ".join(active.split()) == (
        f'<li data-drug="AMLODIPINE-5MG-TAB" data-source="prescription" data-last-day="{last_day}">'
        f"<strong>Amlodipine 5 mg · Tablet</strong> · prescribed on {signed_on}, "
        f"supply until {last_day}</li>")
    assert "Metformin" not in active and "Nifedipine" not in active
    assert "years old" in page and "Female" in page


def test_the_queue_names_patient_doctor_diagnosis_and_a_live_claim_only(db, sign, pharmacists, visit,
                                                                        as_user):
    wang, zhao = pharmacists
    held, abandoned, free = sign(AMLODIPINE), sign(AMLODIPINE), sign(AMLODIPINE, METFORMIN)
    review.claim(held, wang)
    review.claim(abandoned, wang, now=utcnow() - timedelta(minutes=review.CLAIM_MINUTES + 1))
    _db.session.commit()
    page = text(as_user(zhao).get("/reviews/"))
    rows = {p: page.split(f'data-prescription-id="{p.id}"')[1].split("</a>")[0]
            for p in (held, abandoned, free)}
    assert f'data-held-by="{wang.id}"' in rows[held] and "being reviewed by Pharmacist Wang" in rows[held]
    assert "data-held-by" not in rows[abandoned] and "data-held-by" not in rows[free]
    assert visit.patient.display_name in rows[free] and visit.doctor.display_name in rows[free]
    assert "2 drugs" in rows[free] and "1 drug" in rows[held]
    assert catalog.icd10_name(visit.condition.icd10_code, "en", visit.condition.name) in rows[free]


def test_the_queue_names_severities_and_diagnoses_in_chinese(db, sign, pharmacists, visit, as_user):
    flagged = sign(METHOTREXATE_DAILY)
    zhao = pharmacists[1]
    zhao.locale = "zh"
    _db.session.commit()
    page = text(as_user(zhao).get("/reviews/"))
    row = page.split(f'data-prescription-id="{flagged.id}"')[1].split("</a>")[0]
    assert 'data-severity="contraindicated"' in row and "禁忌" in row and "Contraindicated" not in row
    assert catalog.icd10_name(visit.condition.icd10_code, "zh", visit.condition.name) in row
