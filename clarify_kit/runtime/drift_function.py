"""The scheduled drift function (ClarifyKit.Monitoring.Drift): AWS Lambda's handler, on the Python runtime as it is.

Each run reads the last ``WINDOW_HOURS`` of the capture prefix (hour folders of every variant, object by object,
streamed), compares the served explanations with the baseline (a capture prefix, or a partial written by
``clarify-kit drift --partial``) and publishes:

- under ``NAMESPACE`` (dimensions EndpointName, and Label for the per-label measures): ``NDCG``,
  ``AttributionMassChange``, ``MeanPredictionChange``, ``ExplainedRecords``, ``SkippedLines``, ``WindowTruncated``
  (1 when the time budget stopped the reading) and ``MonitorFailed`` (1 when the run could not measure: a bad
  baseline, an unreadable prefix; the run then fails too, so the function's Errors count it);
- under Model Monitor's namespace with its dimensions: ``feature_<name>`` (the global attribution) and
  ``ExpectedValue``, so that alarms and dashboards built for Model Monitor carry over.

A window with no explained record publishes no NDCG: the stack's NDCG alarm treats missing data as breaching, so a
monitor that measures nothing is heard. Configured by environment variables (see ``Settings``).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import traceback
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from clarify_kit.adapters.capture import PARTIAL_CAP_BYTES, parse_partial, read_s3_window
from clarify_kit.core import drift
from clarify_kit.core.s3_uri import parse_s3_uri
from clarify_kit.core.scores import ScoreSelector
from clarify_kit.runtime import MODEL_MONITOR_NAMESPACE

__all__ = ["MODEL_MONITOR_NAMESPACE", "Settings", "handler", "metric_name", "metrics", "run"]

_METRIC_LIMIT = 1000  # PutMetricData takes at most 1,000 metrics per call
_NAME_LIMIT = 255  # CloudWatch: a metric name has at most 255 characters
_DIMENSION_LIMIT = 1024  # and a dimension value at most 1,024
# Of the function's remaining time, what is kept for the comparison and publishing after reading stops.
_RESERVE_SECONDS = 60.0


@dataclass(frozen=True)
class Settings:
    """The function's environment, checked once per run."""

    capture_uri: str
    baseline_uri: str
    endpoint: str
    window_hours: int = 1
    namespace: str = "ClarifyKit/Drift"
    schedule: str = ""
    aggregation: str = drift.DEFAULT_AGGREGATION
    thresholds: tuple[float, float, float] = (
        drift.DEFAULT_NDCG_THRESHOLD,
        drift.DEFAULT_MASS_THRESHOLD,
        drift.DEFAULT_PREDICTION_THRESHOLD,
    )
    selector: ScoreSelector = ScoreSelector(assumed=True)

    @classmethod
    def from_environ(cls, environ: dict[str, str]) -> Settings:
        index = environ.get("PROBABILITY_INDEX", "")
        attribute = environ.get("PROBABILITY_ATTRIBUTE", "")
        configured = environ.get("SELECTOR_CONFIGURED", "") == "1"
        return cls(
            capture_uri=environ["CAPTURE_URI"],
            baseline_uri=environ["BASELINE_URI"],
            endpoint=environ["ENDPOINT_NAME"],
            window_hours=int(environ.get("WINDOW_HOURS", "1")),
            namespace=environ.get("NAMESPACE", "ClarifyKit/Drift"),
            schedule=environ.get("MONITORING_SCHEDULE", "") or f"clarify-kit-drift-{environ['ENDPOINT_NAME']}",
            aggregation=environ.get("AGGREGATION", drift.DEFAULT_AGGREGATION),
            thresholds=(
                float(environ.get("NDCG_THRESHOLD", drift.DEFAULT_NDCG_THRESHOLD)),
                float(environ.get("MASS_THRESHOLD", drift.DEFAULT_MASS_THRESHOLD)),
                float(environ.get("PREDICTION_THRESHOLD", drift.DEFAULT_PREDICTION_THRESHOLD)),
            ),
            selector=ScoreSelector(int(index) if index else None, attribute or None, assumed=not configured),
        )


def metric_name(prefix: str, name: str, limit: int = _NAME_LIMIT) -> str:
    """``prefix + name`` within CloudWatch's limit; a longer one is cut and ends in a stable hash of the whole
    name, so that names sharing their first characters stay distinct."""
    whole = prefix + name
    if len(whole) <= limit:
        return whole
    digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    return f"{whole[: limit - 13]}~{digest}"


def baseline(s3: Any, uri: str, aggregation: str, selector: ScoreSelector) -> drift.Partial:
    parsed = parse_s3_uri(uri)
    if parsed is None:
        raise drift.DriftError(f"BASELINE_URI {uri!r} is not an S3 URI (s3://bucket/key)")
    bucket, key = parsed.bucket, parsed.key
    if key.endswith(".json"):
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read(PARTIAL_CAP_BYTES + 1)
        return parse_partial(body, uri)
    return read_s3_window(uri, s3_client=s3, selector=selector, aggregation=aggregation)


