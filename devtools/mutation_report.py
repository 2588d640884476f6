"""`make mutation`'s report: each module's mutants, each limit's moves, survivors against docs/mutation.md."""

import json
import re
from pathlib import Path

from devtools.mutation_limits import CAUGHT, render_limits

COLUMNS = {"killed": "killed", "survived": "survived", "timeout": "timed out", "no tests": "no coverage"}
# Statuses whose mutants the report does not show one by one ("not checked": the run stopped first).
UNLISTED = ("killed", "no tests", "not checked")
# A mutant named in docs/mutation.md's table of equivalent mutants: `app.numbers.x_parse_int__mutmut_3`.
EXPLAINED_NAME = re.compile(r"`(app\.[\w.ǁ]+__mutmut_\d+)`")
LIMITS_FILE = "limits.json"


def explained_names(doc: Path) -> set[str]:
    """The mutants docs/mutation.md explains as equivalent (in its "Equivalent mutants" section)."""
    text = doc.read_text(encoding="utf-8") if doc.is_file() else ""
    section = text.partition("## Equivalent mutants")[2]
    return set(EXPLAINED_NAME.findall(section))


def counts(mutants: list[dict]) -> dict[str, int]:
    found = dict.fromkeys([*COLUMNS, "other"], 0)
    for mutant in mutants:
        found[mutant["status"] if mutant["status"] in COLUMNS else "other"] += 1
    return found


def open_mutants(mutants: list[dict], explained: set[str]) -> list[dict]:
    """What still needs a test: survivors not explained, and mutants whose run broke (never tested)."""
    return [m for m in mutants if m["status"] not in (*UNLISTED, "timeout") and m["name"] not in explained]


def duration(seconds: int) -> str:
    return f"{seconds // 60} min {seconds % 60:02d} s"


def render(runs: list[dict], module_order: list[str], explained: set[str], limits: dict | None) -> str:
    """The report from every stored run, in the config's order (modules run earlier keep their section)."""
    by_module = {module: run for run in runs for module in run["modules"]}
    order = [module for module in module_order if module in by_module]
    out = ["# Mutation testing report", "",
           "Made by `make mutation` (docs/mutation.md). Each survivor is a change to the code that none of "
           "the module's fast tests notices: it needs a test that fails on it, or a row in the "
           "\"Equivalent mutants\" table of docs/mutation.md saying why no test can. *Open* counts the "
           "survivors not explained there, and mutants whose test run broke.", "",
           "## Summary", "",
           "| module | mutants | killed | survived | explained | timed out | no coverage | other | caught "
           "| open |",
           "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|"]
    for module in order:
        mutants = by_module[module]["modules"][module]["mutants"]
        found = counts(mutants)
        equivalent = sum(m["status"] == "survived" and m["name"] in explained for m in mutants)
        tested = sum(found.values()) - found["no tests"]
        caught = f"{100 * (found['killed'] + found['timeout']) / tested:.0f} %" if tested else "–"
        cells = [str(sum(found.values())), str(found["killed"]), str(found["survived"]), str(equivalent),
                 str(found["timeout"]), str(found["no tests"]), str(found["other"]), caught,
                 str(len(open_mutants(mutants, explained)))]
        out.append(f"| {module} | " + " | ".join(cells) + " |")
    out += ["", "caught = (killed + timed out) / (mutants − no coverage). *No coverage*: no selected test "
            "reaches the function, so its mutants were not run.", "",
            "| target | modules | tests | run at | commit | mutmut | time |", "|---|---|---|---|---|---|--:|"]
    for run in runs:
        out.append(f"| {run['target']} | {'<br>'.join(run['modules'])} | {'<br>'.join(run['tests'])} | "
                   f"{run['at']} | {run['commit']} | {run['mutmut']} | {duration(run['seconds'])} |")
    if limits:
        out += render_limits(limits)
    for module in order:
        out += _module_section(module, by_module[module], explained)
    return "\n".join(out) + "\n"


def _module_section(module: str, run: dict, explained: set[str]) -> list[str]:
    data = run["modules"][module]
    out = ["", f"## {module}", "", f"Target `{run['target']}`"
           + (f", functions {', '.join(run['functions'])} only" if run["functions"] else "") + ". "
           + "Tests that reached it: " + (", ".join(data["reached"]) or "none") + "."]
    if run["failure"]:
        failure = run["failure"]
        out += ["", f"**The run failed** (log: {failure['log']}):", "", "```", failure["tail"], "```"]
    listed = [m for m in data["mutants"] if m["status"] not in UNLISTED]
    unchecked = sum(m["status"] == "not checked" for m in data["mutants"])
    if unchecked:
        out += ["", f"{unchecked} mutants were not checked: the run stopped before them."]
    for status in sorted({m["status"] for m in listed}, key=lambda s: (s != "survived", s)):
        group = [m for m in listed if m["status"] == status]
        out += ["", f"### {COLUMNS.get(status, status).capitalize()} ({len(group)})"]
        for mutant in group:
            settled = " — equivalent, explained in docs/mutation.md" if mutant["name"] in explained else ""
            place = f"`{module}:{mutant['line']}` in `{mutant['function']}` ({mutant['name']})"
            out += ["", place + settled, "", "```diff", mutant["diff"], "```"]
    uncovered = {}
    for mutant in data["mutants"]:
        if mutant["status"] == "no tests":
            uncovered.setdefault((mutant["line"], mutant["function"]), []).append(mutant)
    if uncovered:
        out += ["", f"### No coverage ({sum(map(len, uncovered.values()))})", ""]
        out += [f"- `{module}:{line}` `{function}`: {len(group)} mutants"
                for (line, function), group in sorted(uncovered.items())]
    surviving = {m["name"] for m in data["mutants"] if m["status"] == "survived"}
    prefix = module.removesuffix(".py").replace("/", ".") + ".x"
    stale = sorted(name for name in explained if name.startswith(prefix) and name not in surviving)
    if stale:
        out += ["", "### Explained in docs/mutation.md but no longer surviving", ""]
        out += [f"- `{name}`" for name in stale]
    return out


def write_report(results: Path, report: Path, module_order: list[str], doc: Path) -> tuple[Path, int]:
    """The report from every stored result; returns it and the number of open survivors and uncaught moves."""
    stored = {}
    for path in sorted(results.glob("*.json")):
        if path.name == LIMITS_FILE:
            continue
        run = json.loads(path.read_text(encoding="utf-8"))
        stored.setdefault((run["target"], run["at"]), run | {"modules": {}})["modules"] |= run["modules"]
    position = {module: number for number, module in enumerate(module_order)}
    runs = sorted(stored.values(),
                  key=lambda run: (min(position.get(m, len(position)) for m in run["modules"]), run["at"]))
    limits_path = results / LIMITS_FILE
    limits = json.loads(limits_path.read_text(encoding="utf-8")) if limits_path.is_file() else None
    explained = explained_names(doc)
    report.write_text(render(runs, module_order, explained, limits), encoding="utf-8")
    still_open = sum(len(open_mutants(run["modules"][module]["mutants"], explained))
                     for run in runs for module in run["modules"] if module in position)
    if limits:
        still_open += sum(move["status"] != CAUGHT for limit in limits["limits"] for move in limit["moves"])
    return report, still_open
