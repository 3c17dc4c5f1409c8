"""Run every benchmark in turn (make bench). Each prints its figures next to a reference measured in the same run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = ["bench_precheck.py", "bench_engine.py", "bench_endpoint.py", "bench_parse.py", "bench_synth.py",
           "bench_nlp.py", "bench_load.py"]

if __name__ == "__main__":
    wanted = sys.argv[1:] or SCRIPTS
    for script in wanted:
        if (HERE / script).exists():
            print(f"== {script}", flush=True)
            subprocess.run([sys.executable, str(HERE / script)], check=False, cwd=HERE.parent)
