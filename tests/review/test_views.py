"""Review pages as pharmacists and doctors meet them: the queue, claiming, deciding, the doctor's view
of a return, refusals on the page, access and audit."""

import re

from sqlalchemy import select

from app.audit.models import AuditEvent
from app.prescribing import services as rx
from app.prescribing.states import PrescriptionStatus
from app.review import services as review
from tests import factories
from tests.prescribing.conftest import sign_and_submit
from tests.review.conftest import AMLODIPINE, METFORMIN_OVER_MAXIMUM, METHOTREXATE_DAILY

S = PrescriptionStatus


def text(response) -> str:
    return response.get_data(as_text=True)


def test_the_queue_lists_oldest_first_with_findings_count_and_worst_severity(db, sign, pharmacists, as_user):
    older = sign(METHOTREXATE_DAILY)
    newer = sign(AMLODIPINE)
    page = text(as_user(pharmacists[0]).get("/reviews/"))
    assert page.index(f'data-prescription-id="{older.id}"') < page.index(f'data-prescription-id="{newer.id}"')
    row = page.split(f'data-prescription-id="{older.id}"')[1].split("</a>")[0]
    assert 'data-severity="contraindicated"' in row and re.search(r'data-findings="[1-9]', row)
    assert "Contraindicated" in row
    clean = page.split(f'data-prescription-id="{newer.id}"')[1].split("</a>")[0]
    assert 'data-findings="0"' in clean and "data-severity" not in clean


def test_claiming_on_the_page_shows_the_decision_form_and_others_see_who_holds_it(db, sign, pharmacists,
                                                                                  as_user):
    prescription = sign(AMLODIPINE)
    wang, zhao = (as_user(p) for p in pharmacists)
    page = text(wang.get(f"/reviews/{prescription.id}"))
    assert 'id="claim-submit"' in page and 'id="decide-submit"' not in page
    page = text(wang.post(f"/reviews/{prescription.id}/claim", follow_redirects=True))
    assert 'id="decide-submit"' in page and "The prescription is yours to review for 15 minutes." in page
    other = text(zhao.get(f"/reviews/{prescription.id}"))
    assert "Pharmacist Wang is reviewing this prescription." in other and 'id="claim-submit"' not in other
    refused = text(zhao.post(f"/reviews/{prescription.id}/claim", follow_redirects=True))
    assert "Another pharmacist is reviewing this prescription." in refused
    assert "being reviewed by Pharmacist Wang" in text(zhao.get("/reviews/"))


def test_the_page_refuses_to_approve_a_contraindicated_prescription(db, sign, pharmacists, as_user):
    prescription = sign(METHOTREXATE_DAILY)
    browser = as_user(pharmacists[0])
    page = text(browser.get(f"/reviews/{prescription.id}"))
    assert "weekly" in page.lower() and 'data-severity="contraindicated"' in page
    browser.post(f"/reviews/{prescription.id}/claim")
    response = browser.post(f"/reviews/{prescription.id}/decide", data={"decision": "approved"})
    assert response.status_code == 400
    assert ("A contraindicated finding cannot be approved; return the prescription to the doctor."
            in text(response))
    db.session.expire_all()
    assert prescription.status == S.AWAITING_REVIEW


def test_a_major_finding_needs_a_justification_on_the_page(db, sign, pharmacists, as_user):
    prescription = sign(METFORMIN_OVER_MAXIMUM)
    browser = as_user(pharmacists[0])
    browser.post(f"/reviews/{prescription.id}/claim")
    response = browser.post(f"/reviews/{prescription.id}/decide", data={"decision": "approved"})
    assert "A major finding can only be approved with your written justification." in text(response)
    response = browser.post(f"/reviews/{prescription.id}/decide", data={
        "decision": "approved", "justification": "Planned titration, renal function normal."})
    assert response.status_code == 303
    db.session.expire_all()
    assert prescription.status == S.APPROVED


