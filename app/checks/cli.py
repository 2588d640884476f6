"""`flask checks run CASE.json|DIR` and `flask checks validate`: the knowledge base, tested without the UI."""

import json
from pathlib import Path

import click
from flask.cli import AppGroup

from app.checks import cases, engine, knowledge, loader, suite

checks = AppGroup("checks", help="Automatic prescription checks: run a case, validate the knowledge base.")


def _knowledge_base(directory: str | None = None) -> knowledge.KnowledgeBase:
    try:
        return loader.load(Path(directory)) if directory else loader.get()
    except knowledge.KnowledgeBaseError as error:
        raise click.ClickException("the knowledge base has problems:\n" + str(error)) from None


@checks.command("run")
@click.argument("path", type=click.Path(exists=True))
@click.option("--knowledge-base", "kb_directory", type=click.Path(exists=True, file_okay=False),
              help="Check against the data files in this directory instead of the shipped ones.")
@click.option("--timing", is_flag=True,
              help=f"With a directory: the engine's time per case (median of {suite.TIMING_RUNS} runs).")
@click.option("--json", "as_json", is_flag=True, help="With a directory: the results as JSON, not a table.")
def run_command(path: str, kb_directory: str | None, timing: bool, as_json: bool) -> None:
    """Check one case (drugs, dose, frequency, duration; allergies; active medication) and print
    the findings as JSON, worst first; or every *.json case under a directory, compared with each
    case's "expect", as a table. The case format is in README.md ("Clinical checks")."""
    kb = _knowledge_base(kb_directory)
    if Path(path).is_dir():
        _run_suite(Path(path), kb, timing, as_json)
        return
    if timing or as_json:
        raise click.UsageError("--timing and --json are for a directory of cases; one case prints its "
                               "findings as JSON.")
    try:
        case = cases.load(path)
    except cases.CaseError as error:
        raise click.ClickException(f"{path}:\n" + "\n".join(f"  {p}" for p in error.problems)) from None
    findings = engine.check(case.lines, case.context, case.supply_category, kb)
    click.echo(json.dumps({"knowledge_base_version": kb.version, "drugs": case.resolved,
                           "findings": [finding.to_dict() for finding in findings]},
                          ensure_ascii=False, indent=2))


def _run_suite(directory: Path, kb: knowledge.KnowledgeBase, timing: bool, as_json: bool) -> None:
    results = suite.run(directory, kb, timing)
    if not results:
        # An empty or mistyped folder must not look like a suite that passed.
        raise click.ClickException(f"{directory}: no *.json case files.")
    click.echo(suite.as_json(results, kb) if as_json else suite.table(results, kb, timing))
    if suite.failed(results):
        raise click.exceptions.Exit(1)


@checks.command("validate")
@click.option("--knowledge-base", "directory", type=click.Path(exists=True, file_okay=False),
              help="Validate the data files in this directory instead of the shipped ones.")
def validate_command(directory: str | None) -> None:
    """Load every data file and report each problem by file, line and column."""
    kb = _knowledge_base(directory)
    counts = ", ".join(f"{count} {name.replace('_', ' ')}" for name, count in kb.stats().items())
    click.echo(f"Knowledge base {kb.version}: {counts}.")
