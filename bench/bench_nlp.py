"""NLP explain latency against text length (10, 50, 200 tokens), default sample count, next to the container-only
time for the same synthetic records, measured in the same run.

    python bench/bench_nlp.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from clarify_kit.adapters.files import load_config  # noqa: E402
from clarify_kit.core.codecs import format_csv_row  # noqa: E402
from clarify_kit.core.config import config_from_dict  # noqa: E402
from clarify_kit.core.spec import ExplainerSpec  # noqa: E402
from clarify_kit.explainer import Explainer, HttpTransport, batches_of  # noqa: E402
from examples.models import train  # noqa: E402
from examples.runner import container  # noqa: E402

WORDS = (
    "the",
    "kettle",
    "is",
    "great",
    "but",
    "the",
    "lid",
    "broke",
    "after",
    "a",
    "week",
    "and",
    "support",
    "never",
    "answered",
    "so",
    "I",
    "want",
    "a",
    "refund",
    "otherwise",
    "good",
    "value",
    "quick",
    "delivery",
    "nice",
    "design",
    "poor",
    "quality",
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    data = load_config(ROOT / "examples/nlp/config.yaml").model_dump(exclude_unset=True)
    data["EndpointConfig"]["ExplainerConfig"]["ClarifyExplainerConfig"]["ShapConfig"].pop("NumberOfSamples")
    config = config_from_dict(data)
    spec = ExplainerSpec.from_config(config)
    rng = random.Random(0)
    print(f"NLP explanation latency, token granularity, default sample count, median of {args.repeats}")
    print(f"  {'tokens':>6s} {'synthetic':>9s} {'explain s':>10s} {'container s':>12s} {'ratio':>6s}")
    with tempfile.TemporaryDirectory() as tmp, container(train("nlp", Path(tmp) / "nlp")) as url:
        transport = HttpTransport(url)
        explainer = Explainer(spec, transport)
        for tokens in (10, 50, 200):
            text = " ".join(rng.choice(WORDS) for _ in range(tokens))
            body = format_csv_row([text]).encode()
            record = explainer.rows.text_record(0, spec.parse_request(body.decode())[0], "text/csv")
            batches = [
                "\n".join(b).encode() for b in batches_of(record.rows, spec.max_record_count, spec.max_payload_bytes)
            ]

            def direct(batches: list[bytes] = batches, body: bytes = body) -> None:
                transport.post(body, content_type="text/csv", accept="text/csv", target_model=None, timeout=60)
                for batch in batches:
                    transport.post(batch, content_type="text/csv", accept="text/csv", target_model=None, timeout=60)

            def explained(body: bytes = body) -> None:
                explainer.invoke(body, content_type="text/csv", accept="text/csv")

            times: tuple[list[float], list[float]] = ([], [])
            explained()
            for _ in range(args.repeats):
                for fn, out in ((explained, times[0]), (direct, times[1])):
                    started = time.perf_counter()
                    fn()
                    out.append(time.perf_counter() - started)
            ours, ref = statistics.median(times[0]), statistics.median(times[1])
            print(f"  {tokens:6d} {len(record.rows):9d} {ours:10.3f} {ref:12.3f} {ours / ref:5.2f}x")


if __name__ == "__main__":
    main()
