"""`flask adherence pdc FILE.json`, as a pharmacist runs it: JSON per drug, or a clear error."""

import json

import pytest

from app import create_app
from app.adherence.cli import adherence


@pytest.fixture(scope="module")
def cli_app():
    # The command needs no database: a bare testing app, without the migrated `app` fixture.
    return create_app("testing")


@pytest.fixture
def run(cli_app, tmp_path):
    runner = cli_app.test_cli_runner()

    def run_file(content):
        path = tmp_path / "fills.json"
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content if isinstance(content, str) else json.dumps(content, ensure_ascii=False),
                            encoding="utf-8")
        return runner.invoke(adherence, ["pdc", str(path)])

    return run_file


def refused(result) -> str:
    """The message of a refusal: exit code 1 from a ClickException, never a traceback."""
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception  # not an uncaught error
    assert "Traceback" not in result.output
    assert result.stdout == ""
    return result.stderr


def test_prints_each_drug_from_its_first_fill_as_sorted_json(run):
    result = run({"period_end": "2026-03-31", "fills": [
        {"drug": "amlodipine", "date": "2026-01-01", "days_supply": 30},
        {"drug": "  Amlodipine ", "date": "2026-02-09", "days_supply": 30},
        {"drug": "AMLODIPINE", "date": "2026-03-11", "days_supply": 30},
        {"drug": "氨氯地平", "date": "2026-03-02", "days_supply": 30},
        {"drug": "metformin", "date": "2026-04-01", "days_supply": 30},
    ]})
    assert result.exit_code == 0, result.output
    # Amlodipine (any case, spaces stripped): Jan 1–30 + Feb 9–Mar 10 + Mar 11–31 = 30 + 30 + 21 = 81 of
    # Jan 1–Mar 31 = 90: 0.9. 氨氯地平 is its own key: one fill, Mar 2–31 = 30 of 30 days, not eligible.
    # Metformin's only fill is after period_end: not listed.
    expected = {
        "amlodipine": {"eligible": True, "covered_days": 81, "period_days": 90, "pdc": 0.9},
        "氨氯地平": {"eligible": False, "covered_days": 30, "period_days": 30, "pdc": 1.0},
    }
    assert result.stdout == json.dumps(expected, sort_keys=True, ensure_ascii=False, indent=2) + "\n"
    assert "氨氯地平" in result.stdout  # not \u escapes


def test_no_fills_prints_an_empty_object(run):
    result = run({"period_end": "2026-03-31", "fills": []})
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {}


@pytest.mark.parametrize(("content", "message"), [
    ({"fills": []}, "file: missing 'period_end'."),
    ({"period_end": "2026-03-31"}, "file: missing 'fills'."),
    ({"period_end": "2026-03-31", "fills": [], "patient": 7}, "file: unknown key 'patient'."),
    ({"period_end": "2026-02-30", "fills": []}, "period_end: not a date: '2026-02-30' (write YYYY-MM-DD"),
    ({"period_end": "20260331", "fills": []}, "period_end: not a date: '20260331'"),
    ({"period_end": "2026-03-31", "fills": {}}, "fills: must be a list of fills."),
    ({"period_end": "2026-03-31", "fills": ["amlodipine"]}, "fills[0]: each fill must be an object"),
    ({"period_end": "2026-03-31", "fills": [{"drug": "amlodipine", "date": "2026-01-01"}]},
     "fills[0]: missing 'days_supply'."),
    ({"period_end": "2026-03-31", "fills": [{"drug": " ", "date": "2026-01-01", "days_supply": 30}]},
     "fills[0]: 'drug' must be a drug name, not ' '."),
    ({"period_end": "2026-03-31", "fills": [{"drug": "amlodipine", "date": "1/1/2026", "days_supply": 30}]},
     "fills[0] (amlodipine): not a date: '1/1/2026'"),
    ([1, 2], "expected an object"),
])
def test_bad_input_is_refused_with_a_message_naming_the_problem(run, content, message):
    assert message in refused(run(content))


@pytest.mark.parametrize("days_supply", [0, -30, 1.5, "thirty", True, None, 367, "1e999999"])
def test_a_days_supply_that_is_not_a_positive_whole_number_is_refused(run, days_supply):
    error = refused(run({"period_end": "2026-03-31", "fills": [
        {"drug": "amlodipine", "date": "2026-01-01", "days_supply": 30},
        {"drug": "amlodipine", "date": "2026-02-01", "days_supply": days_supply}]}))
    assert "fills[1] (amlodipine): days_supply must be a whole number of days from 1 to 366" in error
    assert "fills[0]" not in error


def test_every_problem_is_listed_at_once(run):
    error = refused(run({"period_end": "2026-13-01", "fills": [
        {"drug": "amlodipine", "date": "2026-01-01", "days_supply": 0},
        {"drug": "metformin", "date": "2026-01-32", "days_supply": 30}]}))
    assert "period_end: not a date" in error
    assert "fills[0] (amlodipine): days_supply" in error
    assert "fills[1] (metformin): not a date: '2026-01-32'" in error


@pytest.mark.parametrize(("content", "message"), [
    ('{"period_end": "2026-03-31", "fills": [', "not valid JSON (line 1, column 40)"),
    ("", "not valid JSON"),
    ('{"period_end": "2026-03-31", "fills": [], "x": ' + "9" * 5000 + "}", "not valid JSON"),
    (b"\xff\xfe{}", "not UTF-8 text."),
])
def test_a_file_that_is_not_json_is_refused(run, content, message):
    assert message in refused(run(content))


def test_an_unreadable_file_is_refused(cli_app, tmp_path):
    runner = cli_app.test_cli_runner()
    missing = refused(runner.invoke(adherence, ["pdc", str(tmp_path / "missing.json")]))
    assert "missing.json: cannot read the file: No such file or directory." in missing
    directory = refused(runner.invoke(adherence, ["pdc", str(tmp_path)]))
    assert "cannot read the file" in directory
