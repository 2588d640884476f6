"""Each patient-aware family of the shipped knowledge base, on a patient who triggers it and one who
must not: the rows a pharmacist would reach for first, through the real engine and catalogue."""

from datetime import date
from decimal import Decimal

import pytest

from app.checks.engine import Fact, Kind, PatientContext, Severity, check
from tests.checks.conftest import line

TODAY = date(2026, 12, 1)


def findings_of(kind, lines, **patient):
    context = PatientContext(today=TODAY, **patient)
    return [(f.rule_id, f.severity) for f in check(lines, context) if f.kind == kind]


def worst(kind, lines, **patient):
    found = findings_of(kind, lines, **patient)
    return max((severity for _rule, severity in found), default=None)


def egfr(value):
    return (Fact("egfr", Decimal(value), TODAY),)


METFORMIN_1000 = [line("METFORMIN-500MG-TAB", 500, frequency="BID")]
METFORMIN_2000 = [line("METFORMIN-500MG-TAB", 1000, frequency="BID")]


@pytest.mark.parametrize(("lines", "value", "expected"), [
    (METFORMIN_1000, 29, Severity.CONTRAINDICATED),  # below eGFR 30: contraindicated at any dose
    (METFORMIN_2000, 40, Severity.MAJOR),  # 30-44: 2,000 mg a day is above the 1,000 mg cap
    (METFORMIN_1000, 40, None),  # within the reduced band's maximum
    (METFORMIN_2000, 90, None),  # normal function
])
def test_renal_metformin_by_egfr_band_and_dose(lines, value, expected):
    assert worst(Kind.RENAL, lines, facts=egfr(value)) == expected


def test_renal_a_coded_dialysis_patient_without_a_measurement():
    assert worst(Kind.RENAL, METFORMIN_1000, condition_codes=("N18.6", "Z99.2")) == Severity.CONTRAINDICATED


@pytest.mark.parametrize(("child_pugh", "dose", "expected"), [
    ("C", 1000, Severity.CONTRAINDICATED), ("B", 1000, Severity.MAJOR), ("B", 250, None), ("A", 1000, None)])
def test_hepatic_abiraterone_by_child_pugh_class(child_pugh, dose, expected):
    lines = [line("ABIRATERONE-250MG-TAB", dose)]
    assert worst(Kind.HEPATIC, lines, facts=(Fact("child_pugh", child_pugh, TODAY),)) == expected


def test_pregnancy_an_ace_inhibitor_in_the_second_trimester_and_a_patient_who_is_not_pregnant():
    enalapril = [line("ENALAPRIL-10MG-TAB", 10)]
    pregnant = (Fact("pregnancy", Decimal(24), TODAY),)
    assert worst(Kind.PREGNANCY, enalapril, sex="female", age=31, facts=pregnant) == Severity.CONTRAINDICATED
    not_pregnant = (Fact("pregnancy", Decimal(0), TODAY),)
    assert findings_of(Kind.PREGNANCY, enalapril, sex="female", age=31, facts=not_pregnant) == []


def test_breastfeeding_weekly_methotrexate():
    methotrexate = [line("METHOTREXATE-2.5MG-TAB", 10, frequency="QW")]
    nursing = (Fact("breastfeeding", Decimal(1), TODAY),)
    found = worst(Kind.PREGNANCY, methotrexate, sex="female", age=33, facts=nursing)
    assert found == Severity.CONTRAINDICATED
    assert findings_of(Kind.PREGNANCY, methotrexate, sex="female", age=33) == []


@pytest.mark.parametrize(("age", "fires"), [(64, False), (65, True), (84, True)])
def test_older_adults_a_strongly_anticholinergic_antidepressant(age, fires):
    amitriptyline = [line("AMITRIPTYLINE-25MG-TAB", 25, frequency="QN")]
    assert bool(findings_of(Kind.OLDER_ADULT, amitriptyline, age=age)) is fires


@pytest.mark.parametrize(("age", "fires"), [(11, True), (12, False)])
def test_children_codeine_is_contraindicated_under_12(age, fires):
    codeine = [line("CODEINE-15MG-TAB", 15, frequency="TID")]
    found = findings_of(Kind.PAEDIATRIC, codeine, age=age, facts=(Fact("weight", Decimal(40), TODAY),))
    assert (Severity.CONTRAINDICATED in {severity for _rule, severity in found}) is fires


def test_children_a_per_kg_maximum_replaces_the_adult_one():
    # 25 kg: 1,500 mg of paracetamol a day is 60 mg/kg, the child's maximum; 2,500 mg is above it.
    weight = (Fact("weight", Decimal(25), TODAY),)
    assert findings_of(Kind.PAEDIATRIC, [line("PARACETAMOL-500MG-TAB", 500, frequency="TID")], age=8,
                       facts=weight) == []
    over = check([line("PARACETAMOL-500MG-TAB", 500, frequency="QID")], PatientContext(age=8, facts=weight,
                                                                                     today=TODAY))
    assert any(f.kind == Kind.PAEDIATRIC and f.severity >= Severity.MAJOR for f in over)
    assert not any(f.rule_id == "max-daily-dose" for f in over)


def test_drug_disease_a_non_selective_beta_blocker_with_asthma():
    propranolol = [line("PROPRANOLOL-10MG-TAB", 10, frequency="TID")]
    assert worst(Kind.DRUG_DISEASE, propranolol, condition_codes=("J45.9",)) == Severity.CONTRAINDICATED
    assert findings_of(Kind.DRUG_DISEASE, propranolol, condition_codes=("I10",)) == []


def test_indication_metformin_needs_a_diagnosis_it_treats():
    assert findings_of(Kind.INDICATION, METFORMIN_1000, diagnosis_codes=("I10",)) == [
        ("no-matching-diagnosis", Severity.MODERATE)]
    assert findings_of(Kind.INDICATION, METFORMIN_1000, diagnosis_codes=("E11.9",)) == []
    assert findings_of(Kind.INDICATION, METFORMIN_1000) == []  # no diagnosis at all: nothing to compare


@pytest.mark.parametrize(("dose", "rule"), [(40, "cv-simvastatin-above-20mg-amiodarone"),
                                            (20, "cv-simvastatin-upto-20mg-amiodarone")])
def test_a_dose_dependent_interaction_simvastatin_with_amiodarone(dose, rule):
    lines = [line("SIMVASTATIN-20MG-TAB", dose, frequency="QN"),
             line("AMIODARONE-200MG-TAB", 200, position=2)]
    assert [f.rule_id for f in check(lines) if f.kind == Kind.INTERACTION] == [rule]
