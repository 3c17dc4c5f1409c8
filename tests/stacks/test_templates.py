"""Template assertions per example stack, cfn-lint on every template, cdk-nag findings, snapshots."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers import EXAMPLE_NAMES, ROOT, example_path

SNAPSHOTS = Path(__file__).parent / "snapshots"


def resources(template: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [r for r in template["Resources"].values() if r["Type"] == kind]


def one(template: dict[str, Any], kind: str) -> dict[str, Any]:
    found = resources(template, kind)
    assert len(found) == 1, f"{len(found)} {kind}"
    return found[0]["Properties"]


def assertions(synthesized: dict[str, Any], name: str) -> Any:
    """The CDK assertions Template of an example's stack (from its synthesized template: no second synthesis)."""
    from aws_cdk.assertions import Template

    return Template.from_json(synthesized["templates"][name])


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_explainer_config_is_rendered_exactly_as_written(synthesized: dict[str, Any], name: str) -> None:
    from aws_cdk.assertions import Match

    written = yaml.safe_load(example_path(name).read_text())["EndpointConfig"]["ExplainerConfig"]
    template = assertions(synthesized, name)
    template.resource_count_is("AWS::SageMaker::EndpointConfig", 1)
    template.has_resource_properties(
        "AWS::SageMaker::EndpointConfig",
        # every change replaces the config safely: no fixed name
        {"ExplainerConfig": Match.exact(written), "EndpointConfigName": Match.absent()},
    )


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_every_variant_is_multi_az_and_autoscaling_never_goes_below_two(synthesized: dict[str, Any], name: str) -> None:
    from aws_cdk.assertions import Match

    template = assertions(synthesized, name)
    variants = one(synthesized["templates"][name], "AWS::SageMaker::EndpointConfig")["ProductionVariants"]
    assert all(v["InitialInstanceCount"] >= 2 for v in variants)
    template.resource_count_is("AWS::ApplicationAutoScaling::ScalableTarget", len(variants))
    template.all_resources_properties(
        "AWS::ApplicationAutoScaling::ScalableTarget",
        {
            "RoleARN": {
                "Fn::Join": [
                    "",
                    Match.array_with(
                        [Match.string_like_regexp(".*/AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint$")]
                    ),
                ]
            }
        },
    )
    targets = template.find_resources("AWS::ApplicationAutoScaling::ScalableTarget")
    assert all(t["Properties"]["MinCapacity"] >= 2 for t in targets.values())
    template.resource_count_is("AWS::ApplicationAutoScaling::ScalingPolicy", 2 * len(variants))  # invocations,
    explanations = {  # and explanations per variant
        "TargetTrackingScalingPolicyConfiguration": {
            "CustomizedMetricSpecification": {
                "Namespace": "AWS/SageMaker",
                "MetricName": "ExplanationsPerInstance",
                "Statistic": "Sum",
                "Dimensions": Match.array_with(
                    [Match.object_like({"Name": "EndpointName"}), Match.object_like({"Name": "VariantName"})]
                ),
            }
        }
    }
    invocations = {
        "TargetTrackingScalingPolicyConfiguration": {
            "PredefinedMetricSpecification": {"PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"}
        }
    }
    for kind in (explanations, invocations):
        found = template.find_resources("AWS::ApplicationAutoScaling::ScalingPolicy", {"Properties": kind})
        assert len(found) == len(variants), kind
    policies = template.find_resources("AWS::ApplicationAutoScaling::ScalingPolicy").values()
    targets_values = [p["Properties"]["TargetTrackingScalingPolicyConfiguration"]["TargetValue"] for p in policies]
    assert all(v > 0 and v != 50 for v in targets_values)  # derived, not the old constant


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_storage_is_encrypted_with_a_rotating_customer_managed_key(synthesized: dict[str, Any], name: str) -> None:
    from aws_cdk.assertions import Match

    template = assertions(synthesized, name)
    template.resource_count_is("AWS::KMS::Key", 1)
    template.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})
    key = next(iter(template.find_resources("AWS::KMS::Key")))
    template.has_resource_properties(
        "AWS::SageMaker::EndpointConfig",
        {"KmsKeyId": {"Fn::GetAtt": [key, "Arn"]}, "ProductionVariants": Match.any_value()},
    )


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_blue_green_deployment_rolls_back_on_the_kits_alarms(synthesized: dict[str, Any], name: str) -> None:
    from aws_cdk.assertions import Match

    template = assertions(synthesized, name)
    alarms = template.find_resources("AWS::CloudWatch::Alarm")
    assert sorted(a["Properties"]["MetricName"] for a in alarms.values()) == ["Invocation5XXErrors", "ModelLatency"]
    template.has_resource_properties(
        "AWS::SageMaker::Endpoint",
        {
            "DeploymentConfig": {
                "BlueGreenUpdatePolicy": {
                    "TrafficRoutingConfiguration": {
                        "Type": Match.string_like_regexp("^(ALL_AT_ONCE|CANARY|LINEAR)$"),
                    }
                },
            }
        },
    )
    for alarm in alarms:  # the rollback watches each of the kit's alarms, by reference
        template.has_resource_properties(
            "AWS::SageMaker::Endpoint",
            {
                "DeploymentConfig": {
                    "AutoRollbackConfiguration": {"Alarms": Match.array_with([{"AlarmName": {"Ref": alarm}}])}
                }
            },
        )
    rollback = one(synthesized["templates"][name], "AWS::SageMaker::Endpoint")["DeploymentConfig"]
    assert len(rollback["AutoRollbackConfiguration"]["Alarms"]) == len(alarms)
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm", {"MetricName": "ModelLatency", "ExtendedStatistic": "p99"}
    )
    latency = template.find_resources("AWS::CloudWatch::Alarm", {"Properties": {"MetricName": "ModelLatency"}})
    assert all(0 < a["Properties"]["Threshold"] <= 48_000_000 for a in latency.values())
    template.all_resources_properties("AWS::CloudWatch::Alarm", {"AlarmActions": Match.any_value()})


