"""`make mutation`'s second pass: each regulatory and clinical limit moved a step each way, its tests run."""

# mutmut changes code inside functions only, so a limit kept as a module constant or a setting (5 drugs,
# 84 days, 21:00) is never moved by it. This pass moves each limit listed in devtools/mutation.toml by
# one step down and one step up, in its own copy of the tree, and runs the limit's tests against each
# move: a move no test fails on is a limit that could drift unnoticed.

import re
import subprocess
import sys
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

# A number (42, 0.80, 2) or a time of day ("21:00"), the first one in the limit's text.
NUMBER = re.compile(r"(?<![\w.])(\d{1,2}:\d{2}|\d+(?:\.\d+)?)(?![\w.])")
CAUGHT, SURVIVED = "caught", "survived"
# pytest's exit codes: 0 all passed, 1 some failed; anything else means the tests did not run as meant.
PASSED, FAILED = 0, 1


@dataclass(frozen=True)
class Limit:
    name: str
    file: str
    text: str
    tests: tuple[str, ...]
    step: str = "1"


def load_limits(data: dict, root: Path) -> list[Limit]:
    limits = []
    for entry in data.get("limit", ()):
        limit = Limit(entry["name"], entry["file"], entry["text"], tuple(entry["tests"]),
                      str(entry.get("step", "1")))
        source = (root / limit.file).read_text(encoding="utf-8")
        if source.count(limit.text) != 1:  # a limit renamed or moved must not silently drop out of the run
            raise SystemExit(f"mutation.toml: {limit.name!r}: {limit.text!r} is not once in {limit.file}")
        if not NUMBER.search(limit.text):
            raise SystemExit(f"mutation.toml: limit {limit.name!r}: no number in {limit.text!r}")
        for test in limit.tests:
            if not (root / test.split("::")[0]).is_file():
                raise SystemExit(f"mutation.toml: limit {limit.name!r}: no test file {test}")
        limits.append(limit)
    return limits


def moved(text: str, step: str, direction: int) -> str:
    """`text` with its first number one step down (-1) or up (+1): "= 84" → "= 85", "21:00" → "20:59"."""
    match = NUMBER.search(text)
    value = match.group(1)
    if ":" in value:  # a time of day: the step is in minutes
        hours, minutes = map(int, value.split(":"))
        total = (hours * 60 + minutes + direction * int(step)) % (24 * 60)
        new = f"{total // 60:02d}:{total % 60:02d}"
    else:
        number = Decimal(value) + direction * Decimal(step)
        places = max(len(value.partition(".")[2]), len(step.partition(".")[2]))
        new = f"{number:.{places}f}"
    return text[:match.start(1)] + new + text[match.end(1):]


def run_limit(tree: Path, limit: Limit, env: dict, logs: Path) -> dict:
    """Both moves of one limit, each with the limit's tests; the file is put back after each."""
    path = tree / limit.file
    original = path.read_text(encoding="utf-8")
    moves = []
    try:
        for direction in (-1, +1):
            changed = moved(limit.text, limit.step, direction)
            path.write_text(original.replace(limit.text, changed), encoding="utf-8")
            began = time.monotonic()
            log = logs / f"limit-{_slug(limit.name)}{'-down' if direction < 0 else '-up'}.log"
            with log.open("w", encoding="utf-8") as out:
                finished = subprocess.run(  # noqa: S603  (a fixed argv, no shell)
                    [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *limit.tests],
                    cwd=tree, env=env, stdout=out, stderr=subprocess.STDOUT, check=False)
            code = finished.returncode
            status = {FAILED: CAUGHT, PASSED: SURVIVED}.get(code, f"error (pytest exit {code})")
            moves.append({"change": changed, "status": status, "seconds": round(time.monotonic() - began),
                          "failed": _first_failure(log) if code == FAILED else "",
                          "log": log.name})
    finally:
        path.write_text(original, encoding="utf-8")
    return {"name": limit.name, "file": limit.file, "text": limit.text, "tests": list(limit.tests),
            "moves": moves}


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:60]


def _first_failure(log: Path) -> str:
    """The first failing test's id, from pytest's short summary ("FAILED tests/…::test_x - …")."""
    for row in log.read_text(encoding="utf-8", errors="replace").splitlines():
        if row.startswith(("FAILED ", "ERROR ")):
            return row.split(" ", 1)[1].split(" - ", 1)[0]
    return ""


def render_limits(result: dict) -> list[str]:
    """The report's section: one row per move, with the test that failed on it."""
    rows = [move | {"name": limit["name"], "file": limit["file"]}
            for limit in result["limits"] for move in limit["moves"]]
    unnoticed = [row for row in rows if row["status"] != CAUGHT]
    out = ["", "## Limits moved by one step", "",
           f"Run at {result['at']} on {result['commit']}. Each limit of devtools/mutation.toml moved one "
           f"step down and one step up in a copy of the code, and its tests run: "
           f"{len(rows) - len(unnoticed)} of {len(rows)} moves caught"
           + (f", **{len(unnoticed)} not**." if unnoticed else "."), "",
           "| limit | where | moved to | result | first test that failed |", "|---|---|---|---|---|"]
    for row in rows:
        result_cell = row["status"] if row["status"] == CAUGHT else f"**{row['status']}**"
        failed = row["failed"].replace("|", r"\|")  # a parametrize id may hold a table's separator
        out.append(f"| {row['name']} | `{row['file']}` | `{row['change']}` | {result_cell} | {failed} |")
    return out
