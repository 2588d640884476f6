"""Names the pages show for the record's stored codes (sex, allergy kinds and classes, severities).

Other features' pages show a patient's allergies too; they use the same template globals
(`allergy_name`, `allergy_severity_name`), registered app-wide by the patients blueprint.
"""

from flask_babel import lazy_gettext as _l

from app.patients import catalog
from app.patients.models import AllergyKind, Severity, Sex

SEX_LABELS = {Sex.FEMALE: _l("Female"), Sex.MALE: _l("Male"), Sex.OTHER: _l("Other")}
ALLERGY_KIND_LABELS = {
    AllergyKind.DRUG: _l("A drug"),
    AllergyKind.INGREDIENT: _l("An ingredient"),
    AllergyKind.CLASS: _l("A class of drugs"),
}
SEVERITY_LABELS = {
    Severity.MILD: _l("Mild"),
    Severity.MODERATE: _l("Moderate"),
    Severity.SEVERE: _l("Severe"),
    Severity.ANAPHYLAXIS: _l("Anaphylaxis"),
}


def severity_name(value) -> str:
    """'severe' → 'Severe' / '严重'; an unknown value is shown as stored rather than hidden."""
    try:
        return str(SEVERITY_LABELS[Severity(value)])
    except ValueError:
        return str(value)


def allergy_name(allergy, language: str) -> str:
    """A class of drugs by its name in the reader's language; a drug or ingredient as the patient typed it."""
    if str(allergy.kind) == AllergyKind.CLASS.value:
        return catalog.allergy_class_name(allergy.substance, language)
    return allergy.substance
