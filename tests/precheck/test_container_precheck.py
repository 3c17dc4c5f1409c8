"""The container precheck against real example container processes, healthy and faulty."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from clarify_kit.adapters.files import load_config
from clarify_kit.precheck.container import container_precheck
from examples.runner import container
from tests.helpers import example_path, run_cli


@pytest.mark.parametrize("kind", ["binary", "multiclass", "regression", "mme"])
def test_healthy_containers_pass_and_latency_is_measured(kind: str, container_url: Callable[[str], str]) -> None:
    report = container_precheck(load_config(example_path(kind)), container_url(kind))
    assert report.ok, [f.message for f in report.errors]
    names = [c["name"] for c in report.checks]
    assert names[:3] == ["ping", "single record", "two-record batch"]
    assert any(n.startswith("synthetic batch of") for n in names)
    assert report.latency is not None and report.latency.seconds < 60


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


def test_a_container_that_takes_one_record_per_request_is_reported_with_its_cost(models_dir: Path) -> None:
    from clarify_kit.core.config import config_from_dict
    from clarify_kit.precheck.container import container_precheck
    from examples.runner import container
    from tests.helpers import example_dict

    # GIVEN a container that refuses batches, and a config without MaxRecordCount
    data = example_dict("binary")
    data["EndpointConfig"]["ExplainerConfig"]["ClarifyExplainerConfig"]["InferenceConfig"].pop("MaxRecordCount", None)
    config = config_from_dict(data)
    with container(models_dir / "binary", fault="single") as url:
        report = container_precheck(config, url, latency_batches=1)
    # THEN the precheck passes with a warning, and the estimate counts one request per synthetic record
    assert report.ok, report.render()
    check = next(c for c in report.checks if c["name"] == "two-record batch")
    assert check["ok"] and "falls back to single records" in check["summary"]
    assert any(
        f.path.endswith("MaxRecordCount") and "only one record per request" in f.message for f in report.warnings
    )
    assert report.latency is not None and report.latency.records_per_request == 1
    assert report.latency.container_requests == 1 + 1022
