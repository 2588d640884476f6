"""The shipped knowledge base: valid, versioned, sourced, and broad (every ONC pair, the named ones)."""

import re
import shutil

import pytest

from app.checks import loader
from app.checks.engine import Kind, Severity, check
from app.checks.knowledge import DATA_DIR, KnowledgeBaseError, Problem
from tests.checks.conftest import SHIPPED, line

# ONC list sides the chain does not stock: amphetamines and their derivatives are controlled stimulants
# (and could not be prescribed online); the catalogue knows them only as inactive reference entries.
UNSTOCKED_SIDES = {"group:amphetamines"}
ONC_RULE = re.compile(r"onc(\d\d)-")


def catalogue_drugs(kb, selector: str) -> list[str]:
    return sorted(code for code, drug in SHIPPED.items()
                  if selector in kb.profile(drug.atc_code, drug.ingredients).tags)


def test_the_shipped_knowledge_base_is_valid_versioned_and_broad(kb):
    assert re.fullmatch(r"\d+\.\d+\.\d+\+[0-9a-f]{8}", kb.version)
    assert (DATA_DIR / "VERSION").read_text(encoding="utf-8").strip().endswith(kb.version.split("+")[0])
    stats = kb.stats()
    assert stats["interactions"] >= 150 and stats["groups"] >= 40 and stats["duplicate_classes"] >= 30


def test_every_pair_of_the_onc_high_priority_list_is_encoded(kb):
    numbers = {int(m.group(1)) for rule in kb.interactions if (m := ONC_RULE.match(rule.rule_id))}
    assert numbers == set(range(1, 16))
    assert all("Phansalkar" in rule.source for rule in kb.interactions if ONC_RULE.match(rule.rule_id))


def test_every_onc_pair_resolves_to_catalogue_drugs_on_each_side_where_the_catalogue_has_one(kb):
    unmapped = []
    for rule in kb.interactions:
        if not ONC_RULE.match(rule.rule_id):
            continue
        for side in (rule.a, rule.b):
            if not catalogue_drugs(kb, side):
                unmapped.append(side)
    assert unmapped == []
    # And the exception is real: no stocked (active) product is an amphetamine.
    for side in UNSTOCKED_SIDES:
        codes = catalogue_drugs(kb, side)
        assert codes and not any(SHIPPED[code].is_active for code in codes)


