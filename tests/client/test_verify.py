"""verify-deployment against moto in server mode (a real boto3 client over HTTP)."""

from __future__ import annotations

import json
import os
from typing import Any

import boto3
import pytest

from clarify_kit.adapters.files import load_config
from clarify_kit.client.verify import verify_deployment
from clarify_kit.core.resources import build_requests
from tests.helpers import example_path, run_cli

REGION = "us-east-1"


@pytest.fixture(scope="module")
def moto_sagemaker(moto_url: str) -> tuple[str, Any]:
    client = boto3.client(
        "sagemaker",
        endpoint_url=moto_url,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    return moto_url, client


def deploy(client: Any, name: str) -> dict[str, dict[str, Any]]:
    requests = build_requests(load_config(example_path(name)))
    client.create_model(**requests["CreateModel"])
    client.create_endpoint_config(**requests["CreateEndpointConfig"])
    endpoint = {k: v for k, v in requests["CreateEndpoint"].items() if k != "DeploymentConfig"}
    client.create_endpoint(**endpoint)
    return requests


def test_a_deployed_endpoint_verifies_except_for_the_explainer_moto_drops(moto_sagemaker: tuple[str, Any]) -> None:
    url, client = moto_sagemaker
    requests = deploy(client, "binary")
    name = requests["CreateEndpoint"]["EndpointName"]
    expected = requests["CreateEndpointConfig"]["EndpointConfigName"]
    report = verify_deployment(name, expected, config=load_config(example_path("binary")), boto3_client=client)
    by_name = {c["name"]: c for c in report.checks}
    assert by_name["status"]["ok"] and by_name["endpoint config"]["ok"] and by_name["variant AllTraffic"]["ok"]
    # moto 5.2.5 silently drops ExplainerConfig: the check fails, saying so, which is what a real
    # endpoint without the explainer would also get
    assert not by_name["explainer config"]["ok"]
    assert "returns no ExplainerConfig" in by_name["explainer config"]["detail"]


def test_a_silent_rollback_to_another_config_is_caught(moto_sagemaker: tuple[str, Any]) -> None:
    url, client = moto_sagemaker
    requests = deploy(client, "regression")
    name = requests["CreateEndpoint"]["EndpointName"]
    report = verify_deployment(name, "the-config-we-just-deployed", boto3_client=client)
    check = next(c for c in report.checks if c["name"] == "endpoint config")
    assert not check["ok"] and "rolled back" in check["detail"]


def test_the_cli_reports_json_and_exit_codes(moto_sagemaker: tuple[str, Any]) -> None:
    url, client = moto_sagemaker
    requests = deploy(client, "mme")
    name = requests["CreateEndpoint"]["EndpointName"]
    expected = requests["CreateEndpointConfig"]["EndpointConfigName"]
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    out = run_cli(
        "verify-deployment",
        name,
        "--expected-config",
        expected,
        "--endpoint-url",
        url,
        "--region",
        REGION,
        "--json",
        env=env,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert json.loads(out.stdout)["ok"] is True
    missing = run_cli(
        "verify-deployment",
        "no-such-endpoint",
        "--expected-config",
        expected,
        "--endpoint-url",
        url,
        "--region",
        REGION,
        env=env,
    )
    assert missing.returncode == 1 and "Traceback" not in missing.stderr
    assert "no-such-endpoint" in missing.stderr