def test_canary_deployment_from_the_config_keeps_its_settings(synthesized: dict[str, Any]) -> None:
    assertions(synthesized, "binary").has_resource_properties(
        "AWS::SageMaker::Endpoint",
        {
            "DeploymentConfig": {
                "BlueGreenUpdatePolicy": {
                    "TrafficRoutingConfiguration": {
                        "Type": "CANARY",
                        "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": 50},
                        "WaitIntervalInSeconds": 300,
                    }
                }
            }
        },
    )


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_execution_role_is_least_privilege(synthesized: dict[str, Any], name: str) -> None:
    from aws_cdk.assertions import Match

    template = assertions(synthesized, name)
    template.resource_count_is("AWS::IAM::Role", 1)
    template.resource_count_is("AWS::IAM::ManagedPolicy", 1)
    role = one(synthesized["templates"][name], "AWS::IAM::Role")
    assert "ManagedPolicyArns" not in role or all("Ref" in json.dumps(a) for a in role["ManagedPolicyArns"])
    template.has_resource_properties(
        "AWS::IAM::ManagedPolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like({"Sid": "ReadModelAndBaseline", "Action": "s3:GetObject"}),
                        Match.object_like(
                            {"Sid": "PublishEndpointMetrics", "Resource": "*", "Condition": Match.any_value()}
                        ),
                    ]
                )
            }
        },
    )
    statements = one(synthesized["templates"][name], "AWS::IAM::ManagedPolicy")["PolicyDocument"]["Statement"]
    by_sid = {s["Sid"]: s for s in statements}
    assert all("*" not in json.dumps(s["Action"]) for s in statements)
    assert "repository/clarify-kit-examples" in json.dumps(by_sid["PullModelImage"]["Resource"])
    assert "clarify-kit-example-artifacts" in json.dumps(by_sid["ReadModelAndBaseline"]["Resource"])
    unscoped = {s["Sid"] for s in statements if s["Resource"] == "*"}
    assert unscoped <= {"EcrLogin", "PublishEndpointMetrics"}


def test_cfn_lint_reports_nothing_on_any_template(synthesized: dict[str, Any]) -> None:
    paths = sorted(str(p) for p in synthesized["outdir"].glob("*.template.json"))
    assert len(paths) == len(EXAMPLE_NAMES) + 1  # and the self-hosted stack
    out = subprocess.run(
        [str(Path(sys.executable).parent / "cfn-lint"), *paths], capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_cdk_nag_has_no_unacknowledged_finding_and_every_acknowledgement_has_a_reason(
    synthesized: dict[str, Any],
) -> None:
    report = json.loads((synthesized["outdir"] / "validation-report.json").read_text())
    packs = {p["pluginName"] for p in report["pluginReports"]}  # packs with no finding at all are not listed
    assert "AwsSolutions" in packs and packs <= {"AwsSolutions", "HIPAA.Security", "NIST.800.53.R5"}
    for plugin in report["pluginReports"]:
        assert plugin["violations"] == [], plugin["violations"]
        for suppressed in plugin.get("suppressedViolations", []):
            assert len(suppressed["reason"].split()) >= 8


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_template_matches_its_committed_snapshot(synthesized: dict[str, Any], name: str) -> None:
    template = synthesized["templates"][name]
    path = SNAPSHOTS / f"{name}.json"
    text = json.dumps(template, indent=1, sort_keys=True) + "\n"
    if os.environ.get("CLARIFY_KIT_UPDATE_SNAPSHOTS"):  # make snapshots: an explicit update, never implicit
        path.write_text(text)
    assert path.exists(), f"no snapshot {path.name}: run `make snapshots` and commit it"
    assert json.loads(path.read_text()) == template, "after a deliberate change: run `make snapshots` and commit it"


def test_the_endpoint_name_and_metrics_point_at_the_endpoint(synthesized: dict[str, Any]) -> None:
    endpoint = synthesized["stacks"]["binary"].endpoint
    assert endpoint.endpoint_name == "clarify-kit-binary"
    assert endpoint.metric_model_latency().statistic == "p99"
    assert endpoint.metric_invocations().metric_name == "Invocations"


def test_stack_outputs_name_the_endpoint_and_its_config(synthesized: dict[str, Any]) -> None:
    outputs = synthesized["templates"]["binary"]["Outputs"]
    assert {"EndpointName", "EndpointConfigName", "Region"} <= set(outputs)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        pytest.param(
            {"instances": 1}, "EndpointConfig.ProductionVariants[0].InitialInstanceCount: 1 instance", id="one-instance"
        ),
        pytest.param({"expression": "true"}, "EnableExplanations: 'true' is a field lookup", id="bare-true"),
        pytest.param({"baseline": "1,2,3"}, "ShapBaseline: 3 fields but FeatureHeaders has 10", id="baseline-width"),
        pytest.param(
            {"tracing": {"EnableTracing": True, "InitialSamplingPercentage": 5}},
            "EndpointConfig.TracingConfig: CloudFormation's AWS::SageMaker::EndpointConfig has no TracingConfig",
            id="tracing-config-has-no-cloudformation-property",
        ),
    ],
)
def test_the_construct_refuses_what_precheck_refuses_with_the_same_messages(
    edit: dict[str, Any], message: str, tmp_path: Path
) -> None:
    import aws_cdk as cdk

    from clarify_kit.adapters.files import load_config
    from clarify_kit.core.errors import ConfigError
    from clarify_kit.precheck import load_checked
    from clarify_kit.stacks import ClarifyEndpoint

    data = yaml.safe_load(example_path("binary").read_text())
    clarify = data["EndpointConfig"]["ExplainerConfig"]["ClarifyExplainerConfig"]
    if "instances" in edit:
        data["EndpointConfig"]["ProductionVariants"][0]["InitialInstanceCount"] = edit["instances"]
    if "expression" in edit:
        clarify["EnableExplanations"] = edit["expression"]
    if "baseline" in edit:
        clarify["ShapConfig"]["ShapBaselineConfig"]["ShapBaseline"] = edit["baseline"]
    if "tracing" in edit:
        data["EndpointConfig"]["TracingConfig"] = edit["tracing"]
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError) as refused:
        load_checked(path)
    assert any(message in str(issue) for issue in refused.value.issues), refused.value.issues
    # WHEN the same config is given to the construct in a user's own app THEN it stops with precheck's lines
    stack = cdk.Stack(cdk.App(outdir=str(tmp_path / "cdk.out")), "UsersOwnApp")
    with pytest.raises(ConfigError) as info:
        ClarifyEndpoint(stack, "Explainer", config=load_config(path))
    assert [str(i) for i in info.value.issues] == [str(i) for i in refused.value.issues]


