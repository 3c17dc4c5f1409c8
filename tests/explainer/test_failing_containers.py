"""Failing and flaky containers cost one clear error, not a thousand requests (issue 23, section 2).

The container is a real HTTP server on loopback (the standard library's), scripted to refuse, to fail once, or to
take single records only, and counting what it is sent; the explainer talks to it through its real transport.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import pytest

from clarify_kit.core.config import config_from_dict
from clarify_kit.core.spec import ExplainerSpec
from clarify_kit.explainer.pipeline import Explainer
from clarify_kit.explainer.runtime_errors import ServiceError
from clarify_kit.explainer.transport import HttpTransport
from tests.helpers import GOOD, Behaviour, example_dict, scripted_container


def _explainer(url: str, samples: int | None = None) -> Explainer:
    """The binary example's explainer with no MaxRecordCount (the fallback's condition): 1,022 synthetic records
    per explained record (two batches of the automatic size), or ``samples``."""
    data = example_dict("binary")
    clarify = data["EndpointConfig"]["ExplainerConfig"]["ClarifyExplainerConfig"]
    clarify["InferenceConfig"].pop("MaxRecordCount", None)
    clarify["ShapConfig"].pop("NumberOfSamples", None)
    if samples is not None:
        clarify["ShapConfig"]["NumberOfSamples"] = samples
    return Explainer(ExplainerSpec.from_config(config_from_dict(data)), HttpTransport(url))


def test_a_container_that_refuses_the_prediction_call_costs_one_error_and_few_requests() -> None:
    # GIVEN a container that reads the first CSV row as a header, as MLflow's scoring server does
    refusing: Behaviour = lambda n, k: (400, '{"error_code": "BAD_REQUEST", "message": "Empty DataFrame"}')  # noqa: E731
    with scripted_container(refusing) as (url, sent):
        explainer = _explainer(url)
        started = time.monotonic()
        # WHEN one record is explained THEN one ModelError carries the container's status and message
        with pytest.raises(ServiceError) as info:
            explainer.invoke(GOOD.encode(), content_type="text/csv", accept="text/csv")
        elapsed = time.monotonic() - started
    assert info.value.name == "ModelError" and info.value.extra["OriginalStatusCode"] == 400
    assert "Empty DataFrame" in info.value.extra["OriginalMessage"]
    assert len(sent) <= 3 and max(sent) == 1, sent  # no synthetic record was sent
    assert elapsed <= 5


def test_a_refused_prediction_call_stops_the_synthetic_batches_not_yet_sent() -> None:
    # GIVEN a container that has answered before, and now refuses one request's prediction call (its three
    # records) but would score every synthetic batch
    refusing: Behaviour = lambda n, k: (400, '{"message": "bad record"}') if k == 3 else (200, "")  # noqa: E731
    records = "\n".join([GOOD] * 3).encode()
    with scripted_container(refusing) as (url, sent):
        explainer = _explainer(url)
        explainer.invoke(GOOD.encode(), content_type="text/csv", accept="text/csv")
        sent.clear()
        # WHEN the three records are explained (3,066 synthetic records: four batches, two in flight at a time)
        with pytest.raises(ServiceError) as info:
            explainer.invoke(records, content_type="text/csv", accept="text/csv")
    # THEN the prediction call's own error is the answer, and the batches after its answer are never sent
    assert info.value.extra["OriginalStatusCode"] == 400 and "bad record" in info.value.extra["OriginalMessage"]
    assert sent.count(3) == 1 and len(sent) <= 4, sent


def test_one_transient_503_is_retried_as_such_and_never_switches_to_single_records(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # GIVEN a container whose second request (the first synthetic batch) fails with a 503, once
    flaky: Behaviour = lambda n, k: (503, '{"message": "busy"}') if n == 2 else (200, "")  # noqa: E731
    with scripted_container(flaky) as (url, sent):
        explainer = _explainer(url)
        envelope, _ = explainer.invoke(GOOD.encode(), content_type="text/csv", accept="text/csv")
        first = len(sent)
        explainer.invoke(GOOD.encode(), content_type="text/csv", accept="text/csv")
        second = len(sent) - first
    assert envelope["explanations"]["kernel_shap"][0] is not None
    # the prediction, two synthetic batches, the expected value and one retry; this HTTP/1.0 server closes every
    # connection, so the expected value is scored on each call (a restarted model would otherwise go unnoticed)
    assert first <= 5, sent
    assert second <= 4, sent
    assert not explainer.single_records and "single records" not in caplog.text


def test_a_container_that_takes_only_single_records_is_switched_on_evidence_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # GIVEN a container that refuses batches with a 400 but takes single records (the inference toolkit's
    # classic handler bug, inverted)
    singles_only: Behaviour = lambda n, k: (400, '{"message": "one record at a time"}') if k > 1 else (200, "")  # noqa: E731
    with (
        caplog.at_level(logging.WARNING, logger="clarify_kit.explainer"),
        scripted_container(singles_only) as (
            url,
            sent,
        ),
    ):
        explainer = _explainer(url, samples=40)
        for _ in range(2):
            envelope, _ = explainer.invoke(GOOD.encode(), content_type="text/csv", accept="text/csv")
            assert envelope["explanations"]["kernel_shap"][0] is not None
    assert explainer.single_records
    assert caplog.text.count("refused a batch") == 1  # said once, with its reason
    assert "one record at a time" in caplog.text


def _container_precheck(url: str) -> Any:
    from clarify_kit.core.config import config_from_dict
    from clarify_kit.precheck.container import container_precheck

    data = example_dict("binary")
    data["EndpointConfig"]["ExplainerConfig"]["ClarifyExplainerConfig"]["InferenceConfig"].pop("MaxRecordCount", None)
    return container_precheck(config_from_dict(data), url)


def test_the_container_precheck_names_a_server_that_reads_a_header_row() -> None:
    header_reader: Behaviour = lambda n, k: (400, '{"error_code": "BAD_REQUEST", "message": "Empty DataFrame"}')  # noqa: E731
    with scripted_container(header_reader) as (url, _):
        report = _container_precheck(url)
    text = " ".join(f.message for f in report.errors)
    assert "reads the first CSV row as a header" in text and "clarify-kit mlflow-adaptor" in text


def test_the_container_precheck_names_a_one_json_object_answer_and_its_fix() -> None:
    mlflow: Behaviour = lambda n, k: (200, '{"predictions": [' + ", ".join(["0.9"] * k) + "]}")  # noqa: E731
    with scripted_container(mlflow) as (url, _):
        report = _container_precheck(url)
    messages = [f.message for f in report.errors + report.warnings]
    assert any("one JSON object" in m and "one line per record" in m for m in messages), messages
    assert any("Content-Type application/json for Accept text/csv" in m for m in messages), messages
    assert not any("MaxRecordCount: 1" in m for m in messages)  # not the cause, not the fix


def test_the_container_precheck_tells_a_single_record_bug_from_a_batch_refusal() -> None:
    def one_d(n: int, k: int) -> tuple[int, str]:
        return (500, '{"message": "Expected 2D array, got 1D array instead"}') if k == 1 else (200, "")

    with scripted_container(one_d) as (url, _):
        report = _container_precheck(url)
    assert any("fails on one record but takes two" in f.message for f in report.errors), [str(f) for f in report.errors]


def test_the_container_precheck_never_advises_running_itself() -> None:
    refusing: Behaviour = lambda n, k: (400, '{"message": "no"}')  # noqa: E731
    with scripted_container(refusing) as (url, _):
        report = _container_precheck(url)
    assert not any("run the container precheck" in f.message for f in report.findings)
