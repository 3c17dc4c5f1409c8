"""The endpoint client against the local endpoint (real HTTP), moto in server mode, and Stubber error shapes."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
import urllib3
from botocore.stub import Stubber

from clarify_kit.client import EndpointClient
from clarify_kit.core.errors import InvocationError, KitError
from tests.helpers import example_path, runtime_client

BINARY = [
    [17.99, 10.38, 122.8, 1001, 0.1184, 0.2776, 0.3001, 0.1471, 0.2419, 0.07871],
    [13.54, 14.36, 87.46, 566.3, 0.09779, 0.08129, 0.06664, 0.04781, 0.1885, 0.05766],
]
WINE = [
    [14.23, 1.71, 2.43, 15.6, 127, 2.8, 3.06, 0.28, 2.29, 5.64, 1.04, 3.92, 1065],
    [13.05, 3.86, 2.32, 22.5, 85, 1.65, 1.59, 0.61, 1.62, 4.8, 0.84, 2.01, 515],
]


@pytest.fixture
def client_for(local_endpoint: Callable[[str], tuple[str, str]]) -> Callable[[str], EndpointClient]:
    def make(kind: str) -> EndpointClient:
        url, name = local_endpoint(kind)
        return EndpointClient(
            name, config=example_path(kind), endpoint_url=url, region_name="us-east-1", boto3_client=runtime_client(url)
        )

    return make


def test_rows_are_sent_as_csv_and_parsed_into_typed_results(client_for: Callable[[str], EndpointClient]) -> None:
    result = client_for("binary").invoke(BINARY, enable_explanations="`true`")
    assert result.invoked_variant == "AllTraffic"
    assert len(result.records) == 2 and result.explained_indexes == [0, 1]
    assert result.records[0].scores is not None and result.records[0].scores[0] > 0.5
    long = result.to_dataframe("long")
    assert len(long) == 20 and set(long["feature"]) >= {"mean radius", "mean area"}
    wide = result.to_dataframe("wide")
    assert wide.shape == (2, 12) and "mean texture" in wide.columns


def test_additivity_against_the_expected_value_over_the_baseline(client_for: Callable[[str], EndpointClient]) -> None:
    client = client_for("binary")
    result = client.invoke(BINARY)
    expected = client.expected_value()
    checks = result.additivity(expected, tolerance=1e-9)
    assert len(checks) == 2 and all(c["ok"] for c in checks)


def test_dicts_go_as_json_lines_and_multiclass_labels_are_named(client_for: Callable[[str], EndpointClient]) -> None:
    client = client_for("multiclass")
    result = client.invoke([{"features": row} for row in WINE], enable_explanations="`true`")
    assert result.label_headers == ("class_0", "class_1", "class_2")
    assert result.records[0].scores is not None and len(result.records[0].scores) == 3
    assert {r["label"] for r in result.rows()} == {"class_0", "class_1", "class_2"}
    expected = client.expected_value()
    assert all(c["ok"] for c in result.additivity(expected, tolerance=1e-6))


def test_a_dataframe_is_serialized_through_the_content_template(client_for: Callable[[str], EndpointClient]) -> None:
    import pandas as pd

    frame = pd.DataFrame(WINE)
    result = client_for("multiclass").invoke(frame, enable_explanations="`true`")
    assert result.explained_indexes == [0, 1]


def test_target_model_reaches_the_multi_model_container(client_for: Callable[[str], EndpointClient]) -> None:
    client = client_for("mme")
    a = client.invoke(BINARY[:1], target_model="logistic.tar.gz")
    b = client.invoke(BINARY[:1], target_model="forest.tar.gz")
    assert a.records[0].scores != b.records[0].scores


def test_service_errors_become_invocation_errors_with_their_code(client_for: Callable[[str], EndpointClient]) -> None:
    client = client_for("binary")
    with pytest.raises(InvocationError) as info:
        client.invoke([[1, 2, 3]])
    assert info.value.code == "ModelError" and info.value.status == 424 and not info.value.retryable
    with pytest.raises(InvocationError) as info:
        client.invoke(BINARY, enable_explanations="true")
    assert info.value.code == "ValidationError"


def test_bad_records_are_the_kits_errors() -> None:
    client = EndpointClient("x", boto3_client=object())
    with pytest.raises(KitError, match="a mapping can only be sent as application/jsonlines"):
        client.invoke([{"a": 1}], content_type="text/csv")
    with pytest.raises(KitError, match="not supported"):
        client.invoke(BINARY, content_type="application/json")
    with pytest.raises(InvocationError, match="6291456"):
        client.invoke("1" * 6_291_457)


@pytest.mark.parametrize(
    ("code", "status", "retryable", "extra"),
    [
        pytest.param("ModelError", 424, False, {"OriginalStatusCode": 500}, id="model-error"),
        pytest.param("ModelError", 424, True, {"OriginalStatusCode": 0}, id="model-timeout"),
        pytest.param("ThrottlingException", 400, True, {}, id="throttling"),
        pytest.param("ValidationError", 400, False, {}, id="validation"),
        pytest.param("ServiceUnavailable", 503, True, {}, id="unavailable"),
    ],
)
def test_exact_service_error_shapes_are_classified(
    code: str, status: int, retryable: bool, extra: dict[str, Any]
) -> None:
    boto = runtime_client("http://127.0.0.1:9")
    with Stubber(boto) as stub:
        stub.add_client_error(
            "invoke_endpoint",
            service_error_code=code,
            service_message="boom",
            http_status_code=status,
            response_meta={},
            modeled_fields=extra,
        )
        with pytest.raises(InvocationError) as info:
            EndpointClient("ep", boto3_client=boto).invoke("1,2")
    assert (info.value.code, info.value.status, info.value.retryable) == (code, status, retryable)


def test_transport_through_moto_server_returns_queued_bodies(moto_url: str) -> None:
    body = json.dumps(
        {
            "version": "1.0",
            "predictions": {"content_type": "text/csv", "data": "0.7\n"},
            "explanations": {"kernel_shap": [[{"attributions": [{"attribution": [0.2]}]}]]},
        }
    )
    urllib3.request(
        "POST",
        f"{moto_url}/moto-api/static/sagemaker/endpoint-results",
        body=json.dumps({"region": "eu-west-1", "results": [{"Body": body, "ContentType": "application/json"}]}),
        headers={"Content-Type": "application/json"},
    )
    client = EndpointClient("any-endpoint", boto3_client=runtime_client(moto_url))
    result = client.invoke("1,2,3")
    assert result.records[0].scores == (0.7,) and result.explained_indexes == [0]


def test_moto_default_body_is_not_an_explainer_response(moto_url: str) -> None:
    # moto answers b"body" when nothing is queued (here: another region): the client says so instead of crashing
    from clarify_kit.core.errors import ResponseParseError

    client = EndpointClient("unknown-endpoint", boto3_client=runtime_client(moto_url, region_name="ap-south-1"))
    with pytest.raises(ResponseParseError, match="not JSON"):
        client.invoke("9,9,9")
