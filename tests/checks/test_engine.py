"""The checks on real catalogue facts: each acceptance case flagged at its severity, clean ones quiet."""

import random

import pytest

from app.checks.engine import Kind, OtherOn, PatientAllergy, PatientContext, Severity, check
from tests.checks.conftest import line, taking


def only(findings, kind=None, rule_id=None):
    matching = [f for f in findings
                if (kind is None or f.kind == kind) and (rule_id is None or f.rule_id == rule_id)]
    assert len(matching) == 1, [(f.kind, f.rule_id) for f in findings]
    return matching[0]


def worst(findings):
    return max((f.severity for f in findings), default=None)


# ---- the acceptance cases ---------------------------------------------------------------------------

def test_methotrexate_10_mg_once_daily_is_contraindicated_for_a_weekly_only_drug():
    findings = check([line("METHOTREXATE-2.5MG-TAB", 10, "mg", "QD")])
    finding = only(findings, Kind.WEEKLY_ONLY)
    assert finding.severity == Severity.CONTRAINDICATED
    assert "once weekly" in finding.message_en and "每周一次" in finding.message_zh


def test_methotrexate_once_weekly_at_a_usual_dose_is_not_flagged():
    assert check([line("METHOTREXATE-2.5MG-TAB", 15, "mg", "QW")]) == []


def test_simvastatin_40_mg_with_clarithromycin_is_contraindicated():
    findings = check([line("SIMVASTATIN-20MG-TAB", 40, "mg", "QN"),
                      line("CLARITHROMYCIN-250MG-TAB", 500, "mg", "BID", position=2)])
    finding = only(findings, Kind.INTERACTION)
    assert finding.severity == Severity.CONTRAINDICATED
    assert finding.drug_codes == ("SIMVASTATIN-20MG-TAB", "CLARITHROMYCIN-250MG-TAB")
    assert (finding.other_on, finding.other_line) == (OtherOn.PRESCRIPTION, 2)
    assert "Zocor" in finding.source and "Phansalkar" in finding.source


def test_sildenafil_with_isosorbide_mononitrate_is_contraindicated():
    findings = check([line("SILDENAFIL-100MG-TAB", 50),
                      line("ISOSORBIDE-MONONITRATE-60MG-SRTAB", 60, position=2)])
    assert only(findings, Kind.INTERACTION).severity == Severity.CONTRAINDICATED


def test_tamoxifen_with_paroxetine_is_a_major_interaction():
    findings = check([line("TAMOXIFEN-10MG-TAB", 20), line("PAROXETINE-20MG-TAB", 20, position=2)])
    finding = only(findings, Kind.INTERACTION)
    assert finding.severity == Severity.MAJOR
    assert finding.rule_id == "onco-tamoxifen-strong-cyp2d6-inhibitors"


def test_capecitabine_for_a_patient_still_taking_warfarin_is_a_major_interaction():
    warfarin = taking("WARFARIN-2.5MG-TAB", "prescription", "prescription 7")
    context = PatientContext(active_medications=(warfarin,))
    finding = only(check([line("CAPECITABINE-500MG-TAB", 1500, "mg", "BID")], context), Kind.INTERACTION)
    assert finding.severity == Severity.MAJOR
    assert finding.drug_codes == ("CAPECITABINE-500MG-TAB", "WARFARIN-2.5MG-TAB")
    assert finding.other_on == OtherOn.ACTIVE_MEDICATION and finding.other_reference == "prescription 7"


@pytest.mark.parametrize(("reaction", "severity"), [("anaphylaxis", Severity.CONTRAINDICATED),
                                                     ("severe", Severity.CONTRAINDICATED),
                                                     ("mild", Severity.MAJOR)])
def test_amoxicillin_for_a_penicillin_allergic_patient_is_flagged_by_the_reaction(reaction, severity):
    context = PatientContext(allergies=(PatientAllergy("class", "penicillins", reaction),))
    finding = only(check([line("AMOXICILLIN-250MG-CAP", 500, "mg", "TID")], context), Kind.ALLERGY)
    assert finding.severity == severity
    assert "Penicillins" in finding.message_en and "青霉素类" in finding.message_zh


def test_atorvastatin_with_rosuvastatin_is_duplicate_therapy():
    findings = check([line("ATORVASTATIN-20MG-TAB", 20), line("ROSUVASTATIN-10MG-TAB", 10, position=2)])
    finding = only(findings, Kind.DUPLICATE)
    assert (finding.rule_id, finding.severity) == ("dup-statins", Severity.MODERATE)
    assert "他汀类" in finding.message_zh


