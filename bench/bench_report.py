"""Write the HTML report of a 1,000-record, 20-feature explain run, against writing the run's output file (the
CSV `explain` writes anyway). Goals: the report adds at most 5 s to the run and stays under 2 MB; peak RSS shown.

    python bench/bench_report.py [--records 1000] [--features 20]
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from goals import exit_status, goal  # noqa: E402

from clarify_kit.client.bulk import BulkSummary, RecordOutcome, write_outcomes  # noqa: E402
from clarify_kit.client.report import from_bulk, write_report  # noqa: E402


def run(records: int, features: int) -> tuple[BulkSummary, list[str]]:
    rng = random.Random(0)
    outcomes, lines = [], []
    for i in range(records):
        values = [rng.gauss(0, 1) for _ in range(features)]
        lines.append(",".join(f"{v:.5f}" for v in values))
        attributions = {f"feature_{j}": [0.1 * values[j] * (j + 1) / features] for j in range(features)}
        score = 0.3 + sum(a[0] for a in attributions.values())
        status = "failed" if i % 97 == 0 else "explained"
        outcomes.append(
            RecordOutcome(
                i,
                status,
                "ModelError: injected" if status == "failed" else "",  # type: ignore[arg-type]
                [score],
                attributions if status == "explained" else {},
            )
        )
    latencies = [rng.uniform(50, 400) for _ in range(records // 10)]
    return BulkSummary(outcomes, records // 10, 0, 12.0, latencies), lines


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=1000)
    parser.add_argument("--features", type=int, default=20)
    args = parser.parse_args()
    summary, lines = run(args.records, args.features)
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        write_outcomes(summary, Path(tmp) / "out.csv")
        reference = time.perf_counter() - started
        import matplotlib  # imported before the clock starts: a run that plots has it loaded already

        matplotlib.use("Agg")
        started = time.perf_counter()
        path = write_report(from_bulk(summary, lines, None, title="bench"), Path(tmp) / "report.html")
        seconds = time.perf_counter() - started
        size = path.stat().st_size
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"  {args.records} records x {args.features} features: report {seconds:.2f} s, output CSV "
        f"{reference * 1000:.0f} ms ({seconds / reference:.0f}x), report {size / 1e6:.2f} MB, peak RSS "
        f"{peak:.0f} MB"
    )
    goal("the report adds at most 5 s to a 1,000-record run", seconds <= 5.0)
    goal("the report of 1,000 records stays under 2 MB", size < 2_000_000)
    return exit_status()


if __name__ == "__main__":
    sys.exit(main())