def test_a_return_reaches_the_doctor_with_findings_reasons_and_note(db, sign, pharmacists, as_user, visit):
    prescription = sign(METHOTREXATE_DAILY)
    browser = as_user(pharmacists[0])
    browser.post(f"/reviews/{prescription.id}/claim")
    response = browser.post(f"/reviews/{prescription.id}/decide", data={"decision": "returned"})
    assert "Choose at least one reason for returning it." in text(response)
    response = browser.post(f"/reviews/{prescription.id}/decide", data={
        "decision": "returned", "reason_codes": ["dose", "other"], "note": "Methotrexate is weekly for RA."})
    assert response.status_code == 303
    doctor_page = text(as_user(visit.doctor).get(f"/prescriptions/{prescription.id}"))
    assert 'id="returned"' in doctor_page and "Returned to the doctor" in doctor_page
    assert 'data-reason="dose"' in doctor_page and "Dose or frequency inappropriate" in doctor_page
    assert "Methotrexate is weekly for RA." in doctor_page
    assert 'data-severity="contraindicated"' in doctor_page
    assert 'id="revise-submit"' in doctor_page and 'id="cancel-submit"' in doctor_page
    # A decided prescription leaves the queue and other pharmacists' view.
    assert f'data-prescription-id="{prescription.id}"' not in text(browser.get("/reviews/"))
    assert as_user(pharmacists[1]).get(f"/reviews/{prescription.id}").status_code == 404


def test_the_chinese_reviewer_reads_the_findings_in_chinese(db, sign, pharmacists, as_user):
    prescription = sign(METHOTREXATE_DAILY)
    pharmacists[0].locale = "zh"
    db.session.commit()
    page = text(as_user(pharmacists[0]).get(f"/reviews/{prescription.id}"))
    finding = prescription.findings[0]
    assert finding.message_zh in page.replace("&#39;", "'") and "禁忌" in page
    assert finding.message_en not in page


def test_patients_doctors_and_admins_cannot_open_the_review_pages(db, sign, visit, as_user):
    prescription = sign(AMLODIPINE)
    for user in (visit.patient, visit.doctor, factories.make_user("admin")):
        browser = as_user(user)
        assert browser.get("/reviews/").status_code == 403
        assert browser.post(f"/reviews/{prescription.id}/claim").status_code == 403


def test_reading_a_prescription_for_review_is_audited(db, sign, pharmacists, as_user):
    prescription = sign(AMLODIPINE)
    as_user(pharmacists[0]).get(f"/reviews/{prescription.id}")
    row = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "prescription.review_viewed"))
    assert (row.patient_id, row.actor_id) == (prescription.patient_id, pharmacists[0].id)


def test_the_worker_frees_an_abandoned_claim(db, sign, pharmacists):
    from datetime import timedelta

    from app.database import utcnow

    prescription = sign(AMLODIPINE)
    review.claim(prescription, pharmacists[0], now=utcnow() - timedelta(minutes=20))
    db.session.commit()
    from app.worker import jobs

    [job] = [j for j in jobs() if j.name == "release-abandoned-review-claims"]
    assert job.run(50) == 1


def test_the_admin_dashboard_shows_turnaround_from_signature_to_decision(db, sign, pharmacists, as_user):
    from datetime import timedelta

    fast, slow = sign(AMLODIPINE), sign(AMLODIPINE)
    waiting = sign(AMLODIPINE)
    for prescription, minutes in ((fast, 10), (slow, 70)):
        decided_at = prescription.review.queued_at + timedelta(minutes=minutes)
        # Signed late in the China day, 70 minutes on is the next day: still valid, as extended.
        if rx.local_date(decided_at) > prescription.valid_until:
            rx.extend_validity(prescription, prescription.doctor, rx.local_date(decided_at))
        review.claim(prescription, pharmacists[0], now=decided_at - timedelta(minutes=2))
        review.decide(prescription, pharmacists[0], "approved", now=decided_at)
    db.session.commit()
    page = text(as_user(factories.make_user("admin")).get("/reviews/dashboard"))
    assert re.search(r'id="decided-count">2<', page) and re.search(r'id="waiting-count">1<', page)
    assert 'id="median">40m<' in page and 'id="p90">1h 10m<' in page
    assert "Pharmacist Wang" in page and waiting.patient.display_name not in page