@pytest.mark.parametrize(("first", "second", "severity"), [
    # oral oncology named in the issue
    ("CAPECITABINE-500MG-TAB", "WARFARIN-2.5MG-TAB", Severity.MAJOR),
    ("TAMOXIFEN-10MG-TAB", "PAROXETINE-20MG-TAB", Severity.MAJOR),
    ("TAMOXIFEN-10MG-TAB", "FLUOXETINE-20MG-CAP", Severity.MAJOR),
    ("TAMOXIFEN-10MG-TAB", "BUPROPION-150MG-SRTAB", Severity.MAJOR),
    ("METHOTREXATE-50MG-INJ", "IBUPROFEN-300MG-SRCAP", Severity.MAJOR),
    ("METHOTREXATE-2.5MG-TAB", "NAPROXEN-250MG-TAB", Severity.MODERATE),
    ("METHOTREXATE-2.5MG-TAB", "SMZ-TMP-400-80MG-TAB", Severity.MAJOR),
    ("METHOTREXATE-50MG-INJ", "OMEPRAZOLE-20MG-ECCAP", Severity.MAJOR),
    ("IMATINIB-100MG-TAB", "RIFAMPICIN-150MG-CAP", Severity.MAJOR),
    ("IMATINIB-100MG-TAB", "CLARITHROMYCIN-250MG-TAB", Severity.MODERATE),
    ("GEFITINIB-250MG-TAB", "CARBAMAZEPINE-200MG-TAB", Severity.MAJOR),
    ("ERLOTINIB-150MG-TAB", "ITRACONAZOLE-100MG-CAP", Severity.MAJOR),
    ("OSIMERTINIB-80MG-TAB", "PHENYTOIN-100MG-TAB", Severity.MAJOR),
    ("PALBOCICLIB-125MG-CAP", "VORICONAZOLE-200MG-TAB", Severity.MAJOR),
    ("OLAPARIB-150MG-TAB", "POSACONAZOLE-100MG-ECTAB", Severity.MAJOR),
    ("EVEROLIMUS-10MG-TAB", "RITONAVIR-100MG-TAB", Severity.MAJOR),
    ("ERLOTINIB-150MG-TAB", "OMEPRAZOLE-20MG-ECCAP", Severity.MAJOR),
    ("GEFITINIB-250MG-TAB", "ESOMEPRAZOLE-20MG-ECTAB", Severity.MAJOR),
    # chronic care named in the issue
    ("SIMVASTATIN-20MG-TAB", "CLARITHROMYCIN-250MG-TAB", Severity.CONTRAINDICATED),
    ("SILDENAFIL-100MG-TAB", "ISOSORBIDE-MONONITRATE-60MG-SRTAB", Severity.CONTRAINDICATED),
    ("TADALAFIL-20MG-TAB", "NITROGLYCERIN-0.5MG-SLTAB", Severity.CONTRAINDICATED),
    ("WARFARIN-2.5MG-TAB", "FLUCONAZOLE-150MG-CAP", Severity.MAJOR),
    ("WARFARIN-2.5MG-TAB", "VORICONAZOLE-200MG-TAB", Severity.MAJOR),
    ("CLOPIDOGREL-75MG-TAB", "OMEPRAZOLE-20MG-ECCAP", Severity.MAJOR),
    ("ENALAPRIL-10MG-TAB", "VALSARTAN-80MG-CAP", Severity.MAJOR),
    ("BENAZEPRIL-10MG-TAB", "LOSARTAN-50MG-TAB", Severity.MAJOR),
    # the broader set
    ("ATORVASTATIN-20MG-TAB", "CLARITHROMYCIN-250MG-TAB", Severity.MAJOR),
    ("WARFARIN-2.5MG-TAB", "IBUPROFEN-300MG-SRCAP", Severity.MAJOR),
    ("WARFARIN-2.5MG-TAB", "CLOPIDOGREL-75MG-TAB", Severity.MAJOR),
    ("WARFARIN-2.5MG-TAB", "AMIODARONE-200MG-TAB", Severity.MAJOR),
    ("WARFARIN-2.5MG-TAB", "SMZ-TMP-400-80MG-TAB", Severity.MAJOR),
    ("RIVAROXABAN-20MG-TAB", "RITONAVIR-100MG-TAB", Severity.MAJOR),
    ("APIXABAN-2.5MG-TAB", "RIFAMPICIN-150MG-CAP", Severity.MAJOR),
    ("DABIGATRAN-110MG-CAP", "DRONEDARONE-400MG-TAB", Severity.CONTRAINDICATED),
    ("APIXABAN-2.5MG-TAB", "WARFARIN-2.5MG-TAB", Severity.MAJOR),
    ("DIGOXIN-0.25MG-TAB", "AMIODARONE-200MG-TAB", Severity.MAJOR),
    ("DIGOXIN-0.25MG-TAB", "VERAPAMIL-240MG-SRTAB", Severity.MAJOR),
    ("CITALOPRAM-20MG-TAB", "LEVOFLOXACIN-500MG-TAB", Severity.MAJOR),
    ("ZIPRASIDONE-20MG-CAP", "MOXIFLOXACIN-400MG-TAB", Severity.CONTRAINDICATED),
    ("SERTRALINE-50MG-TAB", "LINEZOLID-600MG-TAB", Severity.MAJOR),
    ("LITHIUM-250MG-TAB", "ENALAPRIL-10MG-TAB", Severity.MAJOR),
    ("LITHIUM-250MG-TAB", "HYDROCHLOROTHIAZIDE-25MG-TAB", Severity.MAJOR),
    ("LITHIUM-250MG-TAB", "DICLOFENAC-75MG-SRTAB", Severity.MAJOR),
    ("SPIRONOLACTONE-20MG-TAB", "VALSARTAN-80MG-CAP", Severity.MODERATE),
    ("COLCHICINE-0.5MG-TAB", "CLARITHROMYCIN-250MG-TAB", Severity.MAJOR),
    ("THEOPHYLLINE-100MG-SRTAB", "CIPROFLOXACIN-250MG-TAB", Severity.MAJOR),
    ("RITONAVIR-100MG-TAB", "AMIODARONE-200MG-TAB", Severity.CONTRAINDICATED),
    ("TICAGRELOR-90MG-TAB", "CLARITHROMYCIN-250MG-TAB", Severity.CONTRAINDICATED),
    ("ESOMEPRAZOLE-20MG-ECTAB", "CLOPIDOGREL-75MG-TAB", Severity.MAJOR),
    ("AZATHIOPRINE-50MG-TAB", "ALLOPURINOL-100MG-TAB", Severity.MAJOR),
    ("FENTANYL-25UGH-PATCH", "DIAZEPAM-2.5MG-TAB", Severity.MAJOR),
    # the ONC list, one pair each (pair 1 has no stocked amphetamine)
    ("ATAZANAVIR-200MG-CAP", "OMEPRAZOLE-20MG-ECCAP", Severity.MAJOR),
    ("FEBUXOSTAT-40MG-TAB", "MERCAPTOPURINE-50MG-TAB", Severity.CONTRAINDICATED),
    ("ESCITALOPRAM-10MG-TAB", "SELEGILINE-5MG-TAB", Severity.CONTRAINDICATED),
    ("IRINOTECAN-100MG-INJ", "KETOCONAZOLE-200MG-TAB", Severity.CONTRAINDICATED),
    ("TRAMADOL-100MG-SRTAB", "PHENELZINE-15MG-TAB", Severity.CONTRAINDICATED),
    ("AMITRIPTYLINE-25MG-TAB", "TRANYLCYPROMINE-10MG-TAB", Severity.CONTRAINDICATED),
    ("PIMOZIDE-2MG-TAB", "THIORIDAZINE-25MG-TAB", Severity.CONTRAINDICATED),
    ("RAMELTEON-8MG-TAB", "FLUVOXAMINE-50MG-TAB", Severity.CONTRAINDICATED),
    ("LOPINAVIR-RITONAVIR-200-50MG-TAB", "RIFAMPICIN-150MG-CAP", Severity.CONTRAINDICATED),
    ("SIMVASTATIN-20MG-TAB", "ITRACONAZOLE-100MG-CAP", Severity.CONTRAINDICATED),
    ("ERGOTAMINE-CAFFEINE-1MG-TAB", "CLARITHROMYCIN-250MG-TAB", Severity.CONTRAINDICATED),
    ("TIZANIDINE-2MG-TAB", "CIPROFLOXACIN-250MG-TAB", Severity.CONTRAINDICATED),
    ("TRANYLCYPROMINE-10MG-TAB", "PROCARBAZINE-50MG-CAP", Severity.CONTRAINDICATED),
    ("RIZATRIPTAN-10MG-TAB", "ISOCARBOXAZID-10MG-TAB", Severity.CONTRAINDICATED),
])
def test_named_interactions_fire_on_catalogue_drugs(first, second, severity):
    findings = [f for f in check([line(first, 1, "tablet"), line(second, 1, "tablet", position=2)])
                if f.kind == Kind.INTERACTION]
    assert findings, f"no interaction for {first} + {second}"
    assert max(f.severity for f in findings) == severity


