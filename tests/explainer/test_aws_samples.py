"""Configs and model shapes from AWS's own samples: the multi-model notebook's ``Model.Containers`` form, and a model
of one feature (issue 23, section 5)."""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from typing import Any

from clarify_kit.core.config import config_from_dict
from clarify_kit.core.spec import ExplainerSpec
from clarify_kit.explainer.endpoint import running_endpoint
from clarify_kit.explainer.pipeline import Explainer
from clarify_kit.explainer.transport import HttpTransport
from clarify_kit.precheck import static_precheck
from tests.helpers import example_dict, runtime_client, scripted_container

GOOD = "17.99,10.38,122.8,1001,0.1184,0.2776,0.3001,0.1471,0.2419,0.07871"


def _containers_form() -> dict[str, Any]:
    data = example_dict("mme")
    data["Model"]["Containers"] = [data["Model"].pop("PrimaryContainer")]  # as AWS's multi-model notebook writes it
    return data


def _attributions(url: str, name: str, target: str) -> list[list[float]]:
    import json

    client = runtime_client(url)
    out = client.invoke_endpoint(
        EndpointName=name,
        Body=GOOD,
        ContentType="text/csv",
        Accept="text/csv",
        TargetModel=target,
        EnableExplanations="`true`",
    )
    body = json.loads(out["Body"].read())
    return [f["attributions"][0]["attribution"] for f in body["explanations"]["kernel_shap"][0]]


def test_the_multi_model_notebooks_containers_form_is_prechecked_and_routed_per_target_model(
    container_url: Callable[[str], str],
) -> None:
    config = config_from_dict(_containers_form())
    report = static_precheck(config)
    assert report.ok, [str(f) for f in report.errors]
    primary = config_from_dict(example_dict("mme"))
    with (
        running_endpoint(config, container_url("mme")) as (url, endpoint),
        running_endpoint(primary, container_url("mme")) as (other_url, other),
    ):
        for target in ("logistic.tar.gz", "forest.tar.gz"):
            assert _attributions(url, endpoint.name, target) == _attributions(other_url, other.name, target)
        assert _attributions(url, endpoint.name, "logistic.tar.gz") != _attributions(
            url, endpoint.name, "forest.tar.gz"
        )


def test_two_containers_are_still_refused() -> None:
    data = _containers_form()
    data["Model"]["Containers"].append(copy.deepcopy(data["Model"]["Containers"][0]))
    errors = [str(f) for f in static_precheck(config_from_dict(data)).errors]
    assert any(e.startswith("Model.Containers: 2 containers") for e in errors), errors


def test_a_one_feature_model_is_explained_exactly() -> None:
    # GIVEN a model of one feature (f(x) = sigmoid(x / 1000)) and a baseline of one record
    data = example_dict("binary")
    clarify = data["EndpointConfig"]["ExplainerConfig"]["ClarifyExplainerConfig"]
    clarify["InferenceConfig"] = {}
    clarify["ShapConfig"]["ShapBaselineConfig"]["ShapBaseline"] = "500"
    data["ClarifyKit"]["Container"] = {"SampleRecords": ["1000"], "SampleOutputs": ["0.7"]}
    data["ClarifyKit"]["Baseline"] = {}
    config = config_from_dict(data)
    with scripted_container(lambda n, k: (200, "")) as (url, _):
        explainer = Explainer(ExplainerSpec.from_config(config), HttpTransport(url))
        envelope, _ = explainer.invoke(b"1000", content_type="text/csv", accept="text/csv")
    # THEN the one attribution is f(x) minus the expected value
    (feature,) = envelope["explanations"]["kernel_shap"][0]
    (value,) = feature["attributions"][0]["attribution"]
    sigmoid = lambda x: 1 / (1 + math.exp(-x / 1000))  # noqa: E731
    assert abs(value - (sigmoid(1000) - sigmoid(500))) < 1e-6


def test_serve_local_refuses_to_start_with_an_expression_that_does_not_compile(tmp_path: Any) -> None:
    import yaml

    from tests.helpers import run_cli

    data = example_dict("binary")
    data["EndpointConfig"]["ExplainerConfig"]["ClarifyExplainerConfig"]["EnableExplanations"] = "[0]>0.5"
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data))
    out = run_cli(
        "serve-local", str(path), "--model-url", "http://127.0.0.1:9", "--port", "1", process=True, timeout=60
    )
    assert out.returncode == 1 and out.stderr.count("\n") <= 4 and "Traceback" not in out.stderr  # with its caret
    assert "EnableExplanations" in out.stderr


def test_records_answered_on_one_csv_line_with_nothing_explained_are_read_per_request_record() -> None:
    from clarify_kit.client.invoke import EndpointClient

    # GIVEN a multi-model container that answers a batch as XGBoost's does: every record's score on one CSV line
    def one_line(n: int, k: int) -> tuple[int, str]:
        return 200, ",".join(["0.97", "0.02", "0.5"][:k])

    config = config_from_dict(_containers_form())
    other = "13.54,14.36,87.46,566.3,0.09779,0.08129,0.06664,0.04781,0.1885,0.05766"
    with scripted_container(one_line) as (model, _), running_endpoint(config, model) as (url, endpoint):
        client = EndpointClient(endpoint.name, config=config, boto3_client=runtime_client(url))
        # WHEN two records are sent with explanations off (the response's explanations is {})
        result = client.invoke([GOOD, other], enable_explanations="`false`", target_model="logistic.tar.gz")
    # THEN the parser reads two records of one score each, not one record of two scores
    assert result.response.explanations == ()
    assert [r.scores for r in result.records] == [(0.97,), (0.02,)], result.warnings
