"""S3 baselines: read from a real S3 API (moto's server) with boto3, checked as the service would, or given as a
local file offline; every failure names ShapBaselineUri and what to do."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from clarify_kit.adapters.baseline import read_baseline
from clarify_kit.core.config import config_from_dict
from clarify_kit.core.errors import ConfigError
from clarify_kit.precheck import static_precheck
from tests.helpers import example_dict, run_cli, runtime_client

URI_PATH = "EndpointConfig.ExplainerConfig.ClarifyExplainerConfig.ShapConfig.ShapBaselineConfig.ShapBaselineUri"
ROW = "14.13,19.29,91.97,654.9,0.09636,0.1043,0.08880,0.04892,0.1812,0.06280"
GOOD = "17.99,10.38,122.8,1001,0.1184,0.2776,0.3001,0.1471,0.2419,0.07871"


@pytest.fixture
def s3(moto_url: str) -> Any:
    client = boto3.client(
        "s3",
        endpoint_url=moto_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    client.create_bucket(Bucket="baselines")
    return client


def s3_config(records: int | None = 2) -> Any:
    data = example_dict("binary")
    base = data["EndpointConfig"]["ExplainerConfig"]["ClarifyExplainerConfig"]["ShapConfig"]["ShapBaselineConfig"]
    base.pop("ShapBaseline")
    base["ShapBaselineUri"] = "s3://baselines/binary.csv"
    if records is not None:
        data["ClarifyKit"]["Baseline"] = {"Records": records}
    return config_from_dict(data)


def test_an_s3_baseline_is_read_and_checked_like_an_inline_one(s3: Any) -> None:
    # GIVEN a 2-record baseline uploaded to S3 with boto3
    s3.put_object(Bucket="baselines", Key="binary.csv", Body=f"{ROW}\n{GOOD}\n".encode())
    # WHEN it is read THEN the text comes back, and the precheck sizes the synthetic dataset with its 2 records
    text = read_baseline("s3://baselines/binary.csv", s3_client=s3)
    report = static_precheck(s3_config(), baseline_text=text)
    assert report.ok, report.render()
    assert report.synthetic.baseline_records == 2 and report.synthetic.size == 2 * 1022


@pytest.mark.parametrize(
    ("body", "path", "fragment"),
    [
        pytest.param(
            f"{ROW},1\n",
            "ShapBaselineConfig.ShapBaselineUri",
            "11 fields but FeatureHeaders has 10: the feature counts must agree; remove the label/target column",
            id="label-column",
        ),
        pytest.param(
            f"{ROW}\n{ROW}\n{ROW}\n",
            "ClarifyKit.Baseline.Records",
            "2, but the S3 baseline holds 3 records",
            id="record-count",
        ),
    ],
)
def test_a_wrong_s3_baseline_is_an_error_at_its_field(s3: Any, body: str, path: str, fragment: str) -> None:
    s3.put_object(Bucket="baselines", Key="binary.csv", Body=body.encode())
    report = static_precheck(s3_config(), baseline_text=read_baseline("s3://baselines/binary.csv", s3_client=s3))
    assert any(e.path.endswith(path) and fragment in e.message for e in report.errors), report.render()


@pytest.mark.parametrize(
    ("key", "body", "fragment"),
    [
        pytest.param("missing.csv", None, "s3://baselines/missing.csv: the object does not exist", id="missing"),
        pytest.param("empty.csv", b"", "the baseline is empty; it needs at least one record", id="empty"),
        pytest.param("binary.bin", b"\xff\xfe\x00", "not UTF-8 text", id="not-text"),
    ],
)
def test_an_unusable_object_is_an_error_naming_shap_baseline_uri(
    s3: Any, key: str, body: bytes | None, fragment: str
) -> None:
    if body is not None:
        s3.put_object(Bucket="baselines", Key=key, Body=body)
    with pytest.raises(ConfigError) as info:
        read_baseline(f"s3://baselines/{key}", s3_client=s3)
    [issue] = info.value.issues
    assert issue.path == URI_PATH and fragment in issue.message


def test_access_denied_says_which_roles_need_get_object() -> None:
    s3 = boto3.client("s3", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(s3) as stub:  # the exact error shape S3 answers; moto does not enforce policies
        stub.add_client_error(
            "get_object", service_error_code="AccessDenied", service_message="Access Denied", http_status_code=403
        )
        with pytest.raises(ConfigError) as info:
            read_baseline("s3://baselines/binary.csv", s3_client=s3)
    assert "access is denied" in str(info.value) and "s3:GetObject" in str(info.value)


def test_a_local_copy_works_offline(tmp_path: Path) -> None:
    copy = tmp_path / "baseline.csv"
    copy.write_text(f"{ROW}\n{GOOD}\n")
    text = read_baseline("s3://nowhere/x.csv", baseline_file=copy)  # no S3 call at all
    assert static_precheck(s3_config(), baseline_text=text).ok


def test_the_local_endpoint_explains_with_an_s3_baseline(s3: Any, container_url: Callable[[str], str]) -> None:
    from clarify_kit.explainer.endpoint import running_endpoint

    s3.put_object(Bucket="baselines", Key="binary.csv", Body=f"{ROW}\n".encode())
    text = read_baseline("s3://baselines/binary.csv", s3_client=s3)
    inline = example_dict("binary")
    inline["EndpointConfig"]["ExplainerConfig"]["ClarifyExplainerConfig"]["ShapConfig"]["ShapBaselineConfig"][
        "ShapBaseline"
    ] = ROW
    envelopes = []
    for config, baseline in ((s3_config(records=1), text), (config_from_dict(inline), None)):
        with running_endpoint(config, container_url("binary"), baseline_text=baseline) as (url, endpoint):
            body = runtime_client(url).invoke_endpoint(
                EndpointName=endpoint.name, Body=GOOD, ContentType="text/csv", EnableExplanations="`true`"
            )
            envelopes.append(json.loads(body["Body"].read()))
    # THEN the record is explained against the S3 baseline exactly as against the same baseline inline (seeded)
    from_s3, from_inline = (e["explanations"]["kernel_shap"][0] for e in envelopes)
    assert from_s3 is not None and len(from_s3) == 10
    assert from_s3 == from_inline


def test_the_container_precheck_reads_the_s3_baseline_through_the_default_chain(
    s3: Any, moto_url: str, container_url: Callable[[str], str], tmp_path: Path
) -> None:
    # GIVEN the config file and the object in S3; S3 reached through AWS_ENDPOINT_URL_S3, as boto3 honours it
    s3.put_object(Bucket="baselines", Key="binary.csv", Body=f"{ROW}\n{GOOD}\n".encode())
    config = tmp_path / "s3.json"
    config.write_text(json.dumps(s3_config().model_dump(exclude_unset=True)))
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1",
        "AWS_ENDPOINT_URL_S3": moto_url,
    }
    # WHEN the container precheck runs THEN it passes, with the S3 baseline's two records in the estimate
    out = run_cli("precheck", str(config), "--container-url", container_url("binary"), "--json", env=env)
    assert out.returncode == 0, out.stdout + out.stderr
    assert json.loads(out.stdout)["synthetic_dataset"]["baseline_records"] == 2
