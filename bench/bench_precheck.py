"""Cold wall time of `clarify-kit precheck <binary> --json` against `python -c "import boto3"`, same run.

python bench/bench_precheck.py [--runs 9]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

from goals import exit_status, goal  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CLI = ROOT / ".venv" / "bin" / "clarify-kit"


def wall(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    config = str(ROOT / "examples" / "binary" / "config.yaml")
    cases = {
        "reference: python -c 'import boto3'": [sys.executable, "-c", "import boto3"],
        "clarify-kit precheck binary --json": [str(CLI), "precheck", config, "--json"],
    }
    for command in cases.values():  # warm the OS file cache once
        wall(command)
    results: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(args.runs):  # interleaved, so that machine noise hits both alike
        for name, command in cases.items():
            results[name].append(wall(command))
    medians = {name: statistics.median(times) for name, times in results.items()}
    reference = medians["reference: python -c 'import boto3'"]
    print(f"precheck cold start, median of {args.runs} runs")
    for name, value in medians.items():
        print(f"  {name:45s} {value * 1000:8.1f} ms   ratio {value / reference:5.2f}x")
    worst = max(value / reference for name, value in medians.items() if not name.startswith("reference"))
    goal(f"precheck <= 2.00x the reference (measured {worst:.2f}x)", worst <= 2.0)


if __name__ == "__main__":
    main()
    sys.exit(exit_status())