def test_metformin_3000_mg_a_day_is_above_the_maximum_daily_dose():
    finding = only(check([line("METFORMIN-500MG-TAB", 1000, "mg", "TID")]), Kind.MAX_DOSE)
    assert finding.severity == Severity.MAJOR
    assert "3000 mg" in finding.message_en and "2550 mg" in finding.message_en


def test_an_interaction_with_a_drug_still_taken_from_an_earlier_dispense_is_found():
    dispensed = taking("CLARITHROMYCIN-250MG-TAB", "dispensing", "dispensing 88")
    context = PatientContext(active_medications=(dispensed,))
    finding = only(check([line("SIMVASTATIN-20MG-TAB", 20, "mg", "QN")], context), Kind.INTERACTION)
    assert finding.severity == Severity.CONTRAINDICATED
    assert (finding.other_on, finding.other_source, finding.other_reference) == (
        OtherOn.ACTIVE_MEDICATION, "dispensing", "dispensing 88")
    assert finding.other_line is None


# ---- clean prescriptions ----------------------------------------------------------------------------

def test_amlodipine_5_mg_once_daily_for_hypertension_has_no_finding_above_minor():
    hypertension = PatientContext(condition_codes=("I10",))
    findings = check([line("AMLODIPINE-5MG-TAB", 5, "mg", "QD", 28)], hypertension, "chronic")
    assert worst(findings) in (None, Severity.MINOR)


def test_metformin_500_mg_twice_daily_for_diabetes_has_no_finding_above_minor():
    diabetes = PatientContext(condition_codes=("E11.9",))
    findings = check([line("METFORMIN-500MG-TAB", 500, "mg", "BID", 28)], diabetes, "chronic")
    assert worst(findings) in (None, Severity.MINOR)


def test_amlodipine_with_metformin_together_has_no_finding_above_minor():
    findings = check([line("AMLODIPINE-5MG-TAB", 5),
                      line("METFORMIN-500MG-TAB", 500, frequency="BID", position=2)])
    assert worst(findings) in (None, Severity.MINOR)


# ---- matching rules -----------------------------------------------------------------------------------

def test_interactions_match_whichever_drug_comes_first():
    forward = check([line("SIMVASTATIN-20MG-TAB", 20), line("CLARITHROMYCIN-250MG-TAB", 500, position=2)])
    backward = check([line("CLARITHROMYCIN-250MG-TAB", 500), line("SIMVASTATIN-20MG-TAB", 20, position=2)])
    assert [f.rule_id for f in forward] == [f.rule_id for f in backward] == [
        "onc11-statins-strong-cyp3a4-inhibitors"]
    # The message always names the drugs in the rule's order (the statin first).
    assert forward[0].message_en == backward[0].message_en


def test_interactions_with_active_medication_match_in_both_directions():
    on_rx_statin = check([line("SIMVASTATIN-20MG-TAB", 20)],
                         PatientContext(active_medications=(taking("CLARITHROMYCIN-250MG-TAB"),)))
    on_rx_macrolide = check([line("CLARITHROMYCIN-250MG-TAB", 500)],
                            PatientContext(active_medications=(taking("SIMVASTATIN-20MG-TAB"),)))
    assert [f.rule_id for f in on_rx_statin] == [f.rule_id for f in on_rx_macrolide]
    assert on_rx_macrolide[0].drug_codes == ("CLARITHROMYCIN-250MG-TAB", "SIMVASTATIN-20MG-TAB")


@pytest.mark.parametrize(("combination", "partner", "rule_id"), [
    ("SMZ-TMP-400-80MG-TAB", "METHOTREXATE-2.5MG-TAB", "onco-methotrexate-trimethoprim"),
    ("LOPINAVIR-RITONAVIR-200-50MG-TAB", "SIMVASTATIN-20MG-TAB", "onc11-statins-strong-cyp3a4-inhibitors"),
    ("SACUBITRIL-VALSARTAN-100MG-TAB", "ENALAPRIL-10MG-TAB", "cv-sacubitril-ace"),
    ("SACUBITRIL-VALSARTAN-100MG-TAB", "ENALAPRIL-10MG-TAB", "cv-ace-arb"),
    ("SALMETEROL-FLUTICASONE-50-250UG-INH", "RITONAVIR-100MG-TAB",
     "resp-fluticasone-strong-cyp3a4-inhibitors"),
    ("SALMETEROL-FLUTICASONE-50-250UG-INH", "RITONAVIR-100MG-TAB",
     "resp-salmeterol-strong-cyp3a4-inhibitors"),
])
def test_a_combination_product_matches_through_each_ingredient(combination, partner, rule_id):
    findings = check([line(combination, 1, "tablet"), line(partner, 1, "tablet", position=2)])
    assert rule_id in {f.rule_id for f in findings}


