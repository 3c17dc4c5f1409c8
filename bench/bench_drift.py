"""Reading data capture for explanation drift: MB of capture per second on one core, and peak memory.

A capture file of explainer responses (20-feature records, ten per invocation, as serve-local writes them) is
generated here, about 100 MB; `clarify-kit drift`'s reader streams it into a partial result. The reference is
json.loads of every line, the least any reader of the format does, measured in the same run.

    python bench/bench_drift.py [--megabytes 100]
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from goals import exit_status, goal  # noqa: E402

from clarify_kit.adapters.capture import read_window  # noqa: E402

WIDTH = 20


def capture_line(rng: random.Random, records: int = 10) -> str:
    explained = [
        [
            {"feature_header": f"f{j}", "attributions": [{"attribution": [rng.gauss(0, 0.1 / (j + 1))]}]}
            for j in range(WIDTH)
        ]
        for _ in range(records)
    ]
    envelope = {
        "version": "1.0",
        "predictions": {"content_type": "text/csv", "data": "\n".join(repr(rng.random()) for _ in range(records))},
        "explanations": {"kernel_shap": explained},
    }
    rows = "\n".join(",".join(f"{rng.gauss(0, 1):.5f}" for _ in range(WIDTH)) for _ in range(records))
    return json.dumps(
        {
            "captureData": {
                "endpointInput": {"observedContentType": "text/csv", "mode": "INPUT", "data": rows, "encoding": "CSV"},
                "endpointOutput": {
                    "observedContentType": "application/json",
                    "mode": "OUTPUT",
                    "data": json.dumps(envelope, separators=(",", ":")),
                    "encoding": "JSON",
                },
            },
            "eventMetadata": {
                "eventId": "00000000-0000-0000-0000-000000000000",
                "inferenceTime": "2026-12-01T10:00:00Z",
            },
            "eventVersion": "0",
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--megabytes", type=float, default=100)
    args = parser.parse_args()
    rng = random.Random(1)
    lines = [capture_line(rng) for _ in range(200)]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "capture.jsonl"
        size = 0
        with path.open("w") as out:
            while size < args.megabytes * 1e6:
                for line in lines:
                    out.write(line + "\n")
                    size += len(line) + 1
        started = time.perf_counter()
        with path.open("rb") as stream:
            for line in stream:
                json.loads(line)
        reference = time.perf_counter() - started
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started = time.process_time()
        part = read_window(str(path))
        part.global_attributions()
        cpu = time.process_time() - started
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    rate = size / 1e6 / cpu
    print(
        f"  {size / 1e6:.0f} MB of capture, {part.explained} explained records: {rate:.1f} MB/s per core "
        f"(json.loads of each line alone: {size / 1e6 / reference:.1f} MB/s); peak RSS {peak / 1024:.0f} MB "
        f"(+{max(0, peak - before) / 1024:.0f} MB while reading)"
    )
    goal(f"drift reads >= 50 MB of capture per second per core (measured {rate:.1f})", rate >= 50)
    goal(
        f"memory stays bounded: < 300 MB peak RSS for {size / 1e6:.0f} MB (measured {peak / 1024:.0f})",
        peak / 1024 < 300,
    )


if __name__ == "__main__":
    main()
    sys.exit(exit_status())