def test_every_rule_has_a_source_and_a_chinese_message(kb):
    rules = [*kb.interactions, *kb.duplicates, *kb.cross_reactivity, *kb.rules.values()]
    assert all(len(rule.source) >= 10 for rule in rules)
    assert all(re.search(r"[\u4e00-\u9fff]", rule.message_zh) for rule in rules)
    assert len({rule.rule_id for rule in rules}) == len(rules)


def test_the_severity_policy_of_the_fixed_checks(kb):
    severity = {rule_id: rule.severity for rule_id, rule in kb.rules.items()}
    assert severity["weekly-only"] == severity["not-online-controlled"] == Severity.CONTRAINDICATED
    assert severity["allergy-severe"] == Severity.CONTRAINDICATED and severity["allergy"] == Severity.MAJOR
    assert severity["max-daily-dose"] == severity["supply-limit"] == Severity.MAJOR
    assert {rule.severity for rule in kb.duplicates} == {Severity.MODERATE}


# ---- validation ------------------------------------------------------------------------------------------

@pytest.fixture
def data_copy(tmp_path):
    target = tmp_path / "kb"
    shutil.copytree(DATA_DIR, target)
    return target


def append(path, text: str) -> int:
    """Add lines to a data file; returns the file line number of the first one."""
    existing = path.read_text(encoding="utf-8")
    path.write_text(existing + text, encoding="utf-8")
    return existing.count("\n") + 1


