"""The patient's record as the review page summarises it: age and sex, allergies, what they take now."""

from dataclasses import dataclass
from functools import cache

from sqlalchemy import bindparam, select

from app.database import utcnow
from app.extensions import db
from app.patients.identity import age_on
from app.patients.models import Allergy
from app.prescribing.models import Prescription
from app.prescribing.services import local_date


@dataclass(frozen=True)
class Summary:
    age: int | None
    sex: str | None
    allergies: list  # rows with the kind, substance and severity allergy_name() reads
    active_medications: list  # app.checks.taking.Supply, one per drug, as the doctor's record lists them
    unchecked_allergies: frozenset = frozenset()  # substances the automatic checks cannot match


# The checks' own patient context (app.checks.adapters.build_context) resolves every allergen against
# the catalogue and loads each drug's ingredients: what the checks need at signing, and several times
# what this page prints. The allergies are read as printed columns with the checks' rules; what the
# patient takes now is the checks' own reading, without the ingredients (tests/review/test_summary.py
# holds both to the checks' answer).
@cache
def _allergies():
    return (select(Allergy.kind, Allergy.substance, Allergy.severity)
            .where(Allergy.patient_id == bindparam("patient_id"), Allergy.is_active).order_by(Allergy.id))



def for_review(prescription: Prescription, earlier: list[Prescription]) -> Summary:
    """The record of the prescription's patient beside it; neither it nor the versions it replaces
    (`earlier`) count as something the patient is already taking."""
    # Imported here: the checks import the prescribing pages, which import the review (a cycle at import
    # time when the checks are imported first).
    from app.checks.allergens import unchecked
    from app.checks.taking import taking_now

    today = local_date(utcnow())
    patient = prescription.patient
    profile = patient.patient_profile
    allergies = db.session.execute(_allergies(), {"patient_id": patient.id}).all()
    return Summary(
        age=age_on(profile.date_of_birth, today) if profile else None,
        sex=str(profile.sex) if profile else None, allergies=allergies,
        active_medications=taking_now(patient.id, today, {prescription.id, *(v.id for v in earlier)}),
        unchecked_allergies=unchecked(allergies))
