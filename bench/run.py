"""Run every benchmark in turn (make bench); exit 1 when any of them missed a goal or failed.

Each prints its figures next to a reference measured in the same run, and its goals met or MISSED.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = [
    "bench_precheck.py",
    "bench_engine.py",
    "bench_target_error.py",
    "bench_explainer_cpu.py",
    "bench_endpoint.py",
    "bench_capacity.py",
    "bench_drift.py",
    "bench_parse.py",
    "bench_synth.py",
    "bench_nlp.py",
    "bench_load.py",
    "bench_report.py",
    "bench_first_run.py",
]

if __name__ == "__main__":
    wanted = sys.argv[1:] or SCRIPTS
    missed = []
    for script in wanted:
        if (HERE / script).exists():
            print(f"== {script}", flush=True)
            if subprocess.run([sys.executable, str(HERE / script)], check=False, cwd=HERE.parent).returncode:
                missed.append(script)
    if missed:
        print(f"make bench: goals missed (or the benchmark failed) in {', '.join(missed)}")
    sys.exit(1 if missed else 0)