def test_a_symmetric_rule_fires_once_per_pair():
    findings = check([line("CITALOPRAM-20MG-TAB", 20), line("AZITHROMYCIN-250MG-TAB", 500, position=2)])
    assert [(f.rule_id, f.drug_codes) for f in findings] == [
        ("qt-known-risk-pair", ("CITALOPRAM-20MG-TAB", "AZITHROMYCIN-250MG-TAB"))]


def test_a_drug_is_never_checked_against_itself_and_a_refill_is_not_a_duplicate():
    rx = [line("RIVAROXABAN-20MG-TAB", 20), line("WARFARIN-2.5MG-TAB", 2.5, position=2)]
    refills = (taking("RIVAROXABAN-20MG-TAB"), taking("WARFARIN-2.5MG-TAB"))
    context = PatientContext(active_medications=refills)
    # Warfarin is never delivered (a minor note for the pharmacist); only the pairs matter here.
    findings = [f for f in check(rx, context) if f.rule_id != "not-deliverable"]
    # Only the two different anticoagulants meet: on the prescription, and each against the other's refill.
    assert {(f.rule_id, f.drug_codes) for f in findings} == {
        ("ac-anticoagulants-pair", ("RIVAROXABAN-20MG-TAB", "WARFARIN-2.5MG-TAB")),
        ("ac-anticoagulants-pair", ("WARFARIN-2.5MG-TAB", "RIVAROXABAN-20MG-TAB"))}
    assert len(findings) == 3  # line 1 × line 2, line 1 × active warfarin, line 2 × active rivaroxaban


def test_the_same_ingredient_twice_on_a_prescription_is_a_major_duplicate():
    findings = check([line("VALSARTAN-80MG-CAP", 80), line("SACUBITRIL-VALSARTAN-100MG-TAB", 100, "mg", "BID",
                                                             position=2)])
    finding = only(findings)
    assert (finding.rule_id, finding.severity) == ("duplicate-ingredient", Severity.MAJOR)
    assert "缬沙坦" in finding.message_zh


def test_findings_come_worst_first_in_a_stable_order():
    rx = [line("METFORMIN-500MG-TAB", 1000, "mg", "TID"),
          line("SIMVASTATIN-20MG-TAB", 40, "mg", "QN", position=2),
          line("CLARITHROMYCIN-250MG-TAB", 500, "mg", "BID", days=10, position=3),
          line("ATORVASTATIN-20MG-TAB", 20, position=4)]
    active = [taking("WARFARIN-2.5MG-TAB"), taking("AMIODARONE-200MG-TAB"), taking("OMEPRAZOLE-20MG-ECCAP")]
    findings = check(rx, PatientContext(active_medications=tuple(active)))
    severities = [f.severity for f in findings]
    assert severities == sorted(severities, reverse=True)
    assert severities[0] == Severity.CONTRAINDICATED and Severity.MODERATE in severities
    for _ in range(5):
        random.shuffle(active)
        again = check(rx, PatientContext(active_medications=tuple(active)))
        assert [f.to_dict() for f in again] == [f.to_dict() for f in findings]


def test_severity_orders_by_clinical_weight_not_alphabet():
    assert Severity.CONTRAINDICATED > Severity.MAJOR > Severity.MODERATE > Severity.MINOR
    assert sorted(["minor", Severity.CONTRAINDICATED, Severity.MODERATE, Severity.MAJOR],
                  key=lambda s: Severity(s).rank, reverse=True)[0] == Severity.CONTRAINDICATED


# ---- the regulatory checks ------------------------------------------------------------------------------

@pytest.mark.parametrize("code", ["OXYCODONE-10MG-SRTAB", "ALPRAZOLAM-0.4MG-TAB",
                                  "ERGOTAMINE-CAFFEINE-1MG-TAB"])
def test_controlled_drugs_are_contraindicated_online(code):
    finding = only(check([line(code, 1, "tablet")]), Kind.NOT_ONLINE)
    assert finding.severity == Severity.CONTRAINDICATED


def test_an_inactive_reference_drug_cannot_be_prescribed():
    finding = only(check([line("PHENELZINE-15MG-TAB", 15)]), Kind.INACTIVE)
    assert finding.severity == Severity.CONTRAINDICATED


