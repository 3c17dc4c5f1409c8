"""Batch Transform with the self-hosted explainer: the job request as SageMaker's API takes it (validated by
botocore, created in moto), the container's behaviour on a file split by line (as Batch Transform sends it), and
parse reading the job's output; the deployed names from cdk's outputs file."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable
from pathlib import Path

import boto3
import pytest
import yaml

from clarify_kit.client.batch import start_batch_transform, transform_job_request
from clarify_kit.core.config import config_from_dict
from clarify_kit.core.errors import KitError
from tests.helpers import GOOD, OTHER, example_dict, example_path, run_cli, serve_container


def _self_hosted() -> dict[str, object]:
    data = example_dict("binary")
    data["ClarifyKit"]["Explainer"] = "SelfHosted"
    return data


def test_the_job_request_is_valid_and_created_as_sent(moto_url: str) -> None:
    sagemaker = boto3.client(
        "sagemaker", endpoint_url=moto_url, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    request = transform_job_request(
        config_from_dict(_self_hosted()),
        input_uri="s3://data-bucket/records/",
        output_uri="s3://data-bucket/explained/",
        model_name="ClarifyKitModel-abc",
        instance_count=3,
        kms_key_id="arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    )
    job = start_batch_transform(sagemaker, request)
    described = sagemaker.describe_transform_job(TransformJobName=job.name)
    assert described["ModelName"] == "ClarifyKitModel-abc"
    assert described["BatchStrategy"] == "SingleRecord" and described["TransformInput"]["SplitType"] == "Line"
    assert described["TransformOutput"]["AssembleWith"] == "Line"
    assert described["TransformOutput"]["KmsKeyId"].endswith("1234567890ab")
    assert described["TransformResources"] == {
        "InstanceType": "ml.m5.xlarge",
        "InstanceCount": 3,
        "VolumeKmsKeyId": request["TransformResources"]["VolumeKmsKeyId"],
    }
    assert described["Environment"] == {"CLARIFY_KIT_TIMEOUT_S": "3600"}


def test_batch_transform_refuses_the_clarify_explainer_and_non_s3_locations() -> None:
    with pytest.raises(KitError, match="only with the self-hosted explainer"):
        transform_job_request(
            config_from_dict(example_dict("binary")), input_uri="s3://b1/in/", output_uri="s3://b1/out/", model_name="m"
        )
    with pytest.raises(KitError, match="--input must be an s3://bucket/prefix URI"):
        transform_job_request(
            config_from_dict(_self_hosted()), input_uri="/data/in.csv", output_uri="s3://b1/o/", model_name="m"
        )


def test_the_cli_takes_the_model_name_from_cdks_outputs(moto_url: str, tmp_path: Path) -> None:
    config = tmp_path / "self-hosted.yaml"
    config.write_text(yaml.safe_dump(_self_hosted(), sort_keys=False))
    outputs = tmp_path / "outputs.json"
    outputs.write_text(
        json.dumps(
            {
                "ClarifyKitBinary": {
                    "EndpointName": "clarify-kit-binary",
                    "EndpointConfigName": "EndpointConfig-XYZ",
                    "ModelName": "Model-XYZ",
                }
            }
        )
    )
    env = {"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "PATH": "/usr/bin:/bin"}
    out = run_cli(
        "batch-transform",
        str(config),
        "--input",
        "s3://data-bucket/in/",
        "--output",
        "s3://data-bucket/o/",
        "--cdk-outputs",
        str(outputs),
        "--endpoint-url",
        moto_url,
        "--region",
        "us-east-1",
        "--json",
        env=env,
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["request"]["ModelName"] == "Model-XYZ"
    names = run_cli("names", str(config), "--cdk-outputs", str(outputs), "--field", "endpoint-config")
    assert names.stdout.strip() == "EndpointConfig-XYZ"
    missing = run_cli(
        "batch-transform",
        str(config),
        "--input",
        "s3://data-bucket/in/",
        "--output",
        "s3://data-bucket/o/",
        "--endpoint-url",
        moto_url,
        "--region",
        "us-east-1",
        env=env,
    )
    assert missing.returncode == 2 and "--model-name" in missing.stderr


def _transform_locally(url: str, records: list[str], content_type: str) -> str:
    """What Batch Transform does with SplitType Line, SingleRecord and AssembleWith Line: each line to
    /invocations alone (no CustomAttributes: the config's EnableExplanations applies), the answers joined by lines."""
    answers = []
    for record in records:
        request = urllib.request.Request(
            f"{url}/invocations",
            data=record.encode(),
            method="POST",
            headers={"Content-Type": content_type, "Accept": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            assert response.status == 200
            answers.append(response.read().decode())
    return "\n".join(answers) + "\n"


def test_the_container_explains_a_file_line_by_line_and_parse_reads_the_output(
    container_url: Callable[[str], str], tmp_path: Path
) -> None:
    # GIVEN serve-container with the self-hosted config, and a file of records
    config = tmp_path / "self-hosted.yaml"
    config.write_text(yaml.safe_dump(_self_hosted(), sort_keys=False))
    records = [GOOD, OTHER] * 3
    with serve_container(config, "--model-url", container_url("binary")) as (url, _):
        output = _transform_locally(url, records, "text/csv")
    out_file = tmp_path / "records.csv.out"
    out_file.write_text(output)
    # WHEN parse reads the job's output file
    parsed = run_cli("parse", str(out_file), "--config", str(example_path("binary")), "--json")
    assert parsed.returncode == 0, parsed.stderr
    rows = json.loads(parsed.stdout)
    # THEN every record is there, numbered across the file (one response per line), each with its attributions
    lines = output.splitlines()
    assert len(lines) == len(records)
    expected = [i for i, line in enumerate(lines) if json.loads(line)["explanations"]]
    assert expected and sorted({r["record"] for r in rows}) == expected and len(rows) == 10 * len(expected)
    table = run_cli("parse", str(out_file), "--config", str(example_path("binary")))
    assert f"record {len(records) - 1}: prediction" in table.stdout
