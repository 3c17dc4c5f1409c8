"""`cdk synth` wall time of the binary example against a bare app with the same three L1 resources, same run.

python bench/bench_synth.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from goals import exit_status, goal  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PY = ROOT / ".venv" / "bin" / "python"


def synth(app: str, context: list[str], outdir: str) -> float:
    env = {**os.environ, "CDK_DISABLE_VERSION_CHECK": "1", "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"}
    # both apps as users run them, their bytecode cached (an environment without the cache compiles aws_cdk's
    # sources on every run: 4.8 s of compile() in the example's synth, less in the bare app's)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    started = time.perf_counter()
    subprocess.run(
        ["npx", "cdk", "synth", "-q", "--app", app, "-o", outdir, *context],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    cases = {
        "reference: bare app, 3 L1 resources": (f"{PY} bench/bare_app.py", []),
        "clarify-kit binary example (+ nag)": (f"{PY} app.py", ["-c", "config=examples/binary/config.yaml"]),
    }
    times: dict[str, list[float]] = {name: [] for name in cases}
    with tempfile.TemporaryDirectory() as tmp:
        for app, context in cases.values():  # warm-up
            synth(app, context, f"{tmp}/warm")
        for i in range(args.runs):
            for name, (app, context) in cases.items():
                times[name].append(synth(app, context, f"{tmp}/{i}"))
    reference = statistics.median(times["reference: bare app, 3 L1 resources"])
    print(f"cdk synth wall time, median of {args.runs} runs")
    for name, values in times.items():
        value = statistics.median(values)
        print(f"  {name:40s} {value:6.2f} s   ratio {value / reference:.2f}x")
    worst = max(statistics.median(v) / reference for name, v in times.items() if not name.startswith("reference"))
    goal(f"cdk synth <= 1.30x the bare app (measured {worst:.2f}x)", worst <= 1.30)


if __name__ == "__main__":
    main()
    sys.exit(exit_status())