@pytest.mark.slow
def test_cdk_cli_refuses_a_bad_config_from_an_activated_virtual_environment(tmp_path: Path) -> None:
    # (`make demo`'s test runs `cdk synth` from a shell with no virtual environment: app.py enters .venv itself)
    env = {**os.environ, "CDK_DISABLE_VERSION_CHECK": "1", "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"}
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"):
        env.pop(key, None)
    data = yaml.safe_load(example_path("binary").read_text())
    data["EndpointConfig"]["ProductionVariants"][0]["InitialInstanceCount"] = 1
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(data))
    # cdk.json's `python3 app.py` where the user activated a virtual environment (this one), as in `cdk init` projects
    activated = {**env, "VIRTUAL_ENV": sys.prefix, "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin"}
    out = subprocess.run(
        ["npx", "cdk", "synth", "-q", "-o", str(tmp_path / "bad"), "-c", f"config={bad}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=activated,
        check=False,
    )
    assert out.returncode != 0
    assert "EndpointConfig.ProductionVariants[0].InitialInstanceCount: 1 instance is one Availability Zone" in (
        out.stderr
    )
    assert "Traceback" not in out.stderr


def test_the_hipaa_and_nist_packs_really_run(tmp_path: Path) -> None:
    # GIVEN the same plugins on an app with a deliberately non-compliant alarm (no action)
    import aws_cdk as cdk
    from aws_cdk import aws_cloudwatch as cloudwatch
    from cdk_nag import AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks

    app = cdk.App(outdir=str(tmp_path))
    stack = cdk.Stack(app, "Probe")
    metric = cloudwatch.Metric(namespace="AWS/SageMaker", metric_name="Invocations")
    cloudwatch.Alarm(stack, "Silent", metric=metric, threshold=1, evaluation_periods=1)
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app), HIPAASecurityChecks(app), NIST80053R5Checks(app))
    # WHEN it is synthesized THEN both packs report the alarm
    with pytest.raises(Exception, match="ValidationFailed"):
        app.synth()
    report = json.loads((tmp_path / "validation-report.json").read_text())
    flagged = {p["pluginName"] for p in report["pluginReports"] if p["violations"]}
    assert {"HIPAA.Security", "NIST.800.53.R5"} <= flagged