def metrics(result: drift.DriftResult | None, current: drift.Partial, settings: Settings) -> list[dict[str, Any]]:
    """The kit's metric data of one run (its namespace)."""
    base = [{"Name": "EndpointName", "Value": settings.endpoint[:_DIMENSION_LIMIT]}]
    data: list[dict[str, Any]] = [
        {"MetricName": "ExplainedRecords", "Dimensions": base, "Value": float(current.explained)},
        {"MetricName": "SkippedLines", "Dimensions": base, "Value": float(sum(current.skipped.values()))},
        {"MetricName": "WindowTruncated", "Dimensions": base, "Value": float(current.truncated)},
        {"MetricName": "MonitorFailed", "Dimensions": base, "Value": 0.0},
    ]
    if result is None:
        return data
    for label in result.labels:
        dims = [*base, {"Name": "Label", "Value": metric_name("", label, _DIMENSION_LIMIT)}]
        data.append({"MetricName": "NDCG", "Dimensions": dims, "Value": result.ndcg[label]})
        data.append({"MetricName": "AttributionMassChange", "Dimensions": dims, "Value": result.mass_change[label]})
        change = result.prediction_change[label]
        if change is not None:
            data.append({"MetricName": "MeanPredictionChange", "Dimensions": dims, "Value": change})
    return data


def model_monitor_metrics(result: drift.DriftResult, settings: Settings) -> list[dict[str, Any]]:
    """``feature_<name>`` and ``ExpectedValue`` with Model Monitor's dimensions."""
    data: list[dict[str, Any]] = []
    for label in result.labels:
        common = [
            {"Name": "Endpoint", "Value": settings.endpoint[:_DIMENSION_LIMIT]},
            {"Name": "MonitoringSchedule", "Value": settings.schedule[:_DIMENSION_LIMIT]},
            {"Name": "ExplainabilityMethod", "Value": "KernelShap"},
            {"Name": "Label", "Value": metric_name("", label, _DIMENSION_LIMIT)},
        ]
        shap = [*common, {"Name": "ValueType", "Value": "GlobalShapValues"}]
        for name, value in zip(result.features, result.current_global[label], strict=True):
            data.append({"MetricName": metric_name("feature_", name), "Dimensions": shap, "Value": value})
        expected = result.expected_value[label]
        if expected is not None:
            dims = [*common, {"Name": "ValueType", "Value": "ExpectedValue"}]
            data.append({"MetricName": "ExpectedValue", "Dimensions": dims, "Value": expected})
    return data


def _publish(cloudwatch: Any, namespace: str, data: list[dict[str, Any]]) -> None:
    for start in range(0, len(data), _METRIC_LIMIT):
        cloudwatch.put_metric_data(Namespace=namespace, MetricData=data[start : start + _METRIC_LIMIT])


def run(
    s3: Any, cloudwatch: Any, environ: dict[str, str], now: datetime | None = None, deadline: float | None = None
) -> dict[str, Any]:
    """One run: read, compare, publish; returns what it published (and the verdict) for the function's log.

    ``deadline`` (time.monotonic()) is when reading stops: the window read so far is measured and published with
    ``WindowTruncated`` 1. A run that cannot measure publishes ``MonitorFailed`` 1 and raises.
    """
    settings = Settings.from_environ(environ)
    try:
        return _run(s3, cloudwatch, settings, now or datetime.now(UTC), deadline)
    except Exception:
        base = [{"Name": "EndpointName", "Value": settings.endpoint[:_DIMENSION_LIMIT]}]
        try:
            _publish(
                cloudwatch, settings.namespace, [{"MetricName": "MonitorFailed", "Dimensions": base, "Value": 1.0}]
            )
        finally:
            print(json.dumps({"failed": traceback.format_exc(limit=3)[-2000:]}))
        raise


def _run(s3: Any, cloudwatch: Any, settings: Settings, now: datetime, deadline: float | None) -> dict[str, Any]:
    until = now.replace(minute=0, second=0, microsecond=0)
    current = read_s3_window(
        settings.capture_uri,
        since=until - timedelta(hours=settings.window_hours),
        until=until,
        s3_client=s3,
        selector=settings.selector,
        aggregation=settings.aggregation,
        deadline=deadline,
        require=False,
    )
    result = None
    note = ""
    if current.explained:
        ndcg, mass, prediction = settings.thresholds
        reference = baseline(s3, settings.baseline_uri, settings.aggregation, settings.selector)
        result = drift.compare(
            reference,
            current,
            ndcg_threshold=ndcg,
            mass_threshold=mass,
            prediction_threshold=prediction,
            selector=settings.selector,
        )  # a baseline that cannot be compared (other features, nothing explained) fails the run: MonitorFailed
    else:
        note = f"no explained record in the window ({current.lines} lines); no NDCG is published (the alarm sounds)"
    data = metrics(result, current, settings)
    _publish(cloudwatch, settings.namespace, data)
    monitor = model_monitor_metrics(result, settings) if result else []
    _publish(cloudwatch, MODEL_MONITOR_NAMESPACE, monitor)
    return {
        "lines": current.lines,
        "explained": current.explained,
        "predicted": current.predicted,
        "skipped": dict(current.skipped),
        "truncated": current.truncated,
        "metrics": len(data) + len(monitor),
        "violations": result.violations if result else [],
        "predictions": settings.selector.describe(),
        "note": note,
    }


def handler(event: Any, context: Any) -> dict[str, Any]:
    """AWS Lambda's entry point (the schedule's event is not read)."""
    import boto3

    deadline = None
    if context is not None and hasattr(context, "get_remaining_time_in_millis"):
        left = context.get_remaining_time_in_millis() / 1000.0
        deadline = time.monotonic() + max(left - _RESERVE_SECONDS, left / 2)
    summary = run(boto3.client("s3"), boto3.client("cloudwatch"), dict(os.environ), deadline=deadline)
    print(json.dumps(summary))  # the function's log line per run
    return summary