def test_admins_and_pharmacists_read_the_knowledge_base_with_sources(db, pharmacists, as_user):
    from app.checks import loader

    kb = loader.get()
    for user in (factories.make_user("admin"), pharmacists[0]):
        page = text(as_user(user).get("/reviews/knowledge-base"))
        assert kb.version in page
        family_rules = [rule for rules in kb.patient_rules.values() for rule in rules]
        assert page.count('<tr data-rule="') == (len(kb.interactions) + len(kb.duplicates)
                                                 + len(kb.cross_reactivity) + len(kb.rules)
                                                 + len(family_rules))
        # Each patient-aware family has its table, and its rows say when they apply.
        assert 'id="family-renal"' in page and 'id="family-paediatric"' in page
        assert "eGFR/CrCl &lt;30" in page or "eGFR/CrCl <30" in page
    every = (*kb.interactions, *kb.duplicates, *kb.cross_reactivity, *kb.rules.values(),
             *(rule for rules in kb.patient_rules.values() for rule in rules))
    found = text(as_user(pharmacists[0]).get("/reviews/knowledge-base", query_string={"q": "clarithromycin"}))
    rows = re.findall(r'<tr data-rule="([^"]+)"', found)
    assert rows and all("clarithromycin" in next(
        " ".join((r.a, r.b, getattr(r, "selector", ""), r.message_en, r.source, r.rule_id)).casefold()
        for r in every if r.rule_id == rule_id) for rule_id in rows)
    assert any(rule_id.startswith(("renal-", "hep-", "preg-", "paed-", "dd-", "older-")) for rule_id in rows)


def test_the_doctor_sees_the_findings_before_signing(db, visit, draft, as_user):
    from tests.review.conftest import item

    item(draft, visit.doctor, visit.drugs, METHOTREXATE_DAILY[0], **METHOTREXATE_DAILY[1])
    db.session.commit()
    page = text(as_user(visit.doctor).get(f"/prescriptions/{draft.id}"))
    preview = page.split('id="check-preview"')[1].split("</section>")[0]
    assert 'data-rule="weekly-only"' in preview and 'data-severity="contraindicated"' in preview
    assert not draft.findings  # shown, not stored: signing runs the checks again


def test_the_review_and_prescribing_pages_use_the_one_transaction_helper():
    """Commit, rollback and refusal handling live in app.transaction.perform, not in helpers per page."""
    from app.prescribing import views as prescribing_views
    from app.review import views as review_views
    from app.transaction import perform

    assert not hasattr(prescribing_views, "_act") and not hasattr(review_views, "_verb")
    assert prescribing_views.perform is perform and review_views.perform is perform


def test_the_pharmacist_sees_a_drug_that_is_never_delivered_before_any_order(db, visit, pharmacists, as_user):
    from tests.prescribing.conftest import load_shipped_rows

    digoxin = load_shipped_rows(db, ("DIGOXIN-0.25MG-TAB",))["DIGOXIN-0.25MG-TAB"]
    assert not digoxin.is_deliverable
    prescription = rx.start(visit.consultation, visit.doctor, condition_id=visit.condition.id)
    rx.add_item(prescription, visit.doctor, drug_id=digoxin.id, dose="0.125", dose_unit="mg", frequency="QD",
                duration_days=7)
    sign_and_submit(prescription, visit.doctor, factories.PASSWORD, "Rate control; reviewed.")
    db.session.commit()
    page = text(as_user(pharmacists[0]).get(f"/reviews/{prescription.id}"))
    assert 'data-rule="not-deliverable"' in page
    assert "is never delivered: the patient must collect it in a store" in page
    [finding] = [f for f in prescription.findings if f.rule_id == "not-deliverable"]
    assert finding.severity == "minor" and finding.kind == "not_deliverable"
