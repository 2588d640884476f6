"""`flask checks run DIR`: a folder of cases, each with the result a pharmacist expects, run as a suite."""

# A case with an "expect" pins what the knowledge base must say about it ("simvastatin with
# clarithromycin is contraindicated", "amlodipine with metformin stays quiet"), so an edit to the data
# files that moves a severity or silences a rule shows up as a MISS before it reaches a prescription.

import json
import statistics
import time
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from app.checks import cases, engine
from app.checks.knowledge import KnowledgeBase, Rule

# The engine answers in well under a millisecond, so one run is mostly noise (a cold profile cache, a
# scheduler tick); the median of 20 is stable from one run to the next.
TIMING_RUNS = 20
EXPECTED_WIDTH = 40
GOT_WIDTH = 56


class Verdict(StrEnum):
    PASS = "pass"  # noqa: S105  (a verdict, not a password)
    MISS = "miss"
    ERROR = "error"
    UNCHECKED = "unchecked"  # no "expect": listed, never a failure


LABELS = {Verdict.PASS: "pass", Verdict.MISS: "MISS", Verdict.ERROR: "ERROR", Verdict.UNCHECKED: "—"}


@dataclass
class Result:
    name: str  # the file, relative to the suite's folder
    verdict: Verdict
    title: str | None = None
    expect: cases.Expectation | None = None
    findings: list[engine.Finding] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)  # why it missed, or what is wrong with the case
    engine_ms: float | None = None

    @property
    def worst(self) -> engine.Severity | None:
        return max((f.severity for f in self.findings), key=lambda s: s.rank, default=None)

    @property
    def rule_ids(self) -> list[str]:
        return list(dict.fromkeys(f.rule_id for f in self.findings))  # worst first, each once


def case_files(directory: Path) -> list[Path]:
    return sorted(directory.rglob("*.json"), key=lambda p: p.relative_to(directory).as_posix())


def known_rule_ids(kb: KnowledgeBase) -> frozenset[str]:
    """Every rule id of the knowledge base, from whichever of its tables holds Rule rows."""
    # Read from the tables the knowledge base has, not a list of them kept here: rule families added
    # later (drug–disease, renal, …) come as new tables, and their ids must not read as typos.
    ids = set()
    pending = list(vars(kb).values())
    while pending:  # tables of rules, and tables of tables (the patient-aware families, by family)
        value = pending.pop()
        if isinstance(value, Rule):
            ids.add(value.rule_id)
        elif isinstance(value, dict):
            pending.extend(value.values())
        elif isinstance(value, tuple):
            pending.extend(item for item in value if isinstance(item, Rule | dict | tuple))
    return frozenset(ids)


def misses(expect: cases.Expectation, findings: list[engine.Finding]) -> list[str]:
    """Each way the findings fall short of the expectation; empty when the case passes."""
    reasons = []
    worst = max((f.severity for f in findings), key=lambda s: s.rank, default=None)
    fired = {f.rule_id for f in findings}
    if expect.min_severity is not None and (worst is None or worst.rank < expect.min_severity.rank):
        reasons.append(f"expected a finding at {expect.min_severity} or worse; "
                       f"the worst was {worst or 'none'}.")
    if expect.no_finding and findings:
        reasons.append(f"expected no finding; got {', '.join(dict.fromkeys(f.rule_id for f in findings))}.")
    elif expect.max_severity is not None and worst is not None and worst.rank > expect.max_severity.rank:
        above = dict.fromkeys(f"{f.rule_id} ({f.severity})" for f in findings
                              if f.severity.rank > expect.max_severity.rank)
        reasons.append(f"expected nothing above {expect.max_severity}; got {', '.join(above)}.")
    reasons += [f"expected rule {rule} to fire; it did not." for rule in expect.rules if rule not in fired]
    reasons += [f"expected rule {rule} not to fire; it did." for rule in expect.absent_rules if rule in fired]
    return reasons