def test_data_capture_goes_to_an_encrypted_private_tls_only_bucket(synthesized: dict[str, Any]) -> None:
    template = synthesized["templates"]["multiclass"]
    capture = one(template, "AWS::SageMaker::EndpointConfig")["DataCaptureConfig"]
    assert capture["InitialSamplingPercentage"] == 20 and capture["KmsKeyId"]
    buckets = {name: r["Properties"] for name, r in template["Resources"].items() if r["Type"] == "AWS::S3::Bucket"}
    capture_bucket = next(p for n, p in buckets.items() if "CaptureBucket" in n)
    rule = capture_bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert all(p["PublicAccessBlockConfiguration"]["RestrictPublicBuckets"] for p in buckets.values())
    policies = [
        r["Properties"]["PolicyDocument"]["Statement"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::S3::BucketPolicy"
    ]
    assert len(policies) == 2 and all(any("aws:SecureTransport" in json.dumps(s) for s in p) for p in policies)
    statements = one(template, "AWS::IAM::ManagedPolicy")["PolicyDocument"]["Statement"]
    write = next(s for s in statements if s["Sid"] == "WriteDataCapture")
    assert write["Action"] == "s3:PutObject" and "/capture/*" in json.dumps(write["Resource"])
    assert "DataCaptureConfig" not in one(synthesized["templates"]["binary"], "AWS::SageMaker::EndpointConfig")


def test_grant_invoke_allows_only_invoke_endpoint_on_this_endpoint(synthesized: dict[str, Any]) -> None:
    import aws_cdk as cdk
    from aws_cdk import aws_iam as iam

    endpoint = synthesized["stacks"]["binary"].endpoint
    stack = cdk.Stack.of(endpoint)
    role = iam.Role(stack, "InvokeCallerForTest", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    grant = endpoint.grant_invoke(role)
    assert grant.success
    document = stack.resolve(role.node.find_child("DefaultPolicy").document.to_json())  # type: ignore[attr-defined]
    statement = document["Statement"][0]
    assert statement["Action"] == "sagemaker:InvokeEndpoint"
    assert "endpoint/clarify-kit-binary" in json.dumps(statement["Resource"])


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_sagemaker_may_assume_the_role_only_for_this_accounts_resources(synthesized: dict[str, Any], name: str) -> None:
    role = one(synthesized["templates"][name], "AWS::IAM::Role")
    [statement] = role["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "sagemaker.amazonaws.com"}
    assert statement["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    assert "aws:SourceArn" in statement["Condition"]["ArnLike"]


def test_the_keys_service_grant_is_limited_to_this_accounts_alarms(synthesized: dict[str, Any]) -> None:
    key = one(synthesized["templates"]["binary"], "AWS::KMS::Key")
    services = [s for s in key["KeyPolicy"]["Statement"] if "Service" in s["Principal"]]
    assert services and all(
        s["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}} for s in services
    )
    [grant] = services
    assert "alarm:*" in json.dumps(grant["Condition"]["ArnLike"]["aws:SourceArn"])


def test_network_isolation_is_rendered_or_its_checkov_finding_acknowledged(synthesized: dict[str, Any]) -> None:
    isolated = next(
        r for r in synthesized["templates"]["regression"]["Resources"].values() if r["Type"] == "AWS::SageMaker::Model"
    )
    open_model = next(
        r for r in synthesized["templates"]["binary"]["Resources"].values() if r["Type"] == "AWS::SageMaker::Model"
    )
    assert isolated["Properties"]["EnableNetworkIsolation"] is True
    assert "checkov" not in isolated.get("Metadata", {})
    [skip] = open_model["Metadata"]["checkov"]["skip"]
    assert skip["id"] == "CKV_AWS_370" and "EnableNetworkIsolation" in skip["comment"]


def test_the_wildcard_acknowledgement_names_only_what_the_template_holds(synthesized: dict[str, Any]) -> None:
    report = json.loads((synthesized["outdir"] / "validation-report.json").read_text())
    reasons = [
        s["reason"]
        for plugin in report["pluginReports"]
        for s in plugin.get("suppressedViolations", [])
        if "IAM5[Resource::*]" in json.dumps(s)
    ]
    assert reasons and all("EC2" not in r for r in reasons)  # no example has a VpcConfig
    actions = json.dumps(synthesized["templates"]["binary"])
    assert "ec2:CreateNetworkInterface" not in actions


def _nag_app(tmp_path: Path) -> Any:
    import aws_cdk as cdk
    from cdk_nag import AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks

    app = cdk.App(outdir=str(tmp_path))
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app), HIPAASecurityChecks(app), NIST80053R5Checks(app))
    return app


def test_synthesis_passes_in_other_regions_and_partitions(tmp_path: Path) -> None:
    import aws_cdk as cdk

    from clarify_kit.precheck import load_checked
    from clarify_kit.stacks import ClarifyEndpointStack

    # GIVEN the examples with data capture and a multi-model prefix, in three regions of three partitions
    app = _nag_app(tmp_path)
    regions = {"eu-west-1": "aws", "cn-north-1": "aws-cn", "us-gov-west-1": "aws-us-gov"}
    for i, region in enumerate(regions):
        for name in ("multiclass", "mme"):
            checked = load_checked(example_path(name), region=region)
            ClarifyEndpointStack(app, f"S{i}{name}", config=checked.config, env=cdk.Environment(region=region))
    # WHEN they are synthesized with the cdk-nag packs THEN nothing is left unacknowledged
    assembly = app.synth()
    report = json.loads((tmp_path / "validation-report.json").read_text())
    assert all(plugin["violations"] == [] for plugin in report["pluginReports"])
    template = assembly.get_stack_by_name("S1multiclass").template
    assert "cn-north-1" in json.dumps(template)


def test_two_endpoints_in_one_app_get_distinct_valid_names(tmp_path: Path) -> None:
    import re

    import aws_cdk as cdk

    from clarify_kit.adapters.files import load_config
    from clarify_kit.stacks import ClarifyEndpoint

    # GIVEN two constructs from one config that leaves EndpointName unset, and one that sets it
    app = cdk.App(outdir=str(tmp_path))
    stack = cdk.Stack(app, "Shared" * 10)
    config = load_config(example_path("multiclass"))
    assert config.Endpoint.EndpointName is None
    first = ClarifyEndpoint(stack, "First", config=config)
    second = ClarifyEndpoint(stack, "Second", config=config)
    named = ClarifyEndpoint(stack, "Named", config=load_config(example_path("binary")))
    # THEN the defaults differ, fit SageMaker's rules and are stable; the explicit one is kept verbatim
    names = [first.endpoint_name, second.endpoint_name]
    assert len(set(names)) == 2
    assert all(len(n) <= 63 and re.fullmatch(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}", n) for n in names)
    assert named.endpoint_name == "clarify-kit-binary"
    from clarify_kit.core.resources import default_endpoint_name

    assert first.endpoint_name == default_endpoint_name("Shared" * 10, "First")


def test_a_metric_of_a_multi_variant_endpoint_must_name_its_variant(tmp_path: Path) -> None:
    import aws_cdk as cdk

    from clarify_kit.core.config import config_from_dict
    from clarify_kit.core.errors import ConfigError
    from clarify_kit.stacks import ClarifyEndpoint
    from tests.helpers import example_dict

    data = example_dict("binary")
    variants = data["EndpointConfig"]["ProductionVariants"]
    variants.append({**variants[0], "VariantName": "Challenger"})
    endpoint = ClarifyEndpoint(
        cdk.Stack(cdk.App(outdir=str(tmp_path)), "TwoVariants"), "Endpoint", config=config_from_dict(data)
    )
    with pytest.raises(
        ConfigError, match="name the variant whose Invocations you want .variant=...; one of AllTraffic, Challenger"
    ):
        endpoint.metric_invocations()
    assert endpoint.metric_invocations(variant="Challenger").dimensions["VariantName"] == "Challenger"
    with pytest.raises(ConfigError, match="no variant 'Nope'"):
        endpoint.metric_model_latency(variant="Nope")
    alarms = [a for a in endpoint.alarms if "Challenger" in a.node.id]
    assert len(alarms) == 2  # 5XX and latency for each variant


def test_an_existing_endpoint_by_name_offers_grants_and_metrics(tmp_path: Path) -> None:
    import aws_cdk as cdk
    from aws_cdk import aws_iam as iam

    from clarify_kit.core.errors import ConfigError
    from clarify_kit.stacks import ClarifyEndpoint

    stack = cdk.Stack(
        cdk.App(outdir=str(tmp_path)), "Consumer", env=cdk.Environment(account="123456789012", region="eu-west-1")
    )
    existing = ClarifyEndpoint.from_endpoint_name(stack, "Existing", "My-Endpoint")
    role = iam.Role(stack, "Caller", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    existing.grant_invoke(role)
    arn = json.dumps(stack.resolve(existing.endpoint_arn))
    assert ":sagemaker:eu-west-1:123456789012:endpoint/my-endpoint" in arn  # lower-cased, as SageMaker does
    with pytest.raises(ConfigError, match="the endpoint's variants are not known here"):
        existing.metric_invocations()
    assert existing.metric_invocations(variant="AllTraffic").metric_name == "Invocations"
    template = json.dumps(cdk.assertions.Template.from_stack(stack).to_json())
    assert "sagemaker:InvokeEndpoint" in template and "endpoint/my-endpoint" in template


def test_an_existing_role_key_and_vpc_are_used_and_given_what_sagemaker_needs(tmp_path: Path) -> None:
    import aws_cdk as cdk
    from aws_cdk import aws_ec2 as ec2
    from aws_cdk import aws_iam as iam
    from aws_cdk import aws_kms as kms
    from aws_cdk.assertions import Match, Template

    from clarify_kit.adapters.files import load_config
    from clarify_kit.stacks import ClarifyEndpoint

    # GIVEN an app's own role (trusting SageMaker), key and two-zone VPC
    app = cdk.App(outdir=str(tmp_path))
    stack = cdk.Stack(app, "Reuse", env=cdk.Environment(account="123456789012", region="us-east-1"))
    role = iam.Role(stack, "AppRole", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    key = kms.Key(stack, "AppKey", enable_key_rotation=True)
    vpc = ec2.Vpc(stack, "AppVpc", max_azs=2)
    ClarifyEndpoint(stack, "Endpoint", config=load_config(example_path("binary")), role=role, key=key, vpc=vpc)
    template = Template.from_stack(stack)
    # THEN the construct creates no role or key of its own, and the model runs as the role in the VPC's private
    # subnets (one per zone) behind a new security group
    template.resource_count_is("AWS::IAM::Role", 1)
    template.resource_count_is("AWS::KMS::Key", 1)
    role_ref = stack.resolve(role.role_arn)
    template.has_resource_properties(
        "AWS::SageMaker::Model",
        {
            "ExecutionRoleArn": role_ref,
            "VpcConfig": {
                "Subnets": [stack.resolve(s.subnet_id) for s in vpc.private_subnets],
                "SecurityGroupIds": [Match.any_value()],
            },
        },
    )
    template.has_resource_properties("AWS::SageMaker::EndpointConfig", {"KmsKeyId": stack.resolve(key.key_arn)})
    # AND the role received the kit's least-privilege statements, the network-interface ones included
    policy = template.find_resources("AWS::IAM::Policy")
    sids = {s.get("Sid") for p in policy.values() for s in p["Properties"]["PolicyDocument"]["Statement"]}
    assert {"WriteEndpointLogs", "UseEndpointKey", "EndpointNetworkInterfaces"} <= sids
    # AND cfn-lint finds nothing in the template (but the test VPC's placeholder zones: W3010)
    template_file = tmp_path / "Reuse.template.json"
    template_file.write_text(json.dumps(template.to_json()))
    out = subprocess.run(
        [str(Path(sys.executable).parent / "cfn-lint"), str(template_file), "--ignore-checks", "W3010"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stdout


def test_an_existing_role_key_or_vpc_that_sagemaker_cannot_use_is_refused_with_every_reason(tmp_path: Path) -> None:
    import aws_cdk as cdk
    from aws_cdk import aws_ec2 as ec2
    from aws_cdk import aws_iam as iam
    from aws_cdk import aws_kms as kms

    from clarify_kit.core.config import config_from_dict
    from clarify_kit.core.errors import ConfigError
    from clarify_kit.stacks import ClarifyEndpoint
    from tests.helpers import example_dict

    stack = cdk.Stack(
        cdk.App(outdir=str(tmp_path)), "Bad", env=cdk.Environment(account="123456789012", region="us-east-1")
    )
    data = example_dict("binary")
    data["EndpointConfig"]["KmsKeyId"] = "alias/mine"
    with pytest.raises(ConfigError) as info:
        ClarifyEndpoint(
            stack,
            "Endpoint",
            config=config_from_dict(data),
            role=iam.Role(stack, "R", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com")),
            key=kms.Key(stack, "K", key_spec=kms.KeySpec.RSA_2048, key_usage=kms.KeyUsage.SIGN_VERIFY),
            vpc=ec2.Vpc(stack, "V", max_azs=1),
        )
    text = str(info.value)
    assert "EndpointConfig.KmsKeyId: set in the config and given as key=: keep one" in text
    assert "Model.ExecutionRoleArn: the given role does not trust sagemaker.amazonaws.com" in text
    assert "EndpointConfig.KmsKeyId: the given key is RSA_2048 for SIGN_VERIFY" in text
    assert "Model.VpcConfig.Subnets: the subnets are in 1 Availability Zone" in text
    assert len(info.value.issues) == 4


# --- least privilege, on every synthesized example template ---------------------------------------------------

# Actions AWS offers no resource scoping for, each with its reason.
UNSCOPED_ALLOWED = {
    "ecr:GetAuthorizationToken": "the registry login token is account-wide by design",
    "cloudwatch:PutMetricData": "metrics have no ARN; a cloudwatch:namespace condition restricts it",
    "ec2:CreateNetworkInterface": "network interfaces do not exist before they are created (VPC models only)",
    "ec2:DescribeNetworkInterfaces": "Describe* calls do not support resource-level permissions",
}


def policy_documents(template: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    found = []
    for name, resource in template["Resources"].items():
        props = resource.get("Properties", {})
        kind = resource["Type"]
        if kind in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            found.append((name, props["PolicyDocument"]))
        if kind == "AWS::IAM::Role":
            found.extend((name, p["PolicyDocument"]) for p in props.get("Policies", []))
            assert not any("arn:aws:iam::aws:policy" in json.dumps(a) for a in props.get("ManagedPolicyArns", [])), (
                f"{name} uses an AWS managed policy"
            )
    return found


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_no_wildcard_actions_and_no_unscoped_resources_beyond_the_allowlist(
    synthesized: dict[str, Any], name: str
) -> None:
    template = synthesized["templates"][name]
    documents = policy_documents(template)
    assert documents
    for resource, document in documents:
        for statement in document["Statement"]:
            actions = as_list(statement["Action"])
            assert not any("*" in a for a in actions), f"{resource}: wildcard action in {actions}"
            if "*" in as_list(statement["Resource"]):
                extra = [a for a in actions if a not in UNSCOPED_ALLOWED and not a.startswith("ec2:")]
                assert not extra, f"{resource}: {extra} on Resource '*' without a reason"


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_encryption_and_tls_everywhere(synthesized: dict[str, Any], name: str) -> None:
    template = synthesized["templates"][name]
    for resource in template["Resources"].values():
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::SageMaker::EndpointConfig":
            assert props.get("KmsKeyId"), "endpoint storage must be encrypted with a KMS key"
        if resource["Type"] == "AWS::SNS::Topic":
            assert props.get("KmsMasterKeyId")
        if resource["Type"] == "AWS::SNS::TopicPolicy":
            statements = props["PolicyDocument"]["Statement"]
            assert any(s["Effect"] == "Deny" and "aws:SecureTransport" in json.dumps(s) for s in statements)
        if resource["Type"] == "AWS::S3::Bucket":
            assert props.get("PublicAccessBlockConfiguration") and props.get("BucketEncryption")
        if resource["Type"] == "AWS::KMS::Key":
            assert props["EnableKeyRotation"] is True


def test_the_multi_model_notebooks_containers_form_is_rendered_as_written(tmp_path: Path) -> None:
    import aws_cdk as cdk

    from clarify_kit.core.config import config_from_dict
    from clarify_kit.stacks import ClarifyEndpoint
    from tests.helpers import example_dict

    data = example_dict("mme")
    data["Model"]["Containers"] = [data["Model"].pop("PrimaryContainer")]
    app = cdk.App(outdir=str(tmp_path))
    stack = cdk.Stack(app, "Containers")
    ClarifyEndpoint(stack, "Endpoint", config=config_from_dict(data))
    template = app.synth().get_stack_by_name("Containers").template
    model = one(template, "AWS::SageMaker::Model")
    assert "PrimaryContainer" not in model and model["Containers"][0]["Mode"] == "MultiModel"
    policy = json.dumps(one(template, "AWS::IAM::ManagedPolicy")["PolicyDocument"])
    assert "clarify-kit-example-artifacts/mme/*" in policy  # the multi-model prefix, read on demand


def _scaling_targets(tmp_path: Path, **latency: Any) -> dict[str, float]:
    """The synthesized targets (per minute per instance) of the binary example with these ClarifyKit.Latency figures."""
    import aws_cdk as cdk

    from clarify_kit.core.config import config_from_dict
    from clarify_kit.stacks import ClarifyEndpoint
    from tests.helpers import example_dict

    data = example_dict("binary")
    data["ClarifyKit"]["Latency"] = latency
    app = cdk.App(outdir=str(tmp_path))
    stack = cdk.Stack(app, "Scaling")
    ClarifyEndpoint(stack, "Endpoint", config=config_from_dict(data))
    template = app.synth().get_stack_by_name("Scaling").template
    out = {}
    for policy in resources(template, "AWS::ApplicationAutoScaling::ScalingPolicy"):
        tracking = policy["Properties"]["TargetTrackingScalingPolicyConfiguration"]
        kind = "explanations" if "CustomizedMetricSpecification" in tracking else "invocations"
        out[kind] = tracking["TargetValue"]
    return out


def test_a_container_ten_times_slower_per_record_gets_a_target_about_ten_times_lower(tmp_path: Path) -> None:
    fast = _scaling_targets(tmp_path / "fast", ContainerMsPerRecord=0.05)
    slow = _scaling_targets(tmp_path / "slow", ContainerMsPerRecord=0.5)
    ratio = fast["explanations"] / slow["explanations"]
    assert 5 <= ratio <= 20, (fast, slow)
    assert 5 <= fast["invocations"] / slow["invocations"] <= 20  # every record explained: invocations cost as much
    wider = _scaling_targets(tmp_path / "wide", ContainerMsPerRecord=0.05, ContainerConcurrency=4)
    assert wider["explanations"] == pytest.approx(4 * fast["explanations"], rel=0.01)


def test_a_hand_set_target_needs_a_reason(tmp_path: Path) -> None:
    from clarify_kit.core.config import config_from_dict
    from clarify_kit.core.rules import assess
    from tests.helpers import example_dict

    data = example_dict("binary")
    data["ClarifyKit"]["Autoscaling"] = {"TargetExplanationsPerInstance": 120.0}
    errors = [f"{f.path}: {f.message}" for f in assess(config_from_dict(data)).errors]
    assert any(e.startswith("ClarifyKit.Autoscaling.TargetExplanationsPerInstance: set by hand") for e in errors)
    data["ClarifyKit"]["Autoscaling"]["TargetsReason"] = "load test on ml.c5.2xlarge, 2026-11"
    assert assess(config_from_dict(data)).ok


def test_the_scheduled_drift_monitor_is_least_privilege_encrypted_nagged_and_linted(tmp_path: Path) -> None:
    import aws_cdk as cdk
    from cdk_nag import AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks

    from clarify_kit.core.config import config_from_dict
    from clarify_kit.stacks import ClarifyEndpointStack
    from tests.helpers import example_dict

    data = example_dict("binary")
    data["ClarifyKit"]["DataCapture"] = {"Enabled": True}
    data["ClarifyKit"]["Monitoring"] = {
        "Drift": {"Enabled": True, "BaselineUri": "s3://my-baselines/binary/baseline.partial.json"}
    }
    app = cdk.App(outdir=str(tmp_path / "out"))
    ClarifyEndpointStack(app, "Drift", config=config_from_dict(data))
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app), HIPAASecurityChecks(app), NIST80053R5Checks(app))
    template = app.synth().get_stack_by_name("Drift").template  # cdk-nag's three packs: nothing unacknowledged
    function = one(template, "AWS::Lambda::Function")
    assert function["Handler"] == "clarify_kit.runtime.drift_function.handler"
    assert function["ReservedConcurrentExecutions"] == 1
    assert "KmsKeyArn" in function and "CAPTURE_URI" in function["Environment"]["Variables"]
    log_group = one(template, "AWS::Logs::LogGroup")
    assert "KmsKeyId" in log_group and log_group["LogGroupName"] == "/clarify-kit/drift/clarify-kit-binary"
    rule = one(template, "AWS::Events::Rule")
    assert rule["ScheduleExpression"] == "rate(1 hour)"
    policies = [p["Properties"]["PolicyDocument"] for p in resources(template, "AWS::IAM::ManagedPolicy")]
    drift = next(p for p in policies if any(s.get("Sid") == "PublishDriftMetrics" for s in p["Statement"]))
    by_sid = {s["Sid"]: s for s in drift["Statement"]}
    assert by_sid["PublishDriftMetrics"]["Condition"] == {
        "StringEquals": {"cloudwatch:namespace": ["ClarifyKit/Drift", "aws/sagemaker/Endpoints/explainability-metrics"]}
    }
    assert by_sid["ListTheCapturePrefix"]["Condition"]["StringLike"]["s3:prefix"] == ["capture/clarify-kit-binary/*"]
    assert "capture/clarify-kit-binary/*" in json.dumps(by_sid["ReadTheCapture"]["Resource"])
    assert "my-baselines/binary/baseline.partial.json" in json.dumps(by_sid["ReadTheBaseline"]["Resource"])
    assert all("*" not in json.dumps(s["Action"]) for s in drift["Statement"])
    alarms = [a for a in resources(template, "AWS::CloudWatch::Alarm") if "drift" in json.dumps(a).lower()]
    # NDCG, mass, prediction; the function's errors, throttles and duration; failed and truncated runs
    assert len(alarms) == 8 and all(a["Properties"]["AlarmActions"] for a in alarms)
    ndcg = next(a["Properties"] for a in alarms if a["Properties"].get("MetricName") == "NDCG")
    assert ndcg["TreatMissingData"] == "breaching"  # a run that measured nothing is loud
    errors = next(a["Properties"] for a in alarms if a["Properties"].get("MetricName") == "Errors")
    assert errors["Namespace"] == "AWS/Lambda" and errors["Threshold"] == 1
    assert {a["Properties"].get("MetricName") for a in alarms} >= {"Throttles", "Duration", "MonitorFailed",
                                                                 "WindowTruncated"}  # fmt: skip
    (dashboard,) = [r["Properties"] for r in resources(template, "AWS::CloudWatch::Dashboard")]
    body = json.dumps(dashboard["DashboardBody"])
    for shown in ("ExplanationsPerInstance", "ModelLatency", "NDCG", "AttributionMassChange", "MonitorFailed",
                  "scaling target", "p99 alarm"):  # fmt: skip
        assert shown in body, shown
    # the function's code: exactly the kit's files it imports, staged from the folder that holds the package
    from clarify_kit.runtime import DRIFT_FUNCTION_FILES

    manifest = json.loads((Path(app.outdir) / "Drift.assets.json").read_text())
    source = manifest["files"][function["Code"]["S3Key"].removesuffix(".zip")]["source"]
    staged = Path(app.outdir) / source["path"]  # CDK may stage it under a name of its own: the manifest says which
    assert tuple(sorted(p.relative_to(staged).as_posix() for p in staged.rglob("*") if p.is_file())) == tuple(
        sorted(DRIFT_FUNCTION_FILES)
    )
    template_file = tmp_path / "drift.json"
    template_file.write_text(json.dumps(template))
    out = subprocess.run(
        [str(Path(sys.executable).parent / "cfn-lint"), str(template_file)], capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stdout


def test_each_warning_is_keyed_by_its_rule_and_field_so_that_one_can_be_acknowledged(tmp_path: Path) -> None:
    import aws_cdk as cdk
    from aws_cdk import assertions

    from clarify_kit.core.config import config_from_dict
    from clarify_kit.stacks import ClarifyEndpoint
    from tests.helpers import example_dict

    # GIVEN a config with a warning (network isolation with an S3 baseline)
    data = example_dict("binary")
    data["Model"]["EnableNetworkIsolation"] = True
    baseline = data["EndpointConfig"]["ExplainerConfig"]["ClarifyExplainerConfig"]["ShapConfig"]["ShapBaselineConfig"]
    baseline.pop("ShapBaseline")
    baseline["ShapBaselineUri"] = "s3://clarify-kit-example-artifacts/baseline.csv"
    stack = cdk.Stack(cdk.App(outdir=str(tmp_path)), "Warned")
    endpoint = ClarifyEndpoint(stack, "Explainer", config=config_from_dict(data))
    warnings = assertions.Annotations.from_stack(stack).find_warning("*", assertions.Match.string_like_regexp(".*"))
    keys = [w.entry.data for w in warnings if "[ack: clarify-kit:network:" in str(w.entry.data)]
    assert keys, [str(w.entry.data) for w in warnings]
    # WHEN that one warning is acknowledged by its key THEN it is gone, and the others stay
    stack2 = cdk.Stack(cdk.App(outdir=str(tmp_path / "b")), "Acknowledged")
    endpoint = ClarifyEndpoint(stack2, "Explainer", config=config_from_dict(data))
    cdk.Annotations.of(endpoint).acknowledge_warning("clarify-kit:network:Model.EnableNetworkIsolation", "tested")
    after = assertions.Annotations.from_stack(stack2).find_warning("*", assertions.Match.string_like_regexp(".*"))
    assert not any("clarify-kit:network:Model.EnableNetworkIsolation" in str(w.entry.data) for w in after)
