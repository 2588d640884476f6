"""Names the pages show for the record's stored codes (sex, allergy kinds and classes, severities, facts).

Other features' pages show a patient's allergies too; they use the same template globals
(`allergy_name`, `allergy_severity_name`), registered app-wide by the patients blueprint.
"""

from typing import NamedTuple

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from app.patients import catalog
from app.patients.models import AllergyKind, FactKind, FactSource, Severity, Sex

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


FACT_KIND_LABELS = {
    FactKind.WEIGHT: _l("Weight"),
    FactKind.HEIGHT: _l("Height"),
    FactKind.EGFR: _l("eGFR"),
    FactKind.CRCL: _l("Creatinine clearance"),
    FactKind.CHILD_PUGH: _l("Child-Pugh class"),
    FactKind.PREGNANCY: _l("Pregnancy"),
    FactKind.BREASTFEEDING: _l("Breastfeeding"),
}
# Units are the same in both languages.
FACT_UNITS = {FactKind.WEIGHT: "kg", FactKind.HEIGHT: "cm", FactKind.EGFR: "mL/min/1.73 m²",
              FactKind.CRCL: "mL/min"}
# The order the record lists them in: body, kidneys, liver, then pregnancy and breastfeeding.
FACT_ORDER = list(FACT_KIND_LABELS)


class FactRow(NamedTuple):
    """One fact in force as a record page prints it; the texts are in the reader's language."""

    kind: str
    label: str
    value: str
    measured_on: str  # ISO date
    source: str  # who reported or recorded it
    stale: bool
    reported_by_patient: bool
    choice: str  # the fact form's choice and number that record it again (a doctor's confirmation)
    number: str


def _plain(value) -> str:
    return format(value.normalize(), "f") if value is not None else ""


def _fact_value(fact) -> tuple[str, str, str]:
    """(text shown, form choice, form number) of one fact."""
    kind = FactKind(fact.kind)
    if kind == FactKind.CHILD_PUGH:
        return _("Class %(grade)s", grade=fact.value_text), f"child_pugh_{fact.value_text.lower()}", ""
    if kind == FactKind.PREGNANCY:
        weeks = int(fact.value)
        if weeks == 0:
            return _("Not pregnant"), "not_pregnant", ""
        return ngettext("%(num)d week", "%(num)d weeks", weeks), "pregnancy", str(weeks)
    if kind == FactKind.BREASTFEEDING:
        return ((_("Yes"), "breastfeeding", "") if fact.value > 0 else (_("No"), "not_breastfeeding", ""))
    number = _plain(fact.value)
    return f"{number} {FACT_UNITS[kind]}", kind.value, number


def fact_rows(recorded, stale: set[str], *, reader: str) -> list[FactRow]:
    """The facts in force, (fact, recorder's name) pairs, as rows for the patient's own page
    (reader="patient") or a doctor's (reader="doctor"); every text is built here, once per row."""
    # Translated once; the doctor's name goes into the translated text per row.
    if reader == "patient":
        by_patient, by_doctor = _("Reported by you"), _("Confirmed by Dr %(name)s")
    else:
        by_patient, by_doctor = _("Reported by the patient"), _("Recorded by Dr %(name)s")
    rows = []
    for fact, name in sorted(recorded, key=lambda pair: FACT_ORDER.index(FactKind(pair[0].kind))):
        text, choice, number = _fact_value(fact)
        patient_report = fact.source == FactSource.PATIENT
        source = by_patient if patient_report else by_doctor % {"name": name or ""}
        rows.append(FactRow(kind=str(fact.kind), label=str(FACT_KIND_LABELS[FactKind(fact.kind)]), value=text,
                            measured_on=fact.measured_on.isoformat(), source=source,
                            stale=str(fact.kind) in stale, reported_by_patient=patient_report, choice=choice,
                            number=number))
    return rows