def run_case(path: Path, name: str, kb: KnowledgeBase, known: frozenset[str], timing: bool = False) -> Result:
    try:
        case = cases.load(path)
    except cases.CaseError as error:
        return Result(name, Verdict.ERROR, reasons=list(error.problems))
    except (OSError, UnicodeDecodeError) as error:
        return Result(name, Verdict.ERROR, reasons=[f"cannot read the file: {error}"])
    expect = case.expect
    if expect is not None:
        # A misspelt id in absent_rules would pass forever; an unknown one is a mistake in the case.
        unknown = [rule for rule in (*expect.rules, *expect.absent_rules) if rule not in known]
        if unknown:
            reasons = [f"expect: no rule {rule!r} in knowledge base {kb.version}." for rule in unknown]
            return Result(name, Verdict.ERROR, title=case.title, expect=expect, reasons=reasons)
    durations = []
    for _ in range(TIMING_RUNS if timing else 1):
        start = time.perf_counter()
        findings = engine.check(case.lines, case.context, case.supply_category, kb)
        durations.append(time.perf_counter() - start)
    result = Result(name, Verdict.UNCHECKED, title=case.title, expect=expect, findings=findings,
                    engine_ms=statistics.median(durations) * 1000 if timing else None)
    if expect is not None:
        result.reasons = misses(expect, findings)
        result.verdict = Verdict.MISS if result.reasons else Verdict.PASS
    return result


def run(directory: Path, kb: KnowledgeBase, timing: bool = False) -> list[Result]:
    known = known_rule_ids(kb)
    return [run_case(path, path.relative_to(directory).as_posix(), kb, known, timing)
            for path in case_files(directory)]


def failed(results: list[Result]) -> bool:
    return any(r.verdict in (Verdict.MISS, Verdict.ERROR) for r in results)


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[:width - 1] + "…"


def expected_text(expect: cases.Expectation | None) -> str:
    if expect is None:
        return "—"  # a case to look at, not to judge
    if expect.no_finding:
        parts = ["none"]
    else:
        parts = [f"≥ {expect.min_severity}"] if expect.min_severity else []
        parts += [f"≤ {expect.max_severity}"] if expect.max_severity else []
    parts += [f"+{rule}" for rule in expect.rules] + [f"−{rule}" for rule in expect.absent_rules]
    return " ".join(parts)


def got_text(result: Result) -> str:
    if result.verdict == Verdict.ERROR:
        return ""
    if not result.findings:
        return "none"
    return f"{result.worst} {', '.join(result.rule_ids)}"


def summary(results: list[Result]) -> str:
    count = {verdict: sum(r.verdict == verdict for r in results) for verdict in Verdict}
    line = (f"{len(results)} cases: {count[Verdict.PASS]} passed, {count[Verdict.MISS]} missed, "
            f"{count[Verdict.ERROR]} errors")
    return line + (f", {count[Verdict.UNCHECKED]} without expect" if count[Verdict.UNCHECKED] else "")


def table(results: list[Result], kb: KnowledgeBase, timing: bool = False) -> str:
    """One row per case; under a MISS or an ERROR, why; then the summary (and the slowest case)."""
    header = ["case", "expected", "got", "verdict"] + (["ms"] if timing else [])
    rows = []
    for r in results:
        # A case that did not load may have an expect nobody could read: leave the cell empty.
        expected = "" if r.verdict == Verdict.ERROR and r.expect is None else expected_text(r.expect)
        row = [r.name, _shorten(expected, EXPECTED_WIDTH), _shorten(got_text(r), GOT_WIDTH),
               LABELS[r.verdict]]
        if timing:
            row.append("—" if r.engine_ms is None else f"{r.engine_ms:.3f}")
        rows.append(row)
    widths = [max(len(row[n]) for row in [header, *rows]) for n in range(len(header))]

    def format_row(row: list[str]) -> str:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=True)]
        if timing:
            cells[-1] = row[-1].rjust(widths[-1])  # numbers line up on the right
        return "  ".join(cells).rstrip()

    out = [f"Knowledge base {kb.version}", format_row(header)]
    for result, row in zip(results, rows, strict=True):
        out.append(format_row(row))
        out += [f"    {reason}" for reason in result.reasons]
    out.append(summary(results))
    timed = [r for r in results if r.engine_ms is not None]
    if timing and timed:
        slowest = max(timed, key=lambda r: r.engine_ms)
        out.append(f"slowest: {slowest.name}, {slowest.engine_ms:.3f} ms "
                   f"(engine.check, median of {TIMING_RUNS} runs)")
    return "\n".join(out)


def as_json(results: list[Result], kb: KnowledgeBase) -> str:
    counts = {str(verdict): sum(r.verdict == verdict for r in results) for verdict in Verdict}
    return json.dumps({
        "knowledge_base_version": kb.version,
        "cases": [{"case": r.name, "title": r.title,
                   "expected": None if r.expect is None else expected_text(r.expect),
                   "verdict": str(r.verdict), "worst": str(r.worst) if r.worst else None,
                   "rule_ids": r.rule_ids, "reasons": r.reasons, "engine_ms": r.engine_ms}
                  for r in results],
        "summary": {"cases": len(results), **counts},
    }, ensure_ascii=False, indent=2)
