"""The container precheck against real example container processes, healthy and faulty."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from clarify_kit.adapters.files import load_config
from clarify_kit.precheck.container import container_precheck
from tests.helpers import container, example_path, run_cli


@pytest.mark.parametrize("kind", ["binary", "multiclass", "regression", "mme"])
def test_healthy_containers_pass_and_latency_is_measured(kind: str, container_url: Callable[[str], str]) -> None:
    report = container_precheck(load_config(example_path(kind)), container_url(kind))
    assert report.ok, [f.message for f in report.errors]
    names = [c["name"] for c in report.checks]
    assert names[:3] == ["ping", "single record", "two-record batch"]
    assert any(n.startswith("synthetic batch of") for n in names)
    assert report.latency is not None and report.latency.seconds < 60
    assert report.latency.measured and "container speed measured" in report.render()


def test_the_cli_runs_the_container_precheck_as_json(container_url: Callable[[str], str]) -> None:
    out = run_cli("precheck", str(example_path("binary")), "--container-url", container_url("binary"), "--json")
    report = json.loads(out.stdout)
    assert out.returncode == 0 and report["ok"] is True
    assert report["checks"][0] == {"name": "ping", "ok": True, "summary": f"GET {container_url('binary')}/ping"}


@pytest.mark.parametrize(
    ("fault", "check", "fragment"),
    [
        pytest.param("short", "two-record batch", "1 output record(s) for 2 input record(s)", id="fewer-lines"),
        pytest.param("nan", "scores", "", id="nan-score"),
        pytest.param("html", "single record", "HTTP 502", id="html-error"),
    ],
)
def test_a_faulty_container_fails_the_check_that_names_the_problem(
    models_dir: Path, fault: str, check: str, fragment: str
) -> None:
    with container(models_dir / "binary", fault=fault) as url:
        report = container_precheck(load_config(example_path("binary")), url)
    assert not report.ok
    failed = [c for c in report.checks if not c["ok"]]
    if fault == "nan":
        assert any("not a finite" in f.message or "nan" in f.message.lower() for f in report.errors), report.errors
        return
    assert failed[0]["name"] == check and fragment in failed[0]["summary"]
    assert "sent" in failed[0] or "received" in failed[0]


def test_an_unreachable_container_fails_the_ping_check() -> None:
    report = container_precheck(load_config(example_path("binary")), "http://127.0.0.1:9")
    assert [c["name"] for c in report.checks] == ["ping"]
    assert "fix --container-url" in report.errors[0].message
    # the estimate printed beside it comes from ClarifyKit.Latency's assumption, and says so
    assert report.latency is not None and not report.latency.measured
    assert "container speed assumed from ClarifyKit.Latency" in report.render()


def test_a_container_that_takes_one_record_per_request_is_reported_with_its_cost(models_dir: Path) -> None:
    from clarify_kit.core.config import config_from_dict
    from clarify_kit.precheck.container import container_precheck
    from tests.helpers import container, example_dict

    # GIVEN a container that refuses batches, and a config without MaxRecordCount
    data = example_dict("binary")
    data["EndpointConfig"]["ExplainerConfig"]["ClarifyExplainerConfig"]["InferenceConfig"].pop("MaxRecordCount", None)
    config = config_from_dict(data)
    with container(models_dir / "binary", fault="single") as url:
        report = container_precheck(config, url, latency_batches=1)
    # THEN the precheck passes with a warning (never a check mark in front of a fallback), and the estimate counts
    # one request per synthetic record
    assert report.ok, report.render()
    assert not any(c["name"] == "two-record batch" for c in report.checks)
    assert any(
        f.path.endswith("MaxRecordCount") and "only one record per request" in f.message for f in report.warnings
    )
    assert report.latency is not None and report.latency.records_per_request == 1
    assert report.latency.container_requests == 1 + 1022


@pytest.mark.parametrize("max_records", [None, 1000], ids=["no-MaxRecordCount", "MaxRecordCount-1000"])
def test_a_batch_answered_on_one_csv_line_passes_and_is_estimated_as_batches(
    models_dir: Path, max_records: int | None
) -> None:
    from clarify_kit.core.config import config_from_dict
    from tests.helpers import example_dict

    # GIVEN a container that answers a CSV batch on one line (SageMaker's XGBoost container, without SAGEMAKER_BATCH)
    data = example_dict("binary")
    inference = data["EndpointConfig"]["ExplainerConfig"]["ClarifyExplainerConfig"]["InferenceConfig"]
    inference.pop("MaxRecordCount", None)
    if max_records is not None:
        inference["MaxRecordCount"] = max_records
    data["Model"]["PrimaryContainer"]["Image"] = {"Framework": "xgboost", "Version": "1.7-1"}
    config = config_from_dict(data)
    with container(models_dir / "binary", fault="one-line") as url:
        report = container_precheck(config, url, latency_batches=1)
    # THEN the precheck passes with no warning and says how the answer is read, naming SageMaker's XGBoost image
    assert report.ok and not report.warnings, report.render()
    pair = next(c for c in report.checks if c["name"] == "two-record batch")
    assert pair["ok"] and "one CSV line for the batch" in pair["summary"]
    assert any("XGBoost" in f.message and "SAGEMAKER_BATCH=true" in f.message for f in report.of("note"))
    # AND the estimate counts batches, not one request per synthetic record
    assert report.latency is not None and report.latency.records_per_request > 1
    assert report.latency.container_requests <= 4


def test_a_single_json_object_the_selector_reads_passes_with_max_record_count_one(models_dir: Path) -> None:
    from clarify_kit.core.config import config_from_dict
    from tests.helpers import example_dict

    # GIVEN {"predictions": [p]} answers, MaxRecordCount 1 and ProbabilityAttribute predictions[0]
    data = example_dict("binary")
    inference = data["EndpointConfig"]["ExplainerConfig"]["ClarifyExplainerConfig"]["InferenceConfig"]
    inference.update({"MaxRecordCount": 1, "ProbabilityAttribute": "predictions[0]"})
    data["ClarifyKit"]["Container"] = {"Accept": "application/jsonlines"}
    with container(models_dir / "binary", fault="predictions-object") as url:
        report = container_precheck(config_from_dict(data), url, latency_batches=1)
    # THEN it passes: the answer is judged by the configured selector, not refused by its shape
    assert report.ok, report.render()
    single = next(c for c in report.checks if c["name"] == "single record")
    assert single["ok"]
    assert report.latency is not None and report.latency.records_per_request == 1
