"""`flask checks run CASE.json` and `flask checks validate`, as a pharmacist or informatician uses them."""

import json
import shutil

import pytest

from app.checks.knowledge import DATA_DIR
from app.checks.loader import get


@pytest.fixture
def run(app, whole_catalogue, tmp_path):
    runner = app.test_cli_runner()

    def run_case(case: dict):
        path = tmp_path / "CASE.json"
        path.write_text(json.dumps(case, ensure_ascii=False), encoding="utf-8")
        return runner.invoke(args=["checks", "run", str(path)])

    return run_case


def test_a_case_prints_its_findings_as_json_worst_first(run):
    result = run({
        "age": 67, "sex": "female", "conditions": ["I10", "E78.5"],
        "allergies": [{"substance": "penicillins", "severity": "anaphylaxis"}],
        "prescription": [
            {"drug": "simvastatin", "dose": 40, "unit": "mg", "frequency": "QN", "duration_days": 7},
            {"drug": "J01FA09", "dose": 500, "unit": "mg", "frequency": "bid", "duration_days": 7},
            {"drug": "阿莫西林", "dose": 500, "unit": "mg", "frequency": "TID", "duration_days": 7},
        ],
        "active_medications": [
            {"drug": "Warfarin", "source": "dispensing", "reference": "dispensed 2026-11-02"}],
    })
    assert result.exit_code == 0, result.output
    output = json.loads(result.output)
    assert output["knowledge_base_version"] == get().version
    assert [d["code"] for d in output["drugs"]] == [
        "SIMVASTATIN-20MG-TAB", "CLARITHROMYCIN-250MG-TAB", "AMOXICILLIN-250MG-CAP", "WARFARIN-2.5MG-TAB"]
    findings = [(f["severity"], f["rule_id"], f["drugs"]) for f in output["findings"]]
    assert findings == [
        ("contraindicated", "onc11-statins-strong-cyp3a4-inhibitors",
         ["SIMVASTATIN-20MG-TAB", "CLARITHROMYCIN-250MG-TAB"]),
        ("contraindicated", "allergy-severe", ["AMOXICILLIN-250MG-CAP"]),
        ("moderate", "ac-coumarins-simvastatin", ["SIMVASTATIN-20MG-TAB", "WARFARIN-2.5MG-TAB"]),
        ("moderate", "ac-coumarins-macrolides", ["CLARITHROMYCIN-250MG-TAB", "WARFARIN-2.5MG-TAB"]),
        # Neither antibiotic treats hypertension or hyperlipidaemia, the only diagnoses given.
        ("moderate", "no-matching-diagnosis", ["CLARITHROMYCIN-250MG-TAB"]),
        ("moderate", "no-matching-diagnosis", ["AMOXICILLIN-250MG-CAP"]),
    ]
    warfarin = output["findings"][3]
    assert warfarin["other"] == {"drug": "WARFARIN-2.5MG-TAB", "on": "active_medication", "line": None,
                                 "source": "dispensing", "reference": "dispensed 2026-11-02"}
    assert "华法林" in warfarin["message_zh"]  # printed as Chinese, not \\u escapes
    assert "华法林" in result.output


def test_an_unknown_drug_fails_and_names_the_entry(run):
    result = run({"prescription": [
        {"drug": "amlodipine", "dose": 5, "unit": "mg", "frequency": "QD", "duration_days": 7},
        {"drug": "simvastatn", "dose": 20, "unit": "mg", "frequency": "QN", "duration_days": 7}]})
    assert result.exit_code != 0
    assert "prescription[2] ('simvastatn'): no drug in the catalogue" in result.output
    assert "findings" not in result.output


def test_an_ambiguous_or_malformed_entry_is_refused_with_every_reason(run):
    result = run({"prescription": [
        {"drug": "rivaroxaban", "dose": 1, "unit": "tablet", "frequency": "QD", "duration_days": 7},
        {"drug": "amlodipine", "dose": -5, "unit": "mg", "frequency": "daily", "duration_days": 7}],
        "active_medications": [{"drug": "methotrexate"}], "allergies": [{"substance": "penicillins"}]})
    assert result.exit_code != 0
    assert ("prescription[1] ('rivaroxaban'): ambiguous: RIVAROXABAN-10MG-TAB, RIVAROXABAN-20MG-TAB"
            in result.output)
    assert "prescription[2]: dose must be a number above zero." in result.output
    assert "prescription[2] frequency: 'DAILY' is not one of" in result.output
    assert ("active_medications[1] ('methotrexate'): ambiguous: METHOTREXATE-2.5MG-TAB, "
            "METHOTREXATE-50MG-INJ") in result.output
    assert "allergies[1] severity" in result.output


@pytest.mark.parametrize(("drug", "dose", "unit", "code"), [
    ("rivaroxaban", 20, "mg", "RIVAROXABAN-20MG-TAB"),
    ("Rivaroxaban", 10, "mg", "RIVAROXABAN-10MG-TAB"),
    ("二甲双胍", 500, "mg", "METFORMIN-500MG-TAB"),  # the plain tablet before the sustained-release one
    ("methotrexate", 10, "mg", "METHOTREXATE-2.5MG-TAB"),  # whole tablets before a fifth of a vial
    ("B01AF01", 15, "mg", "RIVAROXABAN-10MG-TAB"),  # 1½ tablets of 10 mg, not ¾ of 20 mg
    ("METFORMIN-500MG-SRTAB", 1000, "mg", "METFORMIN-500MG-SRTAB"),
])
def test_a_name_with_several_packs_is_resolved_by_the_dose(run, drug, dose, unit, code):
    result = run({"prescription": [{"drug": drug, "dose": dose, "unit": unit, "frequency": "QD",
                                    "duration_days": 7}]})
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["drugs"][0]["code"] == code


def test_validate_reports_the_version_and_the_problems(app, tmp_path):
    runner = app.test_cli_runner()
    good = runner.invoke(args=["checks", "validate"])
    assert good.exit_code == 0 and f"Knowledge base {get().version}:" in good.output
    broken = tmp_path / "kb"
    shutil.copytree(DATA_DIR, broken)
    with open(broken / "groups.csv", "a", encoding="utf-8") as handle:
        handle.write("statins,atc:C1X,test source row\n")
    bad = runner.invoke(args=["checks", "validate", "--knowledge-base", str(broken)])
    assert bad.exit_code != 0
    assert "groups.csv:" in bad.output and ":member: Not a WHO ATC code" in bad.output
