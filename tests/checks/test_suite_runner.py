"""`flask checks run DIR`: the pharmacists' regression suite, through the real command."""

import json
import re
from pathlib import Path

import pytest

CASES = Path(__file__).resolve().parent / "cases"

CLOPIDOGREL_OMEPRAZOLE = [  # one major finding: cv-clopidogrel-omeprazole
    {"drug": "clopidogrel", "dose": 75, "unit": "mg", "frequency": "QD", "duration_days": 7},
    {"drug": "omeprazole", "dose": 20, "unit": "mg", "frequency": "QD", "duration_days": 7},
]
AMLODIPINE = [{"drug": "amlodipine", "dose": 5, "unit": "mg", "frequency": "QD", "duration_days": 7}]


@pytest.fixture
def cli(app, whole_catalogue):
    runner = app.test_cli_runner()
    return lambda *args: runner.invoke(args=["checks", "run", *map(str, args)])


@pytest.fixture
def folder(tmp_path):
    """A suite folder; write(name, case) adds one case file to it."""
    root = tmp_path / "suite"
    root.mkdir()

    def write(name: str, case: dict | str) -> Path:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        text = case if isinstance(case, str) else json.dumps(case, ensure_ascii=False)
        path.write_text(text, encoding="utf-8")
        return path

    write.root = root
    return write


def row(output: str, name: str) -> str:
    rows = [line for line in output.splitlines() if line.startswith(name + " ")]
    assert len(rows) == 1, output
    return rows[0]


def lines_after(output: str, name: str) -> list[str]:
    """The indented lines under a case's row: why it missed, or what is wrong with it."""
    lines = output.splitlines()
    start = lines.index(row(output, name)) + 1
    below = []
    for line in lines[start:]:
        if not line.startswith("    "):
            break
        below.append(line.strip())
    return below


# ---- the shipped suite ----------------------------------------------------------------------------

def test_every_shipped_case_passes_through_the_command(cli):
    files = sorted(CASES.glob("*.json"))
    assert len(files) >= 30
    for path in files:
        case = json.loads(path.read_text(encoding="utf-8"))
        assert case.get("title") and case.get("expect"), f"{path.name} needs a title and an expect"
    result = cli(CASES)
    assert result.exit_code == 0, result.output
    assert f"{len(files)} cases: {len(files)} passed, 0 missed, 0 errors" in result.output
    assert row(result.output, "interaction-simvastatin-clarithromycin.json").endswith("pass")


def test_the_shipped_suite_covers_each_family_the_knowledge_base_has_today():
    families = {path.name.split("-")[0] for path in CASES.glob("*.json")}
    assert {"interaction", "duplicate", "allergy", "dose", "weekly", "supply", "online", "clean"} <= families


# ---- verdicts ----------------------------------------------------------------------------------------

def test_a_wrong_expectation_is_a_miss_with_its_reason_and_fails_the_run(cli, folder):
    folder("quiet.json", {"title": "should be quiet", "expect": {"max_severity": "none"},
                          "prescription": AMLODIPINE})
    folder("statin.json", {"expect": {"max_severity": "major"}, "prescription": [
        {"drug": "simvastatin", "dose": 40, "unit": "mg", "frequency": "QN", "duration_days": 7},
        {"drug": "clarithromycin", "dose": 500, "unit": "mg", "frequency": "BID", "duration_days": 7}]})
    result = cli(folder.root)
    assert result.exit_code == 1, result.output
    assert row(result.output, "quiet.json").endswith("pass")
    statin = row(result.output, "statin.json")
    assert statin.endswith("MISS")
    assert "≤ major" in statin and "contraindicated onc11-statins-strong-cyp3a4-inhibitors" in statin
    assert lines_after(result.output, "statin.json") == [
        "expected nothing above major; got onc11-statins-strong-cyp3a4-inhibitors (contraindicated)."]
    assert "2 cases: 1 passed, 1 missed, 0 errors" in result.output


def test_a_case_that_does_not_load_is_an_error_with_its_text_and_the_rest_still_run(cli, folder):
    folder("a-broken.json", {"expect": {"min_severity": "major"}, "prescription": [
        {"drug": "simvastatn", "dose": 20, "unit": "mg", "frequency": "QN", "duration_days": 7}]})
    folder("b-not-json.json", '{"prescription": [')
    folder("c-good.json", {"expect": {"min_severity": "major"}, "prescription": CLOPIDOGREL_OMEPRAZOLE})
    result = cli(folder.root)
    assert result.exit_code == 1, result.output
    assert row(result.output, "a-broken.json").endswith("ERROR")
    assert lines_after(result.output, "a-broken.json") == [
        "prescription[1] ('simvastatn'): no drug in the catalogue has this name, ATC code or code."]
    assert row(result.output, "b-not-json.json").endswith("ERROR")
    assert "not valid JSON (line 1, column" in lines_after(result.output, "b-not-json.json")[0]
    assert row(result.output, "c-good.json").endswith("pass")
    assert "3 cases: 1 passed, 0 missed, 2 errors" in result.output


@pytest.mark.parametrize(("expect", "verdict"), [
    ({"max_severity": "moderate"}, "MISS"),  # a major finding is above moderate
    ({"max_severity": "major"}, "pass"),  # at the maximum is within it
    ({"max_severity": "none"}, "MISS"),
    ({"min_severity": "contraindicated"}, "MISS"),  # major is below contraindicated
    ({"min_severity": "major"}, "pass"),  # at the minimum is enough
    ({"min_severity": "moderate", "max_severity": "major"}, "pass"),
    ({"rules": ["cv-clopidogrel-omeprazole"]}, "pass"),
    ({"rules": ["cv-clopidogrel-esomeprazole"]}, "MISS"),
    ({"absent_rules": ["cv-clopidogrel-omeprazole"]}, "MISS"),
    ({"absent_rules": ["dup-ppis"]}, "pass"),
])
def test_severity_bounds_and_rules_are_compared_at_their_boundaries(cli, folder, expect, verdict):
    folder("case.json", {"expect": expect, "prescription": CLOPIDOGREL_OMEPRAZOLE})
    result = cli(folder.root)
    assert row(result.output, "case.json").endswith(verdict), result.output
    assert result.exit_code == (0 if verdict == "pass" else 1)


