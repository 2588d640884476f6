"""`make mutation`: mutmut over the pure rule modules, each against its fast tests, into one report file."""

# Why a driver rather than a [tool.mutmut] table: mutmut takes one test selection per run, and each
# module here has its own fast tests (devtools/mutation.toml); a run over the whole suite would take
# hours on two cores. mutmut also writes its mutated copy (mutants/) beside what it mutates, so it
# works in a copy of the tree under build/: the working files are never changed, and the tests others
# run meanwhile never see a mutant.

import argparse
import ast
import configparser
import json
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

from devtools.mutation_limits import load_limits, run_limit
from devtools.mutation_report import COLUMNS, LIMITS_FILE, UNLISTED, counts, duration, write_report

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "devtools" / "mutation.toml"
DOC = ROOT / "docs" / "mutation.md"
# The name that selects the second pass, the limits moved by one step (devtools/mutation_limits.py).
LIMITS = "limits"
# Left out of the copy: not source, or not needed by these tests (node_modules is for the browser tests).
TOP_LEVEL_SKIPPED = {".git", ".venv", "node_modules", "build", "instance", "test-results", "mutants"}
CACHES = {"__pycache__", ".pytest_cache", ".ruff_cache"}
# What the app needs beside app/ and tests/ to start: its config, the migrations that build the SQLite
# schema, the templates and the compiled translations the tests read.
ALSO_COPY = ["config.py", "wsgi.py", "devtools/", "migrations/", "templates/", "static/", "translations/"]
PRELOAD = "mutmut-preload.txt"
# mutmut counts a worker that ended with exit code 255 as timed out, but that is also how a worker ends
# when running the tests raised (pytest's usage error, say): the mutant was never tested.
BROKEN_RUN = 255
# pytest's exit code when collecting failed: with import_per_mutant, a mutant that breaks the import
# of the app (a state machine built wrong) stops every test. mutmut files it as interrupted by the user,
# or, when the conftest itself cannot import the app (pytest's usage error), as BROKEN_RUN.
COLLECTION_FAILED = 2
HUNK = re.compile(r"^@@ -(\d+)")
RESULT = re.compile(r"^\s+(\S+): (.+)$")


@dataclass(frozen=True)
class Target:
    name: str
    modules: tuple[str, ...]
    tests: tuple[str, ...]
    functions: tuple[str, ...] = ()
    import_per_mutant: bool = False
    warm: tuple[str, ...] = ()  # modules the fork server imports last, for what they load
    plugins: tuple[str, ...] = ()  # pytest plugins (modules) every run of the target loads


def load_config() -> tuple[dict, list[Target], list]:
    data = tomllib.loads(CONFIG.read_text(encoding="utf-8"))
    targets = []
    for entry in data["target"]:
        modules = []
        for pattern in entry["modules"]:
            found = sorted(path.relative_to(ROOT).as_posix() for path in ROOT.glob(pattern))
            if not found:  # a module renamed or moved must not silently drop out of the run
                raise SystemExit(f"{CONFIG.name}: {entry['name']}: nothing matches {pattern}")
            modules += [module for module in found if module not in modules]
        for function in entry.get("functions", ()):
            sources = [(ROOT / module).read_text(encoding="utf-8") for module in modules]
            if not any(function in function_lines(source) for source in sources):
                raise SystemExit(f"{CONFIG.name}: {entry['name']}: no function {function}")
        for test in entry["tests"]:
            if not (ROOT / test.split("::")[0]).is_file():
                raise SystemExit(f"{CONFIG.name}: {entry['name']}: no test file {test}")
        targets.append(Target(entry["name"], tuple(modules), tuple(entry["tests"]),
                              tuple(entry.get("functions", ())), entry.get("import_per_mutant", False),
                              tuple(entry.get("warm", ())), tuple(entry.get("plugins", ()))))
    return data["settings"], targets, load_limits(data, ROOT)


