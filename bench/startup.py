"""Benchmark: how long the app takes to start, as `flask --help` and as `create_app()`.

Run with `.venv/bin/python bench/startup.py [N] [--root DIR]`; each command runs N times (default 10)
in a fresh subprocess and the median and 95th percentile of the wall time are printed, with the
median CPU time (user + system) of the child, which a busy machine disturbs less than the wall time.
`--root` runs the same commands against another checkout (an older copy, for a before/after) with this venv.
Not a test: the machines are shared and noisy, so the figures go in the README instead.
"""

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

COMMANDS = {
    "flask --help": [str(BIN / "flask"), "--help"],
    "create_app()": [sys.executable, "-c", "from app import create_app; create_app()"],
}


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_times(command: list[str], runs: int, root: Path) -> tuple[list[float], list[float]]:
    """Wall and CPU seconds of each run."""
    env = {**os.environ, "FLASK_APP": "wsgi.py"}
    walls, cpus = [], []
    for _ in range(runs):
        cpu, start = _children_cpu(), time.perf_counter()
        subprocess.run(command, cwd=root, env=env, check=True,  # noqa: S603  (a fixed argv, no shell)
                       stdout=subprocess.DEVNULL)
        walls.append(time.perf_counter() - start)
        cpus.append(_children_cpu() - cpu)
    return walls, cpus


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[-1] if len(values) > 1 else values[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="?", type=int, default=10)
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout to start (default: this one)")
    args = parser.parse_args()
    print(f"{'command':<16}{'runs':>6}{'median s':>11}{'p95 s':>9}{'median cpu s':>15}   ({args.root})")
    for name, command in COMMANDS.items():
        walls, cpus = run_times(command, args.runs, args.root.resolve())
        print(f"{name:<16}{args.runs:>6}{statistics.median(walls):>11.2f}{p95(walls):>9.2f}"
              f"{statistics.median(cpus):>15.2f}")


if __name__ == "__main__":
    main()
