"""boto3 against the local endpoint over real HTTP, in front of real example container processes."""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from clarify_kit.adapters.files import load_config
from clarify_kit.core.config import config_from_dict
from clarify_kit.core.response import parse_response
from clarify_kit.explainer.endpoint import running_endpoint
from tests.helpers import container, example_dict, example_path, runtime_client

Endpoint = tuple[Any, str]  # (boto3 client, endpoint name)


@pytest.fixture(scope="module")
def endpoint(container_url: Callable[[str], str]) -> Iterator[Callable[[str], Endpoint]]:
    from contextlib import ExitStack

    with ExitStack() as stack:
        made: dict[str, Endpoint] = {}

        def get(kind: str) -> Endpoint:
            if kind not in made:
                config = load_config(example_path(kind))
                url, ep = stack.enter_context(running_endpoint(config, container_url(kind)))
                made[kind] = (runtime_client(url), ep.name)
            return made[kind]

        yield get


def invoke(ep: Endpoint, body: str, **kwargs: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    client, name = ep
    response = client.invoke_endpoint(EndpointName=name, Body=body.encode(), **kwargs)
    return json.loads(response["Body"].read()), response


BINARY = [
    "17.99,10.38,122.8,1001,0.1184,0.2776,0.3001,0.1471,0.2419,0.07871",
    "13.54,14.36,87.46,566.3,0.09779,0.08129,0.06664,0.04781,0.1885,0.05766",
]


def test_csv_records_are_explained_with_feature_headers(endpoint: Callable[[str], Endpoint]) -> None:
    # GIVEN the binary endpoint WHEN two records are sent with explanations
    body, response = invoke(endpoint("binary"), "\n".join(BINARY), ContentType="text/csv", Accept="text/csv")
    # THEN the envelope follows the documented schema
    assert response["ContentType"] == "application/json"
    assert response["InvokedProductionVariant"] == "AllTraffic"
    assert body["version"] == "1.0"
    assert body["predictions"]["content_type"] == "text/csv; charset=utf-8"
    assert body["predictions"]["data"].endswith("\n") and len(body["predictions"]["data"].split()) == 2
    assert "label_headers" not in body
    records = body["explanations"]["kernel_shap"]
    assert len(records) == 2
    headers = example_dict("binary")["EndpointConfig"]["ExplainerConfig"]["ClarifyExplainerConfig"]["InferenceConfig"][
        "FeatureHeaders"
    ]
    assert [f["feature_header"] for f in records[0]] == headers
    assert all("feature_type" not in f and len(f["attributions"]) == 1 for f in records[0])


def test_attributions_add_up_to_the_prediction_minus_the_baseline_value(endpoint: Callable[[str], Endpoint]) -> None:
    ep = endpoint("binary")
    baseline = example_dict("binary")["EndpointConfig"]["ExplainerConfig"]["ClarifyExplainerConfig"]["ShapConfig"][
        "ShapBaselineConfig"
    ]["ShapBaseline"]
    expected, _ = invoke(ep, baseline, ContentType="text/csv", EnableExplanations="`false`")
    base_value = float(expected["predictions"]["data"])
    body, _ = invoke(ep, BINARY[0], ContentType="text/csv")
    prediction = float(body["predictions"]["data"])
    total = sum(f["attributions"][0]["attribution"][0] for f in body["explanations"]["kernel_shap"][0])
    assert prediction == pytest.approx(base_value + total, abs=1e-9)


def test_the_same_seed_gives_the_same_attributions_over_http(endpoint: Callable[[str], Endpoint]) -> None:
    first, _ = invoke(endpoint("binary"), BINARY[1], ContentType="text/csv")
    again, _ = invoke(endpoint("binary"), BINARY[1], ContentType="text/csv")
    assert first["explanations"] == again["explanations"]


def test_false_override_gives_an_empty_explanations_object(endpoint: Callable[[str], Endpoint]) -> None:
    body, _ = invoke(endpoint("binary"), "\n".join(BINARY), ContentType="text/csv", EnableExplanations="`false`")
    assert body["explanations"] == {}


def test_filtered_records_are_null(endpoint: Callable[[str], Endpoint]) -> None:
    # record 0 is malignant (p ~ 0.98), record 1 benign (p ~ 0.01)
    body, _ = invoke(endpoint("binary"), "\n".join(BINARY), ContentType="text/csv", EnableExplanations="[0]>`0.5`")
    records = body["explanations"]["kernel_shap"]
    assert records[0] is not None and records[1] is None


def test_jsonlines_multiclass_has_label_headers_and_one_value_per_class(endpoint: Callable[[str], Endpoint]) -> None:
    records = [
        '{"features":[14.23,1.71,2.43,15.6,127,2.8,3.06,0.28,2.29,5.64,1.04,3.92,1065]}',
        '{"features":[12.37,0.94,1.36,10.6,88,1.98,0.57,0.28,0.42,1.95,1.05,1.82,520]}',
    ]
    body, _ = invoke(
        endpoint("multiclass"),
        "\n".join(records),
        ContentType="application/jsonlines",
        Accept="application/jsonlines",
        EnableExplanations="`true`",
    )
    assert body["label_headers"] == ["class_0", "class_1", "class_2"]
    assert body["predictions"]["content_type"].startswith("application/jsonlines")
    explained = body["explanations"]["kernel_shap"]
    assert all(len(f["attributions"][0]["attribution"]) == 3 for f in explained[0])
    # each class's attributions add up to that class's probability minus its baseline probability
    parsed = parse_response(body)
    assert parsed.explained_indexes == [0, 1]


def test_multiclass_config_filter_explains_only_uncertain_records(endpoint: Callable[[str], Endpoint]) -> None:
    certain = '{"features":[14.23,1.71,2.43,15.6,127,2.8,3.06,0.28,2.29,5.64,1.04,3.92,1065]}'
    body, _ = invoke(endpoint("multiclass"), certain, ContentType="application/jsonlines")
    assert body["explanations"] == {}


def test_multi_model_endpoint_routes_on_target_model(endpoint: Callable[[str], Endpoint]) -> None:
    ep = endpoint("mme")
    a, _ = invoke(ep, BINARY[0], ContentType="text/csv", TargetModel="logistic.tar.gz")
    b, _ = invoke(ep, BINARY[0], ContentType="text/csv", TargetModel="forest.tar.gz")
    assert a["predictions"]["data"] != b["predictions"]["data"]
    assert a["explanations"]["kernel_shap"][0] is not None
    client, name = ep
    with pytest.raises(client.exceptions.ValidationError, match="TargetModel is required"):
        client.invoke_endpoint(EndpointName=name, Body=BINARY[0], ContentType="text/csv")
    with pytest.raises(client.exceptions.ModelError, match="not found"):
        client.invoke_endpoint(EndpointName=name, Body=BINARY[0], ContentType="text/csv", TargetModel="nope.tar.gz")


def test_regression_attributions_are_in_target_units(endpoint: Callable[[str], Endpoint]) -> None:
    record = "0.0381,0.0507,0.0617,0.0219,-0.0442,-0.0348,-0.0434,-0.0026,0.0199,-0.0176"
    body, _ = invoke(endpoint("regression"), record, ContentType="text/csv")
    total = sum(f["attributions"][0]["attribution"][0] for f in body["explanations"]["kernel_shap"][0])
    assert abs(total) > 1  # diabetes progression units, not probabilities


@pytest.mark.parametrize(
    ("kwargs", "error", "fragment"),
    [
        pytest.param({"EnableExplanations": "true"}, "ValidationError", "evaluated to null", id="bare-true"),
        pytest.param({"EnableExplanations": "[0]>0.5"}, "ValidationError", "invalid JMESPath", id="syntax"),
        pytest.param(
            {"EnableExplanations": "`true`" + " && `true`" * 7},
            "ValidationError",
            "between 1 and 64",
            id="header-too-long",
        ),
        pytest.param({"ContentType": "application/json"}, "ValidationError", "not supported", id="json-content"),
        pytest.param({"TargetModel": "a.tar.gz"}, "ValidationError", "multi-model", id="target-model-on-single"),
        pytest.param({"TargetVariant": "Blue"}, "ValidationError", "not a variant", id="unknown-variant"),
    ],
)
def test_bad_requests_raise_the_services_errors_and_the_endpoint_keeps_serving(
    endpoint: Callable[[str], Endpoint], kwargs: dict[str, Any], error: str, fragment: str
) -> None:
    client, name = endpoint("binary")
    call = {"ContentType": "text/csv", **kwargs}
    with pytest.raises(getattr(client.exceptions, error), match=fragment):
        client.invoke_endpoint(EndpointName=name, Body=BINARY[0], **call)
    body, _ = invoke((client, name), BINARY[0], ContentType="text/csv")
    assert body["explanations"]["kernel_shap"][0] is not None


def test_a_wrong_record_width_is_a_model_error_with_the_containers_status(endpoint: Callable[[str], Endpoint]) -> None:
    client, name = endpoint("binary")
    with pytest.raises(client.exceptions.ModelError) as info:
        client.invoke_endpoint(EndpointName=name, Body="1,2,3", ContentType="text/csv")
    assert info.value.response["OriginalStatusCode"] == 400
    assert "expected 10 features" in info.value.response["OriginalMessage"]


def test_unknown_endpoint_and_oversized_body_are_validation_errors(endpoint: Callable[[str], Endpoint]) -> None:
    client, name = endpoint("binary")
    with pytest.raises(client.exceptions.ValidationError, match="Endpoint nope of account"):
        client.invoke_endpoint(EndpointName="nope", Body=BINARY[0], ContentType="text/csv")
    big = (BINARY[0] + "\n") * (6_291_456 // len(BINARY[0]) + 10)
    with pytest.raises(client.exceptions.ValidationError, match="6291456-byte limit"):
        client.invoke_endpoint(EndpointName=name, Body=big.encode(), ContentType="text/csv")


@pytest.mark.parametrize(
    ("fault", "fragment"),
    [
        pytest.param("short", "output records for", id="fewer-lines"),
        pytest.param("extra", "output records for", id="more-lines"),
        pytest.param("nan", "not a finite number", id="nan"),
        pytest.param("non-utf8", "not UTF-8", id="non-utf8"),
        pytest.param("html", "(502)", id="html-error-page"),
        pytest.param("error-after", "(500)", id="fails-after-warm-up"),
    ],
)
def test_malformed_container_outputs_are_model_errors(models_dir: Path, fault: str, fragment: str) -> None:
    config = load_config(example_path("binary"))
    with container(models_dir / "binary", fault=fault, fault_arg=1) as url, running_endpoint(config, url) as (base, ep):
        client = runtime_client(base)
        for _ in range(2):  # the endpoint keeps serving: the second call gets the same clear error
            with pytest.raises(client.exceptions.ModelError, match=re.escape(fragment)):
                client.invoke_endpoint(EndpointName=ep.name, Body="\n".join(BINARY), ContentType="text/csv")


def test_a_container_slower_than_the_limit_is_a_timeout_model_error(models_dir: Path) -> None:
    config = load_config(example_path("binary"))
    with (
        container(models_dir / "binary", fault="slow", fault_arg=1.5) as url,
        running_endpoint(config, url, timeout=0.5) as (base, ep),
    ):
        client = runtime_client(base)
        with pytest.raises(client.exceptions.ModelError, match="timed out"):
            client.invoke_endpoint(EndpointName=ep.name, Body=BINARY[0], ContentType="text/csv")


def test_an_unreachable_container_is_a_model_error() -> None:
    config = config_from_dict(example_dict("binary"))
    with running_endpoint(config, "http://127.0.0.1:9") as (base, ep):
        client = runtime_client(base)
        with pytest.raises(client.exceptions.ModelError, match="cannot reach the model container"):
            client.invoke_endpoint(EndpointName=ep.name, Body=BINARY[0], ContentType="text/csv")


def test_explanations_match_the_engine_on_the_same_model(endpoint: Callable[[str], Endpoint], models_dir: Path) -> None:
    # the endpoint's attributions equal an in-process computation with the model file itself
    import pickle

    from clarify_kit.core.kernel_shap import explain

    model = pickle.loads((models_dir / "binary" / "model.pkl").read_bytes())
    x = np.array([float(v) for v in BINARY[0].split(",")])
    base = np.array([[14.13, 19.29, 91.97, 654.9, 0.09636, 0.1043, 0.0888, 0.04892, 0.1812, 0.0628]])

    def evaluate(masks: np.ndarray) -> np.ndarray:
        grid = np.where(masks[:, None, :], x[None, None, :], base[None, :, :]).reshape(-1, 10)
        return model.predict_proba(grid)[:, 1].reshape(len(masks), 1, 1).mean(axis=1)

    local = explain(10, evaluate, seed=42)
    body, _ = invoke(endpoint("binary"), BINARY[0], ContentType="text/csv")
    served = [f["attributions"][0]["attribution"][0] for f in body["explanations"]["kernel_shap"][0]]
    np.testing.assert_allclose(served, local.phi[:, 0], atol=1e-12)


def test_a_connection_reset_by_the_container_is_a_model_error_and_the_endpoint_keeps_serving() -> None:
    import socket
    import struct
    import threading

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    stop = threading.Event()

    def reset_everything() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            conn.recv(65536)
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close with RST
            conn.close()

    thread = threading.Thread(target=reset_everything, daemon=True)
    thread.start()
    try:
        config = config_from_dict(example_dict("binary"))
        with running_endpoint(config, f"http://127.0.0.1:{server.getsockname()[1]}") as (base, ep):
            client = runtime_client(base)
            for _ in range(2):
                with pytest.raises(client.exceptions.ModelError, match="cannot reach the model container"):
                    client.invoke_endpoint(EndpointName=ep.name, Body=BINARY[0], ContentType="text/csv")
    finally:
        stop.set()
        thread.join()
        server.close()


def test_servers_the_kit_starts_bind_loopback_unless_told_otherwise() -> None:
    from clarify_kit.cli.main import parser as cli_parser
    from clarify_kit.explainer import endpoint as local_endpoint
    from examples import container

    assert inspect.signature(local_endpoint.running_endpoint).parameters["host"].default == "127.0.0.1"
    assert inspect.signature(local_endpoint.serve).parameters["host"].default == "127.0.0.1"
    parser = cli_parser()
    args = parser.parse_args(["serve-local", "c.yaml", "--model-url", "http://127.0.0.1:1"])
    assert args.host == "127.0.0.1"
    source = inspect.getsource(container.main)
    assert 'else "127.0.0.1"' in source  # 0.0.0.0 only inside the container image (`serve`)


def test_answers_speak_the_services_wire_request_ids_and_error_texts() -> None:
    import urllib.error
    import urllib.request

    config = config_from_dict(example_dict("binary"))
    with running_endpoint(config, "http://127.0.0.1:9") as (base, ep):
        client = runtime_client(base)
        # GIVEN an unreachable container WHEN invoked THEN the service's text, with its closing sentence
        with pytest.raises(client.exceptions.ModelError) as caught:
            client.invoke_endpoint(EndpointName=ep.name, Body=BINARY[0], ContentType="text/csv")
        error = caught.value.response
        assert error["Error"]["Message"].startswith('Received server error (0) from primary with message "')
        assert error["Error"]["Message"].endswith(f"/aws/sagemaker/Endpoints/{ep.name} in account 000000000000 "
                                                  "for more information.")  # fmt: skip
        assert error["ResponseMetadata"]["RequestId"]  # boto3 reads x-amzn-RequestId
        # AND the kit's own explanation stands apart, in its own member
        request = urllib.request.Request(
            f"{base}/endpoints/{ep.name}/invocations", data=BINARY[0].encode(), headers={"Content-Type": "text/csv"}
        )
        with pytest.raises(urllib.error.HTTPError) as raw:
            urllib.request.urlopen(request, timeout=30)
        body = json.loads(raw.value.read())
        assert body["ExplainerMessage"] == "The model container could not be reached."
        assert raw.value.headers["x-amzn-RequestId"]
        # AND every other answer carries a request id too: a validation error, a ping, an unknown path
        with pytest.raises(client.exceptions.ValidationError) as invalid:
            client.invoke_endpoint(EndpointName="nope", Body=b"1", ContentType="text/csv")
        assert invalid.value.response["ResponseMetadata"]["RequestId"]
        with urllib.request.urlopen(f"{base}/ping", timeout=5) as ping:
            assert ping.headers["x-amzn-RequestId"]
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(f"{base}/nowhere", timeout=5)
        assert missing.value.code == 404 and missing.value.headers["x-amzn-RequestId"]
        # AND a wrong method on a known path is refused as such (405, naming the method allowed)
        with pytest.raises(urllib.error.HTTPError) as wrong:
            urllib.request.urlopen(f"{base}/endpoints/{ep.name}/invocations", timeout=5)
        assert wrong.value.code == 405 and wrong.value.headers["Allow"] == "POST"
        assert wrong.value.headers["x-amzn-RequestId"]


def test_a_model_replaced_under_a_running_endpoint_is_explained_with_its_own_baseline_score(
    models_dir: Path,
) -> None:
    import urllib.request

    from tests.helpers import container, free_port

    config = config_from_dict(example_dict("binary"))
    clarify = example_dict("binary")["EndpointConfig"]["ExplainerConfig"]["ClarifyExplainerConfig"]
    baseline = clarify["ShapConfig"]["ShapBaselineConfig"]["ShapBaseline"]
    url = f"http://127.0.0.1:{free_port()}"

    def explained(base: str, name: str) -> tuple[float, float]:
        """f(x) as served, and the sum of its attributions."""
        body = (
            runtime_client(base)
            .invoke_endpoint(EndpointName=name, Body=BINARY[0], ContentType="text/csv", EnableExplanations="`true`")[
                "Body"
            ]
            .read()
        )
        envelope = json.loads(body)
        total = sum(f["attributions"][0]["attribution"][0] for f in envelope["explanations"]["kernel_shap"][0])
        return float(envelope["predictions"]["data"].split()[0]), total

    def expected() -> float:
        """E[f] of the model now serving: the mean of its scores of the baseline records."""
        request = urllib.request.Request(
            url + "/invocations", data=baseline.encode(), headers={"Content-Type": "text/csv"}
        )
        with urllib.request.urlopen(request, timeout=30) as answer:
            values = [float(v) for v in answer.read().decode().split()]
        return sum(values) / len(values)

    port = int(url.rsplit(":", 1)[1])
    with running_endpoint(config, url) as (base, ep):
        # GIVEN a running local endpoint in front of a model
        with container(models_dir / "binary", port=port):
            score, total = explained(base, ep.name)
            assert abs(score - (expected() + total)) < 1e-9
        # WHEN the model is retrained (every score moves by 0.25) and restarted on the same port
        with container(models_dir / "binary", port=port, fault="shift", fault_arg=0.25):
            new_score, new_total = explained(base, ep.name)
            new_expected = expected()
    # THEN f_new(x) = E[f_new] + the sum of the attributions, to 1e-9: not the old model's baseline score
    assert abs(new_score - score - 0.25) < 1e-9
    assert abs(new_score - (new_expected + new_total)) < 1e-9
