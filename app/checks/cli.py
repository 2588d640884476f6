"""`flask checks run CASE.json` and `flask checks validate`: the knowledge base, tested without the UI."""

import json
from pathlib import Path

import click
from flask.cli import AppGroup

from app.checks import cases, engine, knowledge, loader

checks = AppGroup("checks", help="Automatic prescription checks: run a case, validate the knowledge base.")


def _knowledge_base(directory: str | None = None) -> knowledge.KnowledgeBase:
    try:
        return loader.load(Path(directory)) if directory else loader.get()
    except knowledge.KnowledgeBaseError as error:
        raise click.ClickException("the knowledge base has problems:\n" + str(error)) from None


@checks.command("run")
@click.argument("case_file", type=click.Path(exists=True, dir_okay=False))
@click.option("--knowledge-base", "directory", type=click.Path(exists=True, file_okay=False),
              help="Check against the data files in this directory instead of the shipped ones.")
def run_command(case_file: str, directory: str | None) -> None:
    """Check one case (drugs, dose, frequency, duration; allergies; active medication) and print
    the findings as JSON, worst first. The case format is in README.md ("Clinical checks")."""
    kb = _knowledge_base(directory)
    try:
        case = cases.load(case_file)
    except cases.CaseError as error:
        raise click.ClickException(f"{case_file}:\n" + "\n".join(f"  {p}" for p in error.problems)) from None
    findings = engine.check(case.lines, case.context, case.supply_category, kb)
    click.echo(json.dumps({"knowledge_base_version": kb.version, "drugs": case.resolved,
                           "findings": [finding.to_dict() for finding in findings]},
                          ensure_ascii=False, indent=2))


@checks.command("validate")
@click.option("--knowledge-base", "directory", type=click.Path(exists=True, file_okay=False),
              help="Validate the data files in this directory instead of the shipped ones.")
def validate_command(directory: str | None) -> None:
    """Load every data file and report each problem by file, line and column."""
    kb = _knowledge_base(directory)
    counts = ", ".join(f"{count} {name.replace('_', ' ')}" for name, count in kb.stats().items())
    click.echo(f"Knowledge base {kb.version}: {counts}.")