def select(targets: list[Target], wanted: list[str]) -> list[Target]:
    """Targets by name, or a target cut down to the modules named (with the same tests)."""
    known = {LIMITS} | {target.name for target in targets} | {m for target in targets for m in target.modules}
    unknown = [word for word in wanted if word not in known]
    if unknown:
        raise SystemExit(f"unknown target or module: {' '.join(unknown)} (see {CONFIG.relative_to(ROOT)})")
    if not wanted:
        return targets
    chosen = []
    for target in targets:
        modules = target.modules if target.name in wanted else tuple(m for m in target.modules if m in wanted)
        if modules:
            chosen.append(replace(target, modules=modules))
    return chosen


def dotted(module: str) -> str:
    return module.removesuffix(".py").replace("/", ".")


def copy_tree(tree: Path) -> None:
    def skipped(folder, names):
        top = Path(folder).resolve() == ROOT
        return {name for name in names if name in CACHES or (top and name in TOP_LEVEL_SKIPPED)}

    shutil.rmtree(tree, ignore_errors=True)
    shutil.copytree(ROOT, tree, ignore=skipped)


def write_mutmut_config(tree: Path, target: Target, settings: dict) -> None:
    """setup.cfg for this target only: mutmut reads it when pyproject.toml has no [tool.mutmut]."""
    config = configparser.ConfigParser()
    config["mutmut"] = {
        "source_paths": "app/",
        "only_mutate": "\n".join(target.modules),
        "pytest_add_cli_args_test_selection": "\n".join(target.tests),
        "pytest_add_cli_args": "\n".join(["-p", "no:cacheprovider",
                                           *(arg for plugin in target.plugins for arg in ("-p", plugin))]),
        "also_copy": "\n".join(ALSO_COPY),
        # Each stats run, clean run and mutant in a fresh fork: the tests' localstripe server binds
        # its aiohttp app to the first event loop and cannot start twice in one process.
        "process_isolation": "forkserver",
        # The fork server imports the app and the test modules but collects no tests: pytest escapes
        # an explicit non-ASCII parametrize id in place (test_numbers' "MAX_DOSE_BY_UNIT[µg]"), so a
        # second collection in one process names the test differently, and every mutant run asking
        # for it by its first name stopped with a usage error.
        "forkserver_warmup": "none" if target.import_per_mutant else "import",
        "preload_modules_file": PRELOAD,
        "timeout_multiplier": str(settings["timeout_multiplier"]),
        "timeout_constant": str(settings["timeout_constant"]),
        # Every run starts from an empty mutants/, and the copy sits inside this repository's
        # work tree: git would describe the working files, not the copy.
        "use_git_change_detection": "false",
    }
    with (tree / "setup.cfg").open("w", encoding="utf-8") as file:
        config.write(file)
    (tree / PRELOAD).write_text("\n".join(preloaded(target)) + "\n", encoding="utf-8")


def preloaded(target: Target) -> list[str]:
    """What the fork server imports once for all mutants: the app, the modules, the tests and conftests."""
    names = ["app", *map(dotted, target.modules)]
    for test in target.tests:
        path = Path(test.split("::")[0])
        for folder in reversed(path.parents[:-1]):
            if (ROOT / folder / "conftest.py").is_file():
                names.append(dotted(f"{folder.as_posix()}/conftest.py"))
        names.append(dotted(path.as_posix()))
    return list(dict.fromkeys([*names, *target.plugins, *target.warm]))


def test_env() -> dict:
    env = dict(os.environ)
    # SQLite only: the fast tests need no PostgreSQL, and CI=true without TEST_DATABASE_URL is refused.
    env.pop("TEST_DATABASE_URL", None)
    env.pop("CI", None)
    return env


def mutmut(tree: Path, *args: str, log=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mutmut", *args],  # noqa: S603  (a fixed argv, no shell)
                          cwd=tree, env=test_env(), text=True, stdout=log or subprocess.PIPE,
                          stderr=subprocess.STDOUT, check=False)


def function_of(name: str, module: str) -> str:
    """`app.numbers.x_parse_int__mutmut_3` → parse_int; `…xǁErrorǁ__init____mutmut_1` → Error.__init__."""
    mangled = name.removeprefix(dotted(module) + ".").rsplit("__mutmut_", 1)[0]
    if mangled.startswith("xǁ"):
        return ".".join(mangled[2:].split("ǁ"))
    return mangled.removeprefix("x_")


