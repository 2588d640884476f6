"""The engine's findings as the pharmacist and the case runner read them: exact messages in both
languages, the other drug of a pair, the order of findings that tie, and the branches the broader engine
tests pass by (a drug barred by the catalogue, a brand typed whole, an allergy graded in other words)."""

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

from app.checks.engine import (
    Finding,
    Kind,
    MedicationSource,
    OtherOn,
    PatientAllergy,
    PatientContext,
    Severity,
    check,
)
from app.checks.patient_facts import Fact
from tests.checks.conftest import SHIPPED, line, taking

TODAY = date(2026, 6, 1)


def test_a_pair_finding_exports_the_other_drug_and_reads_in_either_language():
    simvastatin = line("SIMVASTATIN-20MG-TAB", 40, "mg", "QN")
    clarithromycin = line("CLARITHROMYCIN-250MG-TAB", 500, "mg", "BID", position=2)
    [finding] = [f for f in check([simvastatin, clarithromycin]) if f.kind == Kind.INTERACTION]
    assert finding.message("zh") == finding.message_zh and finding.message("en") == finding.message_en
    assert finding.message_en != finding.message_zh
    assert finding.to_dict() == {
        "severity": "contraindicated", "kind": "interaction", "rule_id": finding.rule_id,
        "drugs": ["SIMVASTATIN-20MG-TAB", "CLARITHROMYCIN-250MG-TAB"], "line": 1,
        "other": {"drug": "CLARITHROMYCIN-250MG-TAB", "on": "prescription", "line": 2, "source": None,
                  "reference": None},
        "message_en": finding.message_en, "message_zh": finding.message_zh, "source": finding.source}


def test_a_finding_against_a_medicine_still_taken_names_where_it_came_from():
    warfarin = taking("WARFARIN-2.5MG-TAB", "prescription", "prescription 7")
    findings = check([line("CAPECITABINE-500MG-TAB", 1000, "mg", "BID")],
                     PatientContext(active_medications=(warfarin,)))
    [finding] = [f for f in findings if f.kind == Kind.INTERACTION]
    assert finding.to_dict()["other"] == {
        "drug": "WARFARIN-2.5MG-TAB", "on": "active_medication", "line": None, "source": "prescription",
        "reference": "prescription 7"}


def test_a_finding_about_one_drug_exports_no_other():
    [finding] = check([line("METHOTREXATE-2.5MG-TAB", 10, "mg", "QD")])
    exported = finding.to_dict()
    assert (exported["other"], exported["drugs"], exported["line"]) == (None, ["METHOTREXATE-2.5MG-TAB"], 1)
    assert (exported["severity"], exported["kind"], exported["rule_id"]) == (
        "contraindicated", "weekly_only", finding.rule_id)


def _finding(rule_id="r", other_code=None, other_line=None, other_reference=None, line=1) -> Finding:
    return Finding(severity=Severity.MAJOR, kind=Kind.INTERACTION, rule_id=rule_id, drug_code="A",
                   line=line, message_en="", message_zh="", source="", other_code=other_code,
                   other_line=other_line, other_reference=other_reference)


def test_findings_that_tie_are_ordered_by_the_other_drug_then_its_line_then_its_reference():
    findings = [_finding(other_code="C"), _finding(other_code="B", other_reference="Rx 9"),
                _finding(other_code="B", other_reference="Rx 10"),
                _finding(other_code="B", other_line=2), _finding(other_code="B", other_line=1),
                _finding(other_code="B"), _finding()]
    ordered = sorted(findings, key=Finding.sort_key)
    assert [(f.other_code, f.other_line, f.other_reference) for f in ordered] == [
        (None, None, None), ("B", None, None), ("B", None, "Rx 10"), ("B", None, "Rx 9"),
        ("B", 1, None), ("B", 2, None), ("C", None, None)]


def test_a_drug_the_catalogue_bars_from_online_prescribing_is_contraindicated():
    barred = replace(SHIPPED["AMLODIPINE-5MG-TAB"], is_online_prescribable=False)
    findings = check([replace(line("AMLODIPINE-5MG-TAB", 5), drug=barred)])
    [finding] = [f for f in findings if f.kind == Kind.NOT_ONLINE]
    assert (finding.rule_id, finding.severity) == ("not-online-catalogue", Severity.CONTRAINDICATED)
    assert finding.message_en == "Amlodipine is marked not for online prescribing in the catalogue."
    assert finding.message_zh == "氨氯地平在药品目录中标记为不可在线开具。"


def test_a_controlled_drug_names_its_class_in_each_language():
    [finding] = [f for f in check([line("CODEINE-15MG-TAB", 15, "mg", "TID")]) if f.kind == Kind.NOT_ONLINE]
    assert "is a narcotic drug and cannot be prescribed online" in finding.message_en
    assert "属麻醉药品，不得在互联网医院开具" in finding.message_zh


def test_the_same_product_twice_on_one_prescription_is_a_duplicate():
    findings = check([line("AMLODIPINE-5MG-TAB", 5), line("AMLODIPINE-5MG-TAB", 5, position=2)])
    [finding] = [f for f in findings if f.kind == Kind.DUPLICATE]
    assert (finding.rule_id, finding.drug_codes, finding.other_on, finding.other_line) == (
        "duplicate-ingredient", ("AMLODIPINE-5MG-TAB", "AMLODIPINE-5MG-TAB"), OtherOn.PRESCRIPTION, 2)
    assert finding.message_en == (
        "Amlodipine and Amlodipine both contain amlodipine: the doses add up. Keep one.")
    assert finding.message_zh == "氨氯地平与氨氯地平均含氨氯地平，剂量会叠加。应只保留一种。"


