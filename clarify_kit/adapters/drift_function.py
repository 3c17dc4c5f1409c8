"""The scheduled drift function (ClarifyKit.Monitoring.Drift): AWS Lambda's handler, on the Python runtime as it is.

Each run reads the last ``WINDOW_HOURS`` of the capture prefix (hour folders of every variant, object by object),
compares the served explanations with the baseline (a capture prefix, or a partial written by ``clarify-kit drift
--partial``) and publishes, under ``NAMESPACE`` with the EndpointName and Label dimensions: ``NDCG``,
``AttributionMassChange``, ``MeanPredictionChange``, ``ExplainedRecords`` and one ``feature_<name>`` global attribution
per feature (as Model Monitor's feature attribution metrics). The stack's alarms watch those metrics. A window with no
explained record publishes ``ExplainedRecords`` 0 and nothing else (the alarms treat missing data as not breaching).

Configured by environment variables: CAPTURE_URI (s3://bucket/prefix/EndpointName), VARIANTS (comma-separated),
BASELINE_URI, WINDOW_HOURS, NAMESPACE, ENDPOINT_NAME, NDCG_THRESHOLD, MASS_THRESHOLD, PREDICTION_THRESHOLD.
The packaged function holds this file and ``drift.py`` (clarify_kit.core.drift) side by side.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from typing import Any

try:
    from clarify_kit.core import drift
except ImportError:  # the packaged function: the drift module sits beside this one
    import drift  # type: ignore[no-redef,import-not-found]

__all__ = ["handler", "run"]

_METRIC_LIMIT = 1000  # PutMetricData takes at most 1,000 metrics per call


def _split(uri: str) -> tuple[str, str]:
    bucket, _, prefix = uri[len("s3://") :].partition("/")
    return bucket, prefix.rstrip("/")


def _read_keys(s3: Any, bucket: str, keys: list[str]) -> drift.Partial:
    total = drift.Partial()
    for key in keys:
        part = drift.Partial()
        for line in s3.get_object(Bucket=bucket, Key=key)["Body"].iter_lines():
            if line.strip():
                drift.read_capture_line(line, part)
        total = total.merge(part)
    return total


def _list(s3: Any, bucket: str, prefix: str) -> list[str]:
    keys = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys += [item["Key"] for item in page.get("Contents", []) if item["Key"].endswith(".jsonl")]
    return sorted(keys)


def window_keys(s3: Any, capture_uri: str, variants: list[str], end: datetime, hours: int) -> tuple[str, list[str]]:
    """The bucket and the capture objects of the ``hours`` before ``end`` (hour folders listed one by one, so that
    a prefix holding months of capture costs a run only its window)."""
    bucket, prefix = _split(capture_uri)
    keys: list[str] = []
    last = end.replace(minute=0, second=0, microsecond=0)
    for step in range(hours, 0, -1):
        hour = (last - timedelta(hours=step)).strftime("%Y/%m/%d/%H")
        for variant in variants:
            keys += _list(s3, bucket, f"{prefix}/{variant}/{hour}/")
    return bucket, keys


def baseline(s3: Any, uri: str) -> drift.Partial:
    bucket, key = _split(uri)
    if key.endswith(".json"):
        return drift.Partial.from_dict(json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read()))
    return _read_keys(s3, bucket, _list(s3, bucket, key + "/"))


def metrics(result: drift.DriftResult | None, explained: int, endpoint: str) -> list[dict[str, Any]]:
    """The metric data of one run."""
    base = [{"Name": "EndpointName", "Value": endpoint}]
    data: list[dict[str, Any]] = [{"MetricName": "ExplainedRecords", "Dimensions": base, "Value": float(explained)}]
    if result is None:
        return data
    for label in result.labels:
        dims = [*base, {"Name": "Label", "Value": label}]
        data.append({"MetricName": "NDCG", "Dimensions": dims, "Value": result.ndcg[label]})
        data.append({"MetricName": "AttributionMassChange", "Dimensions": dims, "Value": result.mass_change[label]})
        change = result.prediction_change[label]
        if change is not None:
            data.append({"MetricName": "MeanPredictionChange", "Dimensions": dims, "Value": change})
        for name, value in zip(result.features, result.current_global[label], strict=True):
            data.append({"MetricName": f"feature_{name}"[:255], "Dimensions": dims, "Value": value})
    return data


def run(s3: Any, cloudwatch: Any, environ: dict[str, str], now: datetime | None = None) -> dict[str, Any]:
    """One run: read, compare, publish; returns what it published (and the verdict) for the function's log."""
    now = now or datetime.now(UTC)
    endpoint = environ["ENDPOINT_NAME"]
    bucket, keys = window_keys(
        s3,
        environ["CAPTURE_URI"],
        [v for v in environ.get("VARIANTS", "AllTraffic").split(",") if v],
        now,
        int(environ.get("WINDOW_HOURS", "1")),
    )
    current = _read_keys(s3, bucket, keys)
    result = None
    note = ""
    if current.explained:
        try:
            result = drift.compare(
                baseline(s3, environ["BASELINE_URI"]),
                current,
                ndcg_threshold=float(environ.get("NDCG_THRESHOLD", drift.DEFAULT_NDCG_THRESHOLD)),
                mass_threshold=float(environ.get("MASS_THRESHOLD", drift.DEFAULT_MASS_THRESHOLD)),
                prediction_threshold=float(environ.get("PREDICTION_THRESHOLD", drift.DEFAULT_PREDICTION_THRESHOLD)),
            )
        except drift.DriftError as err:
            note = str(err)
    else:
        note = f"no explained record in {len(keys)} capture file(s) of the window"
    data = metrics(result, current.explained, endpoint)
    namespace = environ.get("NAMESPACE", "ClarifyKit/Drift")
    for start in range(0, len(data), _METRIC_LIMIT):
        cloudwatch.put_metric_data(Namespace=namespace, MetricData=data[start : start + _METRIC_LIMIT])
    return {
        "files": len(keys),
        "lines": current.lines,
        "explained": current.explained,
        "skipped": dict(current.skipped),
        "metrics": len(data),
        "violations": result.violations if result else [],
        "note": note,
    }


def handler(event: Any, context: Any) -> dict[str, Any]:
    """AWS Lambda's entry point (the schedule's event is not read)."""
    import boto3

    summary = run(boto3.client("s3"), boto3.client("cloudwatch"), dict(os.environ))
    print(json.dumps(summary))  # the function's log line per run
    return summary