def function_lines(source: str) -> dict[str, tuple[int, int]]:
    """First line (its comments and decorators, as mutmut prints it) and last line of each function."""
    lines = source.splitlines()
    found = {}

    def first_line(node) -> int:
        first = min([node.lineno] + [decorator.lineno for decorator in node.decorator_list])
        while first > 1 and lines[first - 2].lstrip().startswith("#"):
            first -= 1
        return first

    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            found[node.name] = (first_line(node), node.end_lineno)
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                    found[f"{node.name}.{item.name}"] = (first_line(item), item.end_lineno)
    return found


def locate(diff: str, span: tuple[int, int], lines: list[str]) -> int:
    """The file line of the diff's first removed line: its offset in the function, checked by its text."""
    start = None
    for row in diff.splitlines():
        hunk = HUNK.match(row)
        if hunk:
            start = int(hunk.group(1))
            continue
        if start is None or row.startswith(("---", "+++")):
            continue
        if row.startswith("-"):
            guess = span[0] + start - 1
            matches = [number for number in range(span[0], span[1] + 1)
                       if lines[number - 1].rstrip() == row[1:].rstrip()]
            return min(matches, key=lambda number: abs(number - guess)) if matches else guess
        if not row.startswith("+"):
            start += 1
    return span[0]


def changed_lines(diff: str) -> str:
    return "\n".join(row for row in diff.splitlines()
                     if row.startswith(("-", "+")) and not row.startswith(("---", "+++")))


