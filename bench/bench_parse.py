"""Parse a 1,000-record, 20-feature explainer response into a long DataFrame, against plain json.loads.

python bench/bench_parse.py [--repeats 7]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from goals import exit_status, goal  # noqa: E402

from clarify_kit.client.result import parse_result  # noqa: E402
from clarify_kit.core.response import build_response  # noqa: E402


def body(records: int = 1000, features: int = 20) -> bytes:
    rng = random.Random(0)
    explanations = [
        [
            {"feature_header": f"feature_{j}", "attributions": [{"attribution": [rng.gauss(0, 0.1)]}]}
            for j in range(features)
        ]
        for _ in range(records)
    ]
    data = "\n".join(f"{rng.random()!r}" for _ in range(records)) + "\n"
    return json.dumps(build_response("text/csv; charset=utf-8", data, explanations)).encode()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    raw = body()
    a, b = [], []
    for _ in range(args.repeats):
        started = time.perf_counter()
        json.loads(raw)
        a.append(time.perf_counter() - started)
        started = time.perf_counter()
        frame = parse_result(raw).to_dataframe("long")
        b.append(time.perf_counter() - started)
    assert len(frame) == 20_000
    ref, ours = statistics.median(a) * 1000, statistics.median(b) * 1000
    print(f"parse a 1,000-record, 20-feature response ({len(raw) / 1e6:.2f} MB), median of {args.repeats}")
    print(f"  json.loads                          {ref:8.2f} ms   ratio 1.00x")
    print(f"  parse_result(...).to_dataframe()    {ours:8.2f} ms   ratio {ours / ref:.2f}x")
    goal(f"parse <= 5x json.loads (measured {ours / ref:.2f}x)", ours / ref <= 5)


if __name__ == "__main__":
    main()
    sys.exit(exit_status())
