"""End-to-end latency of one explained record through the local endpoint, against the container alone.

A 20-feature gradient-boosted classifier is served by the example container process; the local endpoint explains
one record with the default sample count. The reference posts the same synthetic dataset, in the same batches,
straight to the container, measured in the same run.

    python bench/bench_endpoint.py [--repeats 15]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from goals import exit_status, goal  # noqa: E402
from reference import ContainerAlone, runtime_client  # noqa: E402

from clarify_kit.core.config import config_from_dict  # noqa: E402
from clarify_kit.core.spec import ExplainerSpec  # noqa: E402
from clarify_kit.explainer.endpoint import running_endpoint  # noqa: E402
from examples.models import _save  # noqa: E402
from examples.runner import container  # noqa: E402

N_FEATURES = 20


def _model(directory: Path) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import make_classification
    from sklearn.ensemble import GradientBoostingClassifier

    x, y = make_classification(n_samples=800, n_features=N_FEATURES, n_informative=8, random_state=1)
    model = GradientBoostingClassifier(n_estimators=60, max_depth=3, random_state=0).fit(x, y)
    _save(directory, model, {"task": "binary", "input": "text/csv", "output": "text/csv", "n_features": N_FEATURES})
    return x[0], x.mean(axis=0)


def config(baseline: np.ndarray, max_records: int) -> Any:
    return config_from_dict(
        {
            "Model": {"PrimaryContainer": {"Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/bench:1"}},
            "EndpointConfig": {
                "ProductionVariants": [
                    {"VariantName": "AllTraffic", "InstanceType": "ml.m5.xlarge", "InitialInstanceCount": 2}
                ],
                "ExplainerConfig": {
                    "ClarifyExplainerConfig": {
                        "InferenceConfig": {
                            "FeatureHeaders": [f"f{i}" for i in range(N_FEATURES)],
                            "MaxRecordCount": max_records,
                        },
                        "ShapConfig": {
                            "ShapBaselineConfig": {"ShapBaseline": ",".join(f"{v:.6g}" for v in baseline)},
                            "Seed": 1,
                        },
                    }
                },
            },
            "Endpoint": {"EndpointName": "bench"},
        }
    )


def interleaved_medians(first: Any, second: Any, repeats: int) -> tuple[float, float]:
    """Median ms of each, alternating calls so that machine noise hits both alike."""
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeats):
        for fn, out in ((first, times[0]), (second, times[1])):
            started = time.perf_counter()
            fn()
            out.append(time.perf_counter() - started)
    return statistics.median(times[0]) * 1000, statistics.median(times[1]) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=41)
    parser.add_argument("--max-record-count", type=int, default=1000)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        record, baseline = _model(Path(tmp) / "model")
        cfg = config(baseline, args.max_record_count)
        body = ",".join(repr(float(v)) for v in record)
        with container(Path(tmp) / "model") as url, running_endpoint(cfg, url) as (base, endpoint):
            client = runtime_client(base)
            direct = ContainerAlone(ExplainerSpec.from_config(cfg), url, body)

            def through_endpoint() -> None:
                out = client.invoke_endpoint(
                    EndpointName=endpoint.name, Body=body, ContentType="text/csv", Accept="text/csv"
                )
                out["Body"].read()

            for _ in range(3):
                direct()
                through_endpoint()
            reference, ours = interleaved_medians(direct, through_endpoint, args.repeats)
            with self_hosted(cfg, url, Path(tmp)) as hosted_url:
                import urllib3

                pool = urllib3.PoolManager()
                headers = {
                    "Content-Type": "text/csv",
                    "Accept": "text/csv",
                    "X-Amzn-SageMaker-Custom-Attributes": "EnableExplanations=`true`",
                }

                def through_container() -> None:
                    reply = pool.request(
                        "POST", f"{hosted_url}/invocations", body=body.encode(), headers=headers, timeout=60
                    )
                    assert reply.status == 200 and b"kernel_shap" in reply.data, reply.data[:300]

                for _ in range(3):
                    through_container()
                reference_2, in_container = interleaved_medians(direct, through_container, args.repeats)
    print(
        f"(c) one explained record, {N_FEATURES} features, {direct.rows} synthetic records in {len(direct.batches)} "
        f"container request(s) + the prediction call; median of {args.repeats}"
    )
    print(f"  container alone (same requests)     {reference:8.2f} ms   ratio 1.00x")
    print(f"  boto3 -> local endpoint -> container {ours:8.2f} ms   ratio {ours / reference:.2f}x")
    print(
        f"  serve-container (in-container)       {in_container:8.2f} ms   ratio {in_container / reference_2:.2f}x "
        f"(its own reference {reference_2:.2f} ms)"
    )
    print(f"  the self-hosted image adds {added_megabytes(cfg):.0f} MB of Python packages to the model's image")
    goal(f"local endpoint <= 1.30x the container alone (measured {ours / reference:.2f}x)", ours / reference <= 1.30)
    goal(
        f"self-hosted explainer <= 1.30x the container alone (measured {in_container / reference_2:.2f}x)",
        in_container / reference_2 <= 1.30,
    )


@contextmanager
def self_hosted(cfg: Any, model_url: str, tmp: Path) -> Iterator[str]:
    """clarify-kit serve-container in front of the model, as its own process (as in the image)."""
    import json
    import subprocess

    from examples.runner import free_port, wait_for_ping

    path = tmp / "self-hosted.json"
    path.write_text(json.dumps(cfg.model_dump(mode="json", exclude_none=True)))
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "clarify_kit",
            "serve-container",
            str(path),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--model-url",
            model_url,
        ],
        cwd=ROOT,
    )
    try:
        wait_for_ping(f"http://127.0.0.1:{port}", process=process)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=20)


def added_megabytes(cfg: Any) -> float:
    """Site-packages size of the distributions the self-hosted image installs (as installed here)."""
    from importlib import metadata

    from clarify_kit.explainer.image import runtime_requirements

    total = 0
    for requirement in runtime_requirements(cfg):
        files = metadata.files(requirement.split("==")[0]) or []
        total += sum(f.size or 0 for f in files if "__pycache__" not in str(f))
    return total / 1e6


if __name__ == "__main__":
    main()
    sys.exit(exit_status())
