"""The scheduled drift function run as Lambda runs it (its packaged files only, against moto's S3 and CloudWatch):
a hostile line is skipped, a forged baseline fails loudly, a time budget truncates loudly."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import clarify_kit
from clarify_kit.runtime import DRIFT_FUNCTION_FILES
from clarify_kit.runtime.drift_function import metric_name

_NOW = datetime(2026, 12, 1, 11, 5, tzinfo=UTC)
_KEY = "capture/ep/AllTraffic/2026/12/01/10/part.jsonl"


def _line(values: list[float], score: float, names: tuple[str, ...] = ("a", "b", "c")) -> str:
    envelope = {
        "version": "1.0",
        "predictions": {"content_type": "text/csv", "data": str(score)},
        "explanations": {"kernel_shap": [[{"feature_header": n, "attributions": [{"attribution": [v]}]}
                                          for n, v in zip(names, values, strict=True)]]},
    }  # fmt: skip
    output = {"observedContentType": "application/json", "mode": "OUTPUT", "encoding": "JSON",
              "data": json.dumps(envelope)}  # fmt: skip
    return json.dumps({"captureData": {"endpointOutput": output}, "eventVersion": "0"})


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The function's files as the stack packages them."""
    root = Path(clarify_kit.__file__).resolve().parent.parent
    folder = tmp_path_factory.mktemp("function")
    for name in DRIFT_FUNCTION_FILES:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(root / name, folder / name)
    return folder


def _invoke(package: Path, moto_url: str, bucket: str, remaining_ms: int = 900_000) -> dict[str, Any]:
    environ = {
        "CAPTURE_URI": f"s3://{bucket}/capture/ep",
        "BASELINE_URI": f"s3://{bucket}/baseline.partial.json",
        "ENDPOINT_NAME": "ep",
        "NAMESPACE": "ClarifyKit/Drift",
        "SELECTOR_CONFIGURED": "1",
    }
    code = f"""
import json, sys, os, datetime
sys.path.insert(0, {str(package)!r})
os.environ.update({environ!r})
import clarify_kit
assert clarify_kit.__file__.startswith({str(package)!r}), clarify_kit.__file__
from clarify_kit.runtime import drift_function
real = drift_function.datetime
class Clock(real):
    @classmethod
    def now(cls, tz=None):
        return real({_NOW.year}, {_NOW.month}, {_NOW.day}, {_NOW.hour}, {_NOW.minute}, tzinfo=tz)
drift_function.datetime = Clock
class Context:
    def get_remaining_time_in_millis(self):
        return {remaining_ms}
try:
    print(json.dumps({{"summary": drift_function.handler({{}}, Context())}}))
except Exception as err:
    print(json.dumps({{"raised": type(err).__name__ + ": " + str(err)}}))
"""
    env = {"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "AWS_DEFAULT_REGION": "us-east-1",
           "AWS_ENDPOINT_URL": moto_url, "PATH": "/usr/bin:/bin"}  # fmt: skip
    out = subprocess.run([sys.executable, "-I", "-c", code], capture_output=True, text=True, env=env, check=False)
    assert out.returncode == 0, out.stderr
    result: dict[str, Any] = json.loads(out.stdout.splitlines()[-1])
    return result


def _clients(moto_url: str) -> tuple[Any, Any]:
    import boto3

    kwargs = {"endpoint_url": moto_url, "region_name": "us-east-1", "aws_access_key_id": "x",
              "aws_secret_access_key": "x"}  # fmt: skip
    return boto3.client("s3", **kwargs), boto3.client("cloudwatch", **kwargs)


def _latest(cloudwatch: Any, name: str) -> float | None:
    data = cloudwatch.get_metric_statistics(
        Namespace="ClarifyKit/Drift", MetricName=name, Dimensions=[{"Name": "EndpointName", "Value": "ep"}],
        StartTime=datetime.now(UTC) - timedelta(days=1), EndTime=datetime.now(UTC) + timedelta(days=1),
        Period=86400, Statistics=["Maximum"],
    )["Datapoints"]  # fmt: skip
    return data[0]["Maximum"] if data else None


def _window(s3: Any, bucket: str, lines: list[str], baseline: bytes) -> None:
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key=_KEY, Body=("\n".join(lines) + "\n").encode())
    s3.put_object(Bucket=bucket, Key="baseline.partial.json", Body=baseline)


def _baseline() -> bytes:
    from clarify_kit.core.drift import Partial, read_capture_line

    part = Partial()
    for i in range(5):
        read_capture_line(_line([0.5, 0.3 - 0.01 * i, 0.1], 0.6), part)
    return json.dumps(part.as_dict()).encode()


def test_a_line_nested_100000_deep_is_skipped_and_the_run_publishes(package: Path, moto_url: str) -> None:
    s3, cloudwatch = _clients(moto_url)
    deep = json.loads(_line([0.1, 0.2, 0.3], 0.5))
    deep["captureData"]["endpointOutput"]["data"] = "[" * 100_000 + "]" * 100_000
    _window(s3, "deep-window", [_line([0.5, 0.3, 0.1], 0.6), json.dumps(deep), _line([0.4, 0.3, 0.1], 0.7)],
            _baseline())  # fmt: skip
    result = _invoke(package, moto_url, "deep-window")
    summary = result["summary"]
    assert summary["explained"] == 2 and summary["lines"] == 3 and sum(summary["skipped"].values()) == 1
    assert summary["violations"] == [] and summary["truncated"] is False


def test_a_forged_baseline_fails_the_run_and_publishes_monitor_failed(package: Path, moto_url: str) -> None:
    s3, cloudwatch = _clients(moto_url)
    forged = json.loads(_baseline())
    forged["sums"] = [["1" * 4000, "1", "1"]]
    _window(s3, "forged-baseline", [_line([0.5, 0.3, 0.1], 0.6)], json.dumps(forged).encode())
    result = _invoke(package, moto_url, "forged-baseline")
    assert result["raised"].startswith("DriftError") and "sums" in result["raised"]
    assert _latest(cloudwatch, "MonitorFailed") == 1.0


def test_a_run_out_of_time_publishes_what_it_read_as_truncated(package: Path, moto_url: str) -> None:
    s3, cloudwatch = _clients(moto_url)
    lines = [_line([0.5, 0.3, 0.1], 0.6) for _ in range(50)]
    s3.create_bucket(Bucket="late-window")
    s3.put_object(Bucket="late-window", Key="baseline.partial.json", Body=_baseline())
    for i in range(3):
        key = _KEY.replace("part.jsonl", f"part-{i}.jsonl")
        s3.put_object(Bucket="late-window", Key=key, Body="\n".join(lines).encode())
    # GIVEN no time left beyond what publishing needs: reading stops at once, and says so
    result = _invoke(package, moto_url, "late-window", remaining_ms=0)
    summary = result["summary"]
    assert summary["truncated"] is True and summary["lines"] < 150
    assert _latest(cloudwatch, "WindowTruncated") == 1.0


def test_metric_names_stay_distinct_whatever_the_feature_names() -> None:
    names = ["x" * 300 + str(i) for i in range(10)]
    metrics = {metric_name("feature_", n) for n in names}
    assert len(metrics) == 10 and all(len(m) <= 255 for m in metrics)
    assert metric_name("feature_", "age") == "feature_age"  # short names as Model Monitor writes them
    assert metric_name("feature_", names[3]) == metric_name("feature_", names[3])  # stable across runs
