"""A pharmacist re-reviewing version 2 sees what it replaces, why the earlier version was returned and
the consultation's note; the approval says truthfully what happens next; the patient's list shows
each prescription once, its replaced versions folded under it."""

import html

from app.extensions import db as _db
from app.prescribing import services as rx
from app.prescribing.states import PrescriptionStatus
from app.review import services as review
from tests import factories
from tests.prescribing.conftest import sign_and_submit
from tests.review.conftest import AMLODIPINE

S = PrescriptionStatus
NOTE = "Start at 2.5 mg: the patient is 82 and lives alone."


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _returned_then_revised(sign, visit, wang):
    """Version 1 returned by Wang with a reason and a note; version 2 signed in its place."""
    first = sign(AMLODIPINE)
    review.claim(first, wang)
    review.decide(first, wang, "returned", reason_codes=["dose"], note=NOTE)
    _db.session.commit()
    second = rx.revise(first, visit.doctor)
    rx.remove_item(second, visit.doctor, second.items[0])
    rx.add_item(second, visit.doctor, drug_id=visit.drugs["AMLODIPINE-5MG-TAB"].id, dose="2.5",
                dose_unit="mg", frequency="QD", duration_days=7)
    sign_and_submit(second, visit.doctor, factories.PASSWORD)
    _db.session.commit()
    return first, second


def test_version_2_shows_what_it_replaces_why_version_1_was_returned_and_the_note(db, sign, pharmacists,
                                                                                  visit, as_user):
    wang, zhao = pharmacists
    visit.consultation.complaint = "Ankles swell in the evening."
    visit.consultation.assessment = "Hypertension controlled; oedema likely from amlodipine."
    db.session.commit()
    first, second = _returned_then_revised(sign, visit, wang)

    page = text(as_user(zhao).get(f"/reviews/{second.id}"))
    replaces = page.split('id="replaces"')[0].rsplit("<a", 1)[1] + page.split('id="replaces"')[1][:200]
    assert f'href="/reviews/{first.id}"' in replaces and "version 1" in replaces
    returned = page.split('id="earlier-returns"')[1].split("</section>")[0]
    assert "Version 1, returned by Pharmacist Wang" in returned
    assert "Dose or frequency inappropriate" in returned and NOTE in returned
    note = page.split('id="consultation-note"')[1].split("</section>")[0]
    assert "Ankles swell in the evening." in note and "oedema likely from amlodipine" in note

    # The link opens: Zhao did not decide version 1, but reads it beside version 2.
    earlier = as_user(zhao).get(f"/reviews/{first.id}")
    assert earlier.status_code == 200 and 'id="claim-submit"' not in text(earlier)

    zhao.locale = "zh"
    db.session.commit()
    page = text(as_user(zhao).get(f"/reviews/{second.id}"))
    assert "此前版本的退回原因" in page and "第1版，由Pharmacist Wang于" in page and "病历记录" in page


def test_a_first_version_has_no_history_and_an_unwritten_note_says_so(db, sign, pharmacists, as_user):
    prescription = sign(AMLODIPINE)
    page = text(as_user(pharmacists[0]).get(f"/reviews/{prescription.id}"))
    assert 'id="replaces"' not in page and 'id="earlier-returns"' not in page
    assert "The doctor has not written a note for this consultation yet." in page


def test_an_unrelated_decided_prescription_stays_hidden_from_other_pharmacists(db, sign, pharmacists,
                                                                               as_user):
    wang, zhao = pharmacists
    prescription = sign(AMLODIPINE)
    review.claim(prescription, wang)
    review.decide(prescription, wang, "returned", reason_codes=["dose"], note=NOTE)
    db.session.commit()
    assert as_user(zhao).get(f"/reviews/{prescription.id}").status_code == 404
    assert as_user(wang).get(f"/reviews/{prescription.id}").status_code == 200


def test_the_approval_says_the_patient_can_now_order(db, sign, pharmacists, visit, as_user):
    wang = pharmacists[0]
    prescription = sign(AMLODIPINE)
    browser = as_user(wang)
    browser.post(f"/reviews/{prescription.id}/claim")
    response = browser.post(f"/reviews/{prescription.id}/decide", data={"decision": "approved"},
                            follow_redirects=True)
    until = prescription.valid_until.isoformat()
    assert (f"Approved. The patient can now order the medicines, for pickup or delivery, until {until}."
            in text(response))

    mine = text(as_user(visit.patient).get(f"/prescriptions/{prescription.id}"))
    assert (f"Approved by the pharmacist. It is valid until {until}: order the medicines before then, for "
            "pickup in a store or delivery.") in mine
    assert "Get your medicines" in mine


def test_the_patient_sees_each_prescription_once_with_earlier_versions_folded(db, sign, pharmacists, visit,
                                                                              as_user):
    first, second = _returned_then_revised(sign, visit, pharmacists[0])
    page = text(as_user(visit.patient).get("/prescriptions/"))
    assert f'data-prescription-id="{second.id}"' in page and f'data-prescription-id="{first.id}"' not in page
    folded = page.split(f'data-for="{second.id}"')[1].split("</details>")[0]
    assert "1 earlier version" in folded and f'data-earlier-id="{first.id}"' in folded
    assert "Replaced by a newer version" in folded
    assert page.count("<details") == 1