def test_a_single_drug_while_taking_a_combination_with_it_is_a_duplicate():
    combination = taking("AMLODIPINE-ATORVASTATIN-5-10MG-TAB", "dispensing", "dispensing 41")
    findings = check([line("AMLODIPINE-5MG-TAB", 5)], PatientContext(active_medications=(combination,)))
    [finding] = [f for f in findings if f.rule_id == "duplicate-ingredient"]
    assert (finding.other_code, finding.other_on, finding.other_source, finding.other_reference) == (
        "AMLODIPINE-ATORVASTATIN-5-10MG-TAB", OtherOn.ACTIVE_MEDICATION, MedicationSource.DISPENSING,
        "dispensing 41")
    assert finding.message_zh.endswith("均含氨氯地平，剂量会叠加。应只保留一种。")


def test_an_ingredient_without_a_chinese_name_is_named_in_english_in_the_chinese_message():
    unnamed = replace(SHIPPED["AMLODIPINE-5MG-TAB"], ingredients_zh=())
    findings = check([replace(line("AMLODIPINE-5MG-TAB", 5), drug=unnamed),
                      line("AMLODIPINE-5MG-TAB", 5, position=2)])
    [finding] = [f for f in findings if f.kind == Kind.DUPLICATE]
    assert finding.message_zh == "氨氯地平与氨氯地平均含amlodipine，剂量会叠加。应只保留一种。"


def test_duplicate_therapy_names_the_other_drug():
    findings = check([line("ATORVASTATIN-20MG-TAB", 20), line("ROSUVASTATIN-10MG-TAB", 10, position=2)])
    [finding] = [f for f in findings if f.kind == Kind.DUPLICATE]
    assert (finding.drug_codes, finding.other_on, finding.other_line) == (
        ("ATORVASTATIN-20MG-TAB", "ROSUVASTATIN-10MG-TAB"), OtherOn.PRESCRIPTION, 2)


def test_an_allergy_recorded_under_the_whole_brand_name_is_found():
    brand = SHIPPED["ABIRATERONE-250MG-TAB"].brand_name
    assert " " in brand  # "Zytiga 泽珂": the whole name is one of the drug's names, not only its words
    context = PatientContext(allergies=(PatientAllergy("drug", brand, "mild"),))
    [finding] = [f for f in check([line("ABIRATERONE-250MG-TAB", 1000)], context) if f.kind == Kind.ALLERGY]
    assert finding.rule_id == "allergy"


def test_the_reaction_is_named_in_each_language_and_an_unlisted_one_as_recorded():
    moderate = PatientContext(allergies=(PatientAllergy("class", "penicillins", "moderate"),))
    [finding] = [f for f in check([line("AMOXICILLIN-250MG-CAP", 500, "mg", "TID")], moderate)
                 if f.kind == Kind.ALLERGY]
    assert "recorded as moderate." in finding.message_en and "记录为中度。" in finding.message_zh
    rash = PatientContext(allergies=(PatientAllergy("class", "penicillins", "rash"),))
    [finding] = [f for f in check([line("AMOXICILLIN-250MG-CAP", 500, "mg", "TID")], rash)
                 if f.kind == Kind.ALLERGY]
    assert "recorded as rash." in finding.message_en and "记录为rash。" in finding.message_zh


def test_two_allergies_met_by_one_drug_are_two_findings():
    context = PatientContext(allergies=(PatientAllergy("class", "penicillins", "mild"),
                                        PatientAllergy("drug", "amoxicillin", "moderate")))
    findings = [f for f in check([line("AMOXICILLIN-250MG-CAP", 500, "mg", "TID")], context)
                if f.kind == Kind.ALLERGY]
    reactions = sorted(f.message_en.split("recorded as ")[1].split(".")[0] for f in findings)
    assert reactions == ["mild", "moderate"]


def test_the_configured_age_of_a_stale_fact_is_the_one_applied():
    renal = Fact("egfr", Decimal(25), measured_on=TODAY - timedelta(days=60))
    base = PatientContext(age=70, facts=(renal,), today=TODAY)
    fresh = [f for f in check([line("METFORMIN-500MG-TAB", 500)], base) if f.kind == Kind.RENAL]
    shorter = replace(base, fact_max_age_days={"renal": 59})
    stale = [f for f in check([line("METFORMIN-500MG-TAB", 500)], shorter) if f.kind == Kind.RENAL]
    assert len(fresh) == len(stale) == 1
    assert stale[0].message_en.startswith(fresh[0].message_en) and stale[0].message_en != fresh[0].message_en


def test_a_maximum_daily_dose_needs_both_its_amount_and_its_unit():
    metformin = SHIPPED["METFORMIN-500MG-TAB"]
    for drug in (replace(metformin, max_daily_dose=None, max_daily_dose_unit="mg"),
                 replace(metformin, max_daily_dose=Decimal(2000), max_daily_dose_unit=None)):
        findings = check([replace(line("METFORMIN-500MG-TAB", 1000, "mg", "TID"), drug=drug)])
        assert Kind.MAX_DOSE not in {f.kind for f in findings}
    assert Kind.MAX_DOSE in {f.kind for f in check([line("METFORMIN-500MG-TAB", 1000, "mg", "TID")])}