def problems_of(directory) -> list[Problem]:
    with pytest.raises(KnowledgeBaseError) as error:
        loader.load(directory)
    return error.value.problems


def test_a_bad_interaction_row_is_reported_by_file_line_and_column(data_copy):
    first = append(data_copy / "interactions.csv",
                   "test-bad,ingredient:warfarin,group:no_such_group,severe,{a} with {b},{a}与{b},Label 7\n"
                   "test-atc,atc:C1,ingredient:Warfarin,major,{a} with {c},only english,Some label 7\n")
    problems = problems_of(data_copy)
    unknown_group = "No group named 'no_such_group' in groups.csv."
    assert Problem("interactions.csv", first, "b", unknown_group) in problems
    assert any(p[:3] == ("interactions.csv", first, "severity") for p in map(astuple, problems))
    second = first + 1
    columns = {p.column for p in problems if (p.file, p.line) == ("interactions.csv", second)}
    assert columns == {"a", "b", "message_en", "message_zh"}
    assert str(problems[0]).startswith("interactions.csv:")


def astuple(problem: Problem) -> tuple:
    return (problem.file, problem.line, problem.column, problem.message)


def test_a_duplicate_rule_id_or_pair_and_a_group_cycle_are_refused(data_copy):
    line_no = append(data_copy / "interactions.csv",
                     "onc09-ramelteon-fluvoxamine,ingredient:fluvoxamine,ingredient:ramelteon,major,"
                     "{a} {b},{a}与{b},FDA label Rozerem 7\n")
    cycle_line = append(data_copy / "groups.csv", "loop_a,group:loop_b,test cycle source\n"
                                                  "loop_b,group:loop_a,test cycle source\n")
    problems = problems_of(data_copy)
    places = {(p.file, p.line, p.column) for p in problems}
    assert ("interactions.csv", line_no, "rule_id") in places
    assert ("interactions.csv", line_no, "b") in places  # the same pair, written the other way round
    assert ("groups.csv", cycle_line, "member") in places


def test_a_missing_column_and_a_missing_fixed_rule_are_reported(data_copy):
    rules = data_copy / "rules.csv"
    rules.write_text("\n".join(t for t in rules.read_text(encoding="utf-8").splitlines()
                               if not t.startswith("weekly-only,")) + "\n", encoding="utf-8")
    cross = data_copy / "cross_reactivity.csv"
    cross.write_text(cross.read_text(encoding="utf-8").replace("severity", "grade", 1), encoding="utf-8")
    problems = problems_of(data_copy)
    assert Problem("rules.csv", 1, "rule_id", "The rule 'weekly-only' is missing.") in problems
    missing = "This column is missing from the header."
    assert Problem("cross_reactivity.csv", 1, "severity", missing) in problems


def test_reloading_a_broken_knowledge_base_keeps_the_working_one(data_copy):
    current = loader.get()
    (data_copy / "VERSION").write_text("one point oh\n", encoding="utf-8")
    with pytest.raises(KnowledgeBaseError) as error:
        loader.reload(data_copy)
    assert Problem("VERSION", 1, "version", "Write the version as MAJOR.MINOR.PATCH.") in error.value.problems
    assert loader.get() is current


def test_an_edited_file_changes_the_reported_version(data_copy):
    before = loader.load(data_copy).version
    append(data_copy / "groups.csv", "extra_group,ingredient:warfarin,Test source for the digest\n")
    after = loader.load(data_copy).version
    assert before.split("+")[0] == after.split("+")[0] and before != after