@pytest.mark.parametrize(("code", "dose", "unit", "rule_id"), [
    ("AZITHROMYCIN-250MG-TAB", 500, "mg", "long-excluded-antimicrobial"),
    ("INSULIN-GLARGINE-300IU-PEN", 10, "IU", "long-excluded-cold-chain"),
    ("DIAZEPAM-2.5MG-TAB", 2.5, "mg", "long-excluded-controlled"),
])
def test_a_long_prescription_may_not_carry_excluded_drugs(code, dose, unit, rule_id):
    finding = only(check([line(code, dose, unit, days=30)], supply_category="long"), Kind.LONG_EXCLUDED)
    assert (finding.rule_id, finding.severity) == (rule_id, Severity.CONTRAINDICATED)


@pytest.mark.parametrize(("category", "days", "flagged"), [("normal", 7, False), ("normal", 8, True),
                                                            ("chronic", 28, False), ("chronic", 29, True),
                                                            ("long", 84, False)])
def test_supply_over_the_limit_of_its_category_is_major(category, days, flagged):
    findings = check([line("AMLODIPINE-5MG-TAB", 5, days=days)], supply_category=category)
    expected = [(Kind.SUPPLY_LIMIT, Severity.MAJOR)] if flagged else []
    assert [(f.kind, f.severity) for f in findings] == expected


def test_a_weekly_drug_counts_its_whole_dose_on_the_dosing_day():
    finding = only(check([line("METHOTREXATE-2.5MG-TAB", 30, "mg", "QW")]), Kind.MAX_DOSE)
    assert finding.severity == Severity.MAJOR
    assert check([line("SEMAGLUTIDE-2MG-PEN", 1, "mg", "QW")]) == []


def test_as_needed_dosing_counts_the_maximum_doses_a_day():
    over = line("SUMATRIPTAN-50MG-TAB", 100, "mg", "PRN", max_doses_per_day=3)
    assert only(check([over]), Kind.MAX_DOSE).message_en.startswith("Sumatriptan: 300 mg a day")
    assert check([line("SUMATRIPTAN-50MG-TAB", 50, "mg", "PRN", max_doses_per_day=2)]) == []


# ---- allergies -------------------------------------------------------------------------------------------

def test_a_penicillin_allergy_flags_a_cephalosporin_as_moderate_cross_reactivity():
    context = PatientContext(allergies=(PatientAllergy("class", "penicillins", "moderate"),))
    finding = only(check([line("CEFUROXIME-AXETIL-250MG-TAB", 250, "mg", "BID")], context))
    assert (finding.kind, finding.severity) == (Kind.CROSS_REACTIVITY, Severity.MODERATE)


def test_an_allergy_to_a_named_drug_reaches_its_class_and_cross_reactive_classes():
    # What adapters.resolve_allergen() finds for "amoxicillin" in the catalogue.
    amoxicillin = PatientAllergy("drug", "Amoxicillin", "severe", atc_codes=("J01CA04",),
                                 ingredients=("amoxicillin",))
    findings = check([line("CEFUROXIME-AXETIL-250MG-TAB", 250, "mg", "BID")],
                     PatientContext(allergies=(amoxicillin,)))
    assert [(f.kind, f.rule_id) for f in findings] == [
        (Kind.CROSS_REACTIVITY, "cross-penicillins-cephalosporins")]


def test_an_allergy_written_in_chinese_matches_the_ingredient_of_a_combination():
    allergy = PatientAllergy("ingredient", "磺胺甲噁唑", "anaphylaxis")
    context = PatientContext(allergies=(allergy,))
    finding = only(check([line("SMZ-TMP-400-80MG-TAB", 2, "tablet", "BID")], context))
    assert (finding.kind, finding.severity) == (Kind.ALLERGY, Severity.CONTRAINDICATED)


def test_a_sulfonamide_allergy_flags_celecoxib_by_its_label():
    context = PatientContext(allergies=(PatientAllergy("class", "sulfonamides", "mild"),))
    finding = only(check([line("CELECOXIB-200MG-CAP", 200)], context))
    assert (finding.rule_id, finding.severity) == ("cross-sulfonamides-celecoxib", Severity.MAJOR)


def test_an_nsaid_allergy_includes_aspirin():
    context = PatientContext(allergies=(PatientAllergy("class", "nsaids", "severe"),))
    finding = only(check([line("ASPIRIN-100MG-ECTAB", 100)], context), Kind.ALLERGY)
    assert finding.severity == Severity.CONTRAINDICATED
