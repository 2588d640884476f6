"""From the database (or a catalogue row) to the engine's plain inputs, and a prescription's check."""

from datetime import date

from flask import current_app, has_app_context
from sqlalchemy import select

from app.checks import allergens, engine, taking
from app.checks.engine import (
    ActiveMedication,
    DrugFacts,
    Line,
    PatientAllergy,
    PatientContext,
)
from app.checks.knowledge import KnowledgeBase
from app.checks.patient_facts import Fact
from app.database import utcnow
from app.drugs.models import Drug
from app.extensions import db
from app.patients.identity import age_on
from app.patients.models import Allergy, AllergyKind, Condition, ConditionStatus, PatientFact
from app.prescribing.models import Prescription, PrescriptionItem
from app.prescribing.services import local_date


def facts_from_drug(drug: Drug) -> DrugFacts:
    return DrugFacts(
        code=drug.code, name_en=drug.generic_name_en, name_zh=drug.generic_name_zh, atc_code=drug.atc_code,
        ingredients=tuple(i.name for i in drug.ingredients),
        ingredients_zh=tuple(i.name_zh for i in drug.ingredients), brand_name=drug.brand_name or "",
        strength=drug.strength, strength_unit=drug.strength_unit, pack_unit=drug.pack_unit,
        dosage_form=drug.dosage_form, route=drug.route, controlled_class=drug.controlled_class,
        is_online_prescribable=drug.is_online_prescribable, is_antimicrobial=drug.is_antimicrobial,
        is_cold_chain=drug.is_cold_chain, max_daily_dose=drug.max_daily_dose,
        max_daily_dose_unit=str(drug.max_daily_dose_unit) if drug.max_daily_dose_unit else None,
        is_weekly_only=drug.is_weekly_only, is_active=drug.is_active, is_deliverable=drug.is_deliverable)


def facts_from_values(values: dict) -> DrugFacts:
    """A catalogue row as app.drugs.catalogue.parse_row() returns it (tests and the benchmark)."""
    return DrugFacts(
        code=values["code"], name_en=values["generic_name_en"], name_zh=values["generic_name_zh"],
        atc_code=values["atc_code"], ingredients=tuple(en for en, _zh in values["ingredients"]),
        ingredients_zh=tuple(zh for _en, zh in values["ingredients"]), brand_name=values["brand_name"],
        strength=values["strength"], strength_unit=values["strength_unit"], pack_unit=values["pack_unit"],
        dosage_form=values["dosage_form"], route=values["route"], controlled_class=values["controlled_class"],
        is_online_prescribable=values["is_online_prescribable"], is_antimicrobial=values["is_antimicrobial"],
        is_cold_chain=values["is_cold_chain"], max_daily_dose=values["max_daily_dose"],
        max_daily_dose_unit=str(values["max_daily_dose_unit"]) if values["max_daily_dose_unit"] else None,
        is_weekly_only=values["is_weekly_only"], is_active=values["is_active"],
        is_deliverable=values["is_deliverable"])


def line_from_item(item: PrescriptionItem) -> Line:
    return Line(drug=facts_from_drug(item.drug), dose=item.dose, dose_unit=str(item.dose_unit),
                frequency=item.frequency, duration_days=item.duration_days,
                max_doses_per_day=item.max_doses_per_day, position=item.position)


def lines_from_prescription(prescription: Prescription) -> list[Line]:
    return [line_from_item(item) for item in sorted(prescription.items, key=lambda i: i.position)]