def reached_tests(tree: Path, module: str) -> list[str]:
    """The test files whose tests reached the module's functions, from mutmut's stats."""
    try:
        stats = json.loads((tree / "mutants" / "mutmut-stats.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    prefix = dotted(module) + ".x"
    by_function = stats.get("tests_by_mangled_function_name", {})
    return sorted({test.split("::")[0] for function, tests in by_function.items()
                   if function.startswith(prefix) for test in tests})


def collect(tree: Path, target: Target) -> dict[str, dict]:
    """Each module's mutants: status, function, line and the changed lines of those not killed."""
    listing = mutmut(tree, "results", "--all", "true").stdout
    statuses = dict(match.groups() for match in map(RESULT.match, listing.splitlines()) if match)
    modules = {}
    for module in target.modules:
        try:
            meta = json.loads((tree / "mutants" / f"{module}.meta").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            meta = {}
        for name, code in meta.get("exit_code_by_key", {}).items():
            if name not in statuses:
                continue
            if code == COLLECTION_FAILED or (code == BROKEN_RUN and target.import_per_mutant):
                statuses[name] = "killed"
            elif code == BROKEN_RUN:
                statuses[name] = "error"
        source = (ROOT / module).read_text(encoding="utf-8")
        spans, lines = function_lines(source), source.splitlines()
        mutants = []
        for name, status in sorted(statuses.items(), key=lambda item: _natural(item[0])):
            if not name.startswith(dotted(module) + ".x"):
                continue
            function = function_of(name, module)
            if target.functions and function not in target.functions:
                continue
            span = spans.get(function, (1, len(lines)))
            entry = {"name": name, "status": status, "function": function, "line": span[0]}
            if status not in UNLISTED:
                diff = mutmut(tree, "show", name).stdout
                entry["line"] = locate(diff, span, lines)
                entry["diff"] = changed_lines(diff)
            mutants.append(entry)
        modules[module] = {"mutants": mutants, "reached": reached_tests(tree, module)}
    return modules


def _natural(name: str):
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def run_target(tree: Path, target: Target, settings: dict, logs: Path) -> dict:
    write_mutmut_config(tree, target, settings)
    shutil.rmtree(tree / "mutants", ignore_errors=True)  # no result carried over from an older run
    names = [f"{dotted(module)}.x_{function}__mutmut_*"
             for module in target.modules for function in target.functions]
    log_path = logs / f"{target.name}.log"
    began = time.monotonic()
    with log_path.open("w", encoding="utf-8") as log:
        finished = mutmut(tree, "run", "--max-children", str(settings["jobs"]), *names, log=log)
    seconds = round(time.monotonic() - began)
    modules = collect(tree, target)
    failure = None
    if finished.returncode != 0:
        tail = log_path.read_text(encoding="utf-8", errors="replace").replace("\r", "\n").splitlines()[-30:]
        failure = {"log": log_path.relative_to(ROOT).as_posix(), "tail": "\n".join(tail)}
    return {"target": target.name, "tests": list(target.tests), "functions": list(target.functions),
            "seconds": seconds, "modules": modules, "failure": failure}


def commit() -> str:
    def git(*args):
        return subprocess.run(["git", *args],  # noqa: S603, S607  (a fixed argv, no shell; git from PATH)
                              cwd=ROOT, capture_output=True, text=True, check=False).stdout.strip()

    head = git("rev-parse", "--short", "HEAD") or "unknown"
    changed = git("status", "--porcelain", "--untracked-files=no")
    return head + (" with uncommitted changes" if changed else "")



def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("only", nargs="*", help="targets or modules to run, or `limits` for the limits moved "
                                                "by one step (default: all of devtools/mutation.toml)")
    parser.add_argument("--list", action="store_true", help="print the targets, their modules and tests")
    args = parser.parse_args(argv)
    settings, targets, limits = load_config()
    chosen = select(targets, args.only)
    with_limits = not args.only or LIMITS in args.only
    if args.list:
        for target in chosen:
            print(f"{target.name}: {' '.join(target.modules)}\n    tests: {' '.join(target.tests)}")
        for limit in limits if with_limits else ():
            print(f"{LIMITS}: {limit.name}: {limit.file}: {limit.text}\n    tests: {' '.join(limit.tests)}")
        return 0
    work = ROOT / settings["work"]
    results, logs, tree = work / "results", work / "logs", work / "tree"
    results.mkdir(parents=True, exist_ok=True)
    logs.mkdir(parents=True, exist_ok=True)
    copy_tree(tree)
    module_order = [module for target in targets for module in target.modules]
    began, failed = time.monotonic(), False
    for target in chosen:
        print(f"mutation: {target.name} ({', '.join(target.modules)}) …", flush=True)
        run = run_target(tree, target, settings, logs)
        run |= {"at": now(), "commit": commit(), "mutmut": version("mutmut")}
        # One file per module, so a later run of some modules keeps the others' sections.
        for module in target.modules:
            single = run | {"modules": {module: run["modules"][module]}}
            (results / f"{dotted(module)}.json").write_text(json.dumps(single, indent=1), encoding="utf-8")
        for module, data in run["modules"].items():
            found = counts(data["mutants"])
            tally = ", ".join(f"{found[key]} {COLUMNS.get(key, key)}" for key in [*COLUMNS, "other"])
            print(f"    {module}: {tally}")
        failure = f"; FAILED, see {run['failure']['log']}" if run["failure"] else ""
        print(f"    {duration(run['seconds'])}{failure}", flush=True)
        failed = failed or run["failure"] is not None
        # After each target, so that a long run stopped part way still leaves a current report.
        write_report(results, ROOT / settings["report"], module_order, DOC)
    if with_limits:
        (tree / "setup.cfg").unlink(missing_ok=True)  # the last target's [mutmut] section
        done = {"at": now(), "commit": commit(), "limits": []}
        for limit in limits:
            print(f"mutation: limit {limit.name} ({limit.file}: {limit.text}) …", flush=True)
            done["limits"].append(run_limit(tree, limit, test_env(), logs))
            moves = done["limits"][-1]["moves"]
            print("    " + ", ".join(f"{move['change']}: {move['status']}" for move in moves), flush=True)
        (results / LIMITS_FILE).write_text(json.dumps(done, indent=1), encoding="utf-8")
    report, still_open = write_report(results, ROOT / settings["report"], module_order, DOC)
    took = duration(round(time.monotonic() - began))
    print(f"mutation: {took} in all; report in {report.relative_to(ROOT)}; "
          f"{still_open} survivors or limit moves not caught nor explained")
    return 1 if failed or still_open else 0


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")


if __name__ == "__main__":
    sys.exit(main())
