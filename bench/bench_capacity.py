"""The explainer's own cost beside a fast container, idle and with both cores busy, and the capacity plan's
predictions against serve-local (issue 25, sections 4 and 5).

A standard-library container (bench/fast_container.py, about 0.01 ms per row) scores the rows, so that what the
explainer itself costs shows. ``clarify-kit serve-local`` runs as users run it (its own process, its BLAS pinned to
one thread). The reference posts the same synthetic rows, in the same batches, straight to the container, measured
in the same run, alternating with the explained calls. Both post with the same HTTP client (urllib3); the explained
call through boto3 is printed beside it.

(a) idle, one explained record at 20 features (2,088 rows): serve-local within 1.3x the container alone;
(b) both cores busy with other processes, one explained record at 50 features: within 1.35x;
(c) `clarify-kit capacity`'s plan (measured on the container) against serve-local in front of the same container:
    p50 latency within 0.7-1.4x, explained records per second with 4 concurrent callers within 0.6-1.6x.

    python bench/bench_capacity.py [--repeats 31]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import urllib3

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from goals import busy_cores, exit_status, goal  # noqa: E402
from reference import ContainerAlone, runtime_client  # noqa: E402

from clarify_kit.core.config import config_from_dict  # noqa: E402
from clarify_kit.core.spec import ExplainerSpec  # noqa: E402
from clarify_kit.planning import measure_capacity  # noqa: E402
from examples.runner import free_port, wait_for_ping  # noqa: E402


def config_data(width: int) -> dict[str, Any]:
    return {
        "Model": {"PrimaryContainer": {"Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/bench:1"}},
        "EndpointConfig": {
            "ProductionVariants": [
                {"VariantName": "AllTraffic", "InstanceType": "ml.m5.xlarge", "InitialInstanceCount": 2}
            ],
            "ExplainerConfig": {
                "ClarifyExplainerConfig": {
                    "InferenceConfig": {"FeatureHeaders": [f"f{i}" for i in range(width)], "MaxRecordCount": 1000},
                    "ShapConfig": {
                        "ShapBaselineConfig": {"ShapBaseline": ",".join("0.1" for _ in range(width))},
                        "Seed": 1,
                    },
                }
            },
        },
        "Endpoint": {"EndpointName": f"bench-{width}"},
        "ClarifyKit": {"Container": {"SampleRecords": [record(width), record(width, 2)]}},
    }


def record(width: int, shift: int = 0) -> str:
    return ",".join(f"{((i + shift) * 7 % 13) / 6 - 1:.4f}" for i in range(width))


@contextmanager
def process(argv: list[str], url: str) -> Iterator[subprocess.Popen[bytes]]:
    child = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_ping(url, timeout=60, process=child)
        yield child
    finally:
        child.send_signal(signal.SIGTERM)
        try:
            child.wait(10)
        except subprocess.TimeoutExpired:
            child.kill()


@contextmanager
def setup(width: int, tmp: Path) -> Iterator[dict[str, Any]]:
    import yaml

    data = config_data(width)
    path = tmp / f"config-{width}.yaml"
    path.write_text(yaml.safe_dump(data))
    model_port, endpoint_port = free_port(), free_port()
    model_url, endpoint_url = f"http://127.0.0.1:{model_port}", f"http://127.0.0.1:{endpoint_port}"
    container = [sys.executable, str(ROOT / "bench" / "fast_container.py"), str(model_port), str(width)]
    local = [sys.executable, "-m", "clarify_kit", "serve-local", str(path), "--model-url", model_url]
    local += ["--port", str(endpoint_port)]
    with process(container, model_url), process(local, endpoint_url):
        config = config_from_dict(data)
        client = runtime_client(endpoint_url)
        spec = ExplainerSpec.from_config(config)
        body = record(width)
        direct = ContainerAlone(spec, model_url, body)

        def explained() -> None:
            out = client.invoke_endpoint(
                EndpointName=f"bench-{width}", Body=body, ContentType="text/csv", Accept="text/csv"
            )
            assert "kernel_shap" in json.loads(out["Body"].read())["explanations"]

        pool = urllib3.PoolManager()
        address = f"{endpoint_url}/endpoints/bench-{width}/invocations"
        headers = {"Content-Type": "text/csv", "Accept": "text/csv"}

        def explained_raw() -> None:  # the HTTP client the reference posts with
            reply = pool.request("POST", address, body=body.encode(), headers=headers, timeout=60)
            assert reply.status == 200 and b"kernel_shap" in reply.data, reply.data[:300]

        yield {
            "client": client,
            "config": config,
            "model_url": model_url,
            "direct": direct,
            "explained": explained,
            "explained_raw": explained_raw,
            "rows": direct.rows,
        }


def interleaved(calls: list[Callable[[], None]], repeats: int) -> list[float]:
    """Median ms of each call, the calls taking turns so that all meet the same conditions."""
    times: list[list[float]] = [[] for _ in calls]
    for _ in range(repeats):
        for fn, out in zip(calls, times, strict=True):
            started = time.perf_counter()
            fn()
            out.append(time.perf_counter() - started)
    return [statistics.median(t) * 1000 for t in times]


def overhead(run: dict[str, Any], repeats: int, label: str, limit: float) -> None:
    """serve-local against the container alone, both posted with the same HTTP client (urllib3), so that the
    ratio is what the explainer adds; the same call through boto3 is printed beside it (boto3's own client
    work, about a millisecond a call here, is the caller's, not the explainer's)."""
    calls = [run["direct"], run["explained_raw"], run["explained"]]
    for _ in range(3):
        for call in calls:
            call()
    reference, ours, boto = interleaved(calls, repeats)
    ratio = ours / reference
    print(
        f"  {label}: {run['rows']} rows; container alone {reference:.1f} ms, through serve-local {ours:.1f} ms "
        f"({ratio:.2f}x; with boto3 as the client {boto:.1f} ms, {boto / reference:.2f}x)"
    )
    goal(f"{label}: serve-local <= {limit:.2f}x the container alone (measured {ratio:.2f}x)", ratio <= limit)


def predictions(run: dict[str, Any], repeats: int) -> None:
    plan = measure_capacity(run["config"], run["model_url"], iterations=repeats, accuracy=False)
    latencies = []
    for _ in range(repeats):
        started = time.perf_counter()
        run["explained"]()
        latencies.append((time.perf_counter() - started) * 1000)
    measured_p50 = statistics.median(latencies)
    calls = 40
    with ThreadPoolExecutor(max_workers=4) as pool:
        started = time.perf_counter()
        list(pool.map(lambda _: run["explained"](), range(calls)))
        measured_rate = calls / (time.perf_counter() - started)
    predicted_p50 = plan.latency_ms["p50"]
    predicted_rate = min(4 * 1000 / predicted_p50, plan.explained_records_per_s_per_instance)
    print(
        f"  plan: p50 {predicted_p50:.1f} ms, {predicted_rate:.1f} explained records/s with 4 callers; "
        f"serve-local: p50 {measured_p50:.1f} ms, {measured_rate:.1f}/s"
    )
    p50_ratio, rate_ratio = measured_p50 / predicted_p50, measured_rate / predicted_rate
    goal(f"measured p50 / predicted within 0.7-1.4x (measured {p50_ratio:.2f}x)", 0.7 <= p50_ratio <= 1.4)
    goal(f"measured rate / predicted with 4 callers within 0.6-1.6x ({rate_ratio:.2f}x)", 0.6 <= rate_ratio <= 1.6)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=31)
    args = parser.parse_args()
    cores = os.cpu_count() or 2
    with tempfile.TemporaryDirectory() as tmp:
        with setup(20, Path(tmp)) as run:
            print("(a) idle, 20 features")
            overhead(run, args.repeats, "idle, 20 features", 1.30)
            print("(c) the capacity plan against serve-local, 20 features")
            predictions(run, args.repeats)
        with setup(50, Path(tmp)) as run:
            print(f"(b) {cores} cores busy with other processes, 50 features")
            with busy_cores(120, cores):
                overhead(run, args.repeats, "busy, 50 features", 1.35)
    sys.exit(exit_status())


if __name__ == "__main__":
    main()