def test_a_case_without_expect_is_listed_and_never_fails(cli, folder):
    folder("sub/no-expect.json", {"title": "just looking", "prescription": CLOPIDOGREL_OMEPRAZOLE})
    result = cli(folder.root)
    assert result.exit_code == 0, result.output
    assert re.fullmatch(r"sub/no-expect\.json\s+—\s+major cv-clopidogrel-omeprazole\s+—",
                        row(result.output, "sub/no-expect.json"))
    assert "1 cases: 0 passed, 0 missed, 0 errors, 1 without expect" in result.output


@pytest.mark.parametrize(("expect", "message"), [
    ({"min_severty": "major"}, "expect: unknown key 'min_severty'; expected absent_rules, max_severity, "
                               "min_severity, rules."),
    ({"max_severity": "severe"}, "expect.max_severity: 'severe' is not one of contraindicated, major, "
                                 "moderate, minor or 'none'."),
    ({"min_severity": "none"},
     "expect.min_severity: 'none' is not one of contraindicated, major, moderate, minor."),
    ({"min_severity": "major", "max_severity": "moderate"},
     "expect: min_severity major is above max_severity moderate; no result can satisfy both."),
    ({"rules": "cv-clopidogrel-omeprazole"}, "expect.rules: a list of rule ids"),
    ({"absent_rules": ["cv-clopidogrel-omeprazol"]},
     "expect: no rule 'cv-clopidogrel-omeprazol' in knowledge base"),  # a typo would pass forever
    ({}, "expect: an object with at least one of"),
])
def test_a_malformed_expectation_is_a_clear_case_error(cli, folder, expect, message):
    folder("case.json", {"title": "t", "expect": expect, "prescription": CLOPIDOGREL_OMEPRAZOLE})
    result = cli(folder.root)
    assert result.exit_code == 1
    assert row(result.output, "case.json").endswith("ERROR")
    assert lines_after(result.output, "case.json")[0].startswith(message), result.output


def test_title_and_note_must_be_text(cli, folder):
    folder("case.json", {"title": ["x"], "note": 3, "expect": {"min_severity": "major"},
                         "prescription": CLOPIDOGREL_OMEPRAZOLE})
    result = cli(folder.root)
    assert lines_after(result.output, "case.json") == [
        "title: free text for people reading the case, as a string.",
        "note: free text for people reading the case, as a string."]


def test_an_empty_folder_is_not_a_passing_suite(cli, folder):
    result = cli(folder.root)
    assert result.exit_code != 0
    assert "no *.json case files" in result.output


# ---- output options ------------------------------------------------------------------------------

def test_timing_adds_the_engine_time_of_each_case_and_names_the_slowest(cli, folder):
    folder("a.json", {"expect": {"min_severity": "major"}, "prescription": CLOPIDOGREL_OMEPRAZOLE})
    folder("b.json", {"expect": {"max_severity": "none"}, "prescription": AMLODIPINE})
    folder("c.json", {"expect": {"bogus": 1}, "prescription": AMLODIPINE})
    result = cli(folder.root, "--timing")
    assert result.exit_code == 1, result.output  # c.json is an error
    header = next(line for line in result.output.splitlines() if line.startswith("case "))
    assert header.split()[-1] == "ms"
    for name in ("a.json", "b.json"):
        assert re.search(r"\s(pass)\s+\d+\.\d{3}$", row(result.output, name)), result.output
    assert row(result.output, "c.json").endswith("—")  # nothing ran, nothing to time
    assert re.search(r"^slowest: [ab]\.json, \d+\.\d{3} ms \(engine\.check, median of 20 runs\)$",
                     result.output, re.MULTILINE)


def test_json_gives_each_case_its_verdict(cli, folder):
    folder("a.json", {"title": "PPI", "expect": {"min_severity": "major"},
                      "prescription": CLOPIDOGREL_OMEPRAZOLE})
    folder("b.json", {"expect": {"min_severity": "major"}, "prescription": AMLODIPINE})
    result = cli(folder.root, "--json")
    assert result.exit_code == 1
    output = json.loads(result.output)
    assert [(c["case"], c["title"], c["verdict"], c["worst"], c["rule_ids"]) for c in output["cases"]] == [
        ("a.json", "PPI", "pass", "major", ["cv-clopidogrel-omeprazole"]),
        ("b.json", None, "miss", None, [])]
    assert output["summary"] == {"cases": 2, "pass": 1, "miss": 1, "error": 0, "unchecked": 0}


def test_a_single_case_file_still_prints_its_findings_as_json(cli, folder):
    # A single file is a look at the findings, not a verdict: its expect is validated, not judged.
    path = folder("case.json", {"title": "PPI", "note": "n", "expect": {"max_severity": "none"},
                                "prescription": CLOPIDOGREL_OMEPRAZOLE})
    result = cli(path)
    assert result.exit_code == 0, result.output
    output = json.loads(result.output)
    assert set(output) == {"knowledge_base_version", "drugs", "findings"}
    assert [f["rule_id"] for f in output["findings"]] == ["cv-clopidogrel-omeprazole"]
    timing = cli(path, "--timing")
    assert timing.exit_code == 2 and "--timing and --json are for a directory" in timing.output
