"""Allergies typed in words, in the database and on the pages: a synonym is resolved through the
catalogue, and a name the checks cannot match is flagged for the doctor and the pharmacist."""

import html
import re

import pytest

from app.checks import adapters, allergens
from app.extensions import db as _db
from app.patients.models import Allergy, AllergyKind, Severity
from app.prescribing import services as rx
from tests import factories
from tests.consultations.conftest import as_user  # noqa: F401  (fixture)
from tests.prescribing.conftest import item
from tests.query_budget import count_statements
from tests.review.conftest import pharmacists, sign  # noqa: F401  (fixtures)

FLAG = "Not checked automatically: the name matches no drug, ingredient or class — check it yourself."
AMLODIPINE = ("AMLODIPINE-5MG-TAB", {})


def text(response) -> str:
    assert response.status_code == 200, response.status_code
    return html.unescape(response.get_data(as_text=True))


def record(patient, *names, kind=AllergyKind.DRUG):
    for name in names:
        _db.session.add(Allergy(patient_id=patient.id, kind=kind, substance=name, severity=Severity.SEVERE,
                                recorded_by_id=patient.id))
    _db.session.commit()


def flagged(fragment: str) -> set[str]:
    """The allergies a list on a page flags: its items are list elements or separated by "; "."""
    items = re.split(r"</li>|; ", fragment)
    return {re.sub(r"<[^>]+>", "", item.split("data-allergy-unchecked")[0].rsplit("<span", 1)[0])
            .split("(")[0].split("·")[0].strip() for item in items if "data-allergy-unchecked" in item}


def test_a_synonym_is_resolved_through_the_catalogue_like_the_ingredients_it_names(db, visit):
    record(visit.patient, "Augmentin", "sulfa")
    augmentin, sulfa = adapters.build_context(visit.patient).allergies
    # Amoxicillin is stocked, so its ATC code (and so the penicillins) comes with it.
    assert (augmentin.atc_codes, augmentin.ingredients) == (("J01CA04",), ("amoxicillin", "clavulanic acid"))
    assert (sulfa.atc_codes, sulfa.ingredients) == ((), ())  # a class: the engine reads it from the list
    prescription = rx.start(visit.consultation, visit.doctor, condition_id=visit.condition.id)
    item(prescription, visit.doctor, visit.drugs, "CEFUROXIME-AXETIL-250MG-TAB", dose="250")
    item(prescription, visit.doctor, visit.drugs, "AMOXICILLIN-250MG-CAP", dose="500", frequency="TID")
    findings = {(f.rule_id, f.drug_code) for f in adapters.check_prescription(prescription)}
    assert ("cross-penicillins-cephalosporins", "CEFUROXIME-AXETIL-250MG-TAB") in findings
    assert ("allergy-severe", "AMOXICILLIN-250MG-CAP") in findings


def test_only_names_matching_nothing_are_unchecked_and_known_ones_cost_no_statement(db, visit):
    rows = [Allergy(kind=AllergyKind.CLASS, substance="penicillins"),
            Allergy(kind=AllergyKind.DRUG, substance="Sulfa"),
            Allergy(kind=AllergyKind.DRUG, substance="碘造影剂"),
            Allergy(kind=AllergyKind.INGREDIENT, substance="gemfibrozil")]  # a rule names it; not stocked
    with count_statements(db) as seen:
        assert allergens.unchecked(rows) == frozenset()
    assert seen.count == 0
    rows += [Allergy(kind=AllergyKind.DRUG, substance=name)
             for name in ("shellfish", "NORVASC", "amlodipine")]
    with count_statements(db) as seen:
        assert allergens.unchecked(rows) == {"shellfish"}  # Norvasc is amlodipine's brand in the catalogue
    assert seen.count == 1


def test_the_doctor_sees_an_unmatched_allergy_flagged_on_the_consultation_and_prescription_pages(
        db, visit, as_user):  # noqa: F811  (fixture)
    record(visit.patient, "shellfish", "sulfa", "Bactrim")
    record(visit.patient, "penicillins", kind=AllergyKind.CLASS)
    doctor = as_user(visit.doctor)
    page = text(doctor.get(f"/consultations/{visit.consultation.id}"))
    allergies = page.split('id="record-allergies"')[1].split("</ul>")[0]
    assert flagged(allergies) == {"shellfish"} and allergies.count(FLAG) == 1
    draft = rx.start(visit.consultation, visit.doctor, condition_id=visit.condition.id)
    _db.session.commit()
    page = text(doctor.get(f"/prescriptions/{draft.id}"))
    allergies = page.split('id="draft-allergies"')[1].split("</div>")[0]
    assert flagged(allergies) == {"shellfish"} and FLAG in allergies


def test_the_pharmacist_sees_it_flagged_on_the_review_page_in_either_language(
        db, visit, sign, pharmacists, as_user):  # noqa: F811  (fixtures)
    record(visit.patient, "海鲜", "sulfa")
    prescription = sign(AMLODIPINE)
    wang, zhao = pharmacists
    page = text(as_user(wang).get(f"/reviews/{prescription.id}"))
    allergies = page.split('id="review-allergies">')[1].split("</dd>")[0]
    assert flagged(allergies) == {"海鲜"} and FLAG in allergies
    assert allergies.startswith("海鲜 (Severe) <span") and allergies.endswith("; sulfa (Severe)")
    zhao.locale = "zh"
    page = text(as_user(zhao).get(f"/reviews/{prescription.id}"))
    assert flagged(page.split('id="review-allergies">')[1].split("</dd>")[0]) == {"海鲜"}


def test_a_patient_without_unmatched_names_sees_no_flag_anywhere(db, visit, sign, pharmacists,  # noqa: F811
                                                                 as_user):  # noqa: F811
    record(visit.patient, "Sulfa drugs", "头孢", "Augmentin", "amlodipine")
    prescription = sign(AMLODIPINE)
    doctor, pharmacist = as_user(visit.doctor), as_user(pharmacists[0])
    for browser, url in ((doctor, f"/consultations/{visit.consultation.id}"),
                         (pharmacist, f"/reviews/{prescription.id}")):
        assert "data-allergy-unchecked" not in text(browser.get(url)), url


@pytest.mark.parametrize(("language", "offered", "not_offered"), [
    ("en", ["Augmentin", "penicillin", "sulfa", "Penicillins", "Aminoglycosides"], ["安灭菌", "青霉素类"]),
    ("zh", ["安灭菌", "青霉素类", "磺胺", "头孢", "氨基糖苷类"], ["Augmentin", "sulfa"]),
])
def test_the_allergy_form_offers_the_terms_and_class_names_in_the_users_language(
        db, as_user, language, offered, not_offered):  # noqa: F811  (fixture)
    patient = factories.make_user("patient", locale=language)
    page = text(as_user(patient).get("/patients/allergies", headers={"Accept-Language": language}))
    assert re.search(r'<input[^>]*\blist="allergy-suggestions"[^>]*name="substance"', page) or re.search(
        r'<input[^>]*name="substance"[^>]*\blist="allergy-suggestions"', page)
    suggestions = page.split('<datalist id="allergy-suggestions">')[1].split("</datalist>")[0]
    options = re.findall(r'<option value="([^"]*)">', suggestions)
    assert set(offered) <= set(options) and not set(not_offered) & set(options)
    assert len(options) == len(set(options)) and "<script" not in suggestions