def resolve_allergen(substance: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """ATC codes and ingredients of the catalogue drugs a typed allergen names (generic, brand or
    ingredient, English or Chinese, or a listed synonym's ingredients), so that an allergy to
    "Augmentin" also means "penicillins"."""
    found = allergens.resolve([substance])[substance]
    return found.atc_codes, found.ingredients


def _allergies(patient_id: int) -> tuple[PatientAllergy, ...]:
    rows = db.session.scalars(select(Allergy).where(Allergy.patient_id == patient_id, Allergy.is_active)
                              .order_by(Allergy.id)).all()
    # Every name in one statement; classes and synonyms need no catalogue (the engine reads those).
    resolved = allergens.resolve([row.substance for row in rows if row.kind != AllergyKind.CLASS])
    allergies = []
    for row in rows:
        found = resolved.get(row.substance) if row.kind != AllergyKind.CLASS else None
        allergies.append(PatientAllergy(kind=str(row.kind), substance=row.substance,
                                        severity=str(row.severity),
                                        atc_codes=found.atc_codes if found else (),
                                        ingredients=found.ingredients if found else ()))
    return tuple(allergies)


def patient_facts(patient_id: int) -> tuple[Fact, ...]:
    """Every recorded fact, oldest first; the checks take the newest of each kind."""
    rows = db.session.execute(
        select(PatientFact.kind, PatientFact.value, PatientFact.value_text, PatientFact.measured_on,
               PatientFact.source)
        .where(PatientFact.patient_id == patient_id)
        .order_by(PatientFact.measured_on, PatientFact.id)).all()
    return tuple(Fact(str(kind), value_text if value_text is not None else value, measured_on, str(source))
                 for kind, value, value_text, measured_on, source in rows)


def fact_max_age_days() -> dict | None:
    return current_app.config.get("CHECKS_FACT_MAX_AGE_DAYS") if has_app_context() else None


def active_medications(patient_id: int, today: date, exclude: set[int]) -> list[ActiveMedication]:
    """What the patient is taking today (app.checks.taking, the reading the pages list too), as the
    engine's input: every running supply, dispensings first."""
    return [ActiveMedication(drug=facts_from_drug(supply.drug), source=supply.source,
                             reference=supply.reference, last_day=supply.last_day)
            for supply in taking.running_supplies(patient_id, today, exclude, with_ingredients=True)]


def build_context(patient, *, today: date | None = None, exclude: Prescription | None = None,
                  extra_active=()) -> PatientContext:
    """The patient as the checks see them: allergies, conditions, age, sex, active medication, the
    dated facts (weight, renal and hepatic function, pregnancy) and the prescription's diagnosis.

    Active medication is what was dispensed and is still running (packs that came back do not
    count), and the drugs of signed prescriptions not yet dispensed, counted from signing;
    `extra_active` adds more (source "dispensing" from elsewhere). `exclude` is the prescription
    being checked: neither it nor the versions it replaces count as something the patient is already
    taking.
    """
    today = today or local_date(utcnow())
    profile = getattr(patient, "patient_profile", None)
    conditions = db.session.scalars(
        select(Condition.icd10_code).where(Condition.patient_id == patient.id,
                                           Condition.status != ConditionStatus.REJECTED)
        .order_by(Condition.icd10_code)).all()
    diagnosis = exclude.condition.icd10_code if exclude is not None and exclude.condition else None
    return PatientContext(
        allergies=_allergies(patient.id), condition_codes=tuple(dict.fromkeys(conditions)),
        age=age_on(profile.date_of_birth, today) if profile else None,
        sex=str(profile.sex) if profile else None,
        active_medications=(*active_medications(patient.id, today, taking.version_chain(exclude)),
                            *extra_active),
        facts=patient_facts(patient.id), diagnosis_codes=(diagnosis,) if diagnosis else (), today=today,
        fact_max_age_days=fact_max_age_days())


def check_prescription(prescription: Prescription, *, today: date | None = None, extra_active=(),
                       kb: KnowledgeBase | None = None) -> list[engine.Finding]:
    """Every finding for a (signed or draft) prescription against its patient's current record."""
    context = build_context(prescription.patient, today=today, exclude=prescription,
                            extra_active=extra_active)
    return engine.check(lines_from_prescription(prescription), context, prescription.supply_category, kb)
