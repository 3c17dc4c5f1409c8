"""IAM and KMS for the endpoint: the customer managed key, the least-privilege execution role and its statements,
and what SageMaker needs of a role or key the app gives instead."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from clarify_kit.core.config import DeploymentConfig
from clarify_kit.core.errors import ConfigError, Issue
from clarify_kit.core.s3_uri import parse_s3_uri

if TYPE_CHECKING:  # imported where used: aws_ecr_assets is only needed for a self-hosted explainer
    from aws_cdk import aws_ecr_assets as ecr_assets

__all__ = ["endpoint_key", "execution_role", "key_issues", "role_issues", "role_statements"]

SAGEMAKER = "sagemaker.amazonaws.com"
# Log group of a SageMaker endpoint (CloudWatch Logs for Amazon SageMaker AI docs).
ENDPOINT_LOGS = "/aws/sagemaker/Endpoints"
_ECR_IMAGE = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(\.cn)?/"
    r"(?P<repo>[a-z0-9._/-]+?)(?::[\w.-]+|@sha256:[a-f0-9]+)?$"
)


def role_issues(role: iam.IRole | None) -> list[Issue]:
    """A role defined in this app must trust SageMaker (an imported one cannot be inspected: its owner's part)."""
    if not isinstance(role, iam.Role):
        return []
    document = role.assume_role_policy
    trusted = cdk.Stack.of(role).resolve(document.to_json()) if document is not None else {}
    principals = [
        s.get("Principal", {}).get("Service")
        for s in trusted.get("Statement", [])
        if s.get("Effect") == "Allow" and "sts:AssumeRole" in str(s.get("Action"))
    ]
    services = {p for entry in principals for p in (entry if isinstance(entry, list) else [entry]) if p}
    if SAGEMAKER not in services:
        return [
            Issue(
                "Model.ExecutionRoleArn",
                f"the given role does not trust {SAGEMAKER} (it trusts "
                f"{', '.join(sorted(services)) or 'no service'}); SageMaker could not assume it",
            )
        ]
    return []


def key_issues(key: kms.IKey | None) -> list[Issue]:
    """A key defined in this app must be a symmetric encryption key (EBS volumes and S3 take no other)."""
    if not isinstance(key, kms.Key):
        return []
    cfn = key.node.default_child
    spec = getattr(cfn, "key_spec", None) or "SYMMETRIC_DEFAULT"
    usage = getattr(cfn, "key_usage", None) or "ENCRYPT_DECRYPT"
    if spec != "SYMMETRIC_DEFAULT" or usage != "ENCRYPT_DECRYPT":
        return [
            Issue(
                "EndpointConfig.KmsKeyId",
                f"the given key is {spec} for {usage}; SageMaker's volumes and "
                "data capture need a symmetric encryption key (SYMMETRIC_DEFAULT, ENCRYPT_DECRYPT)",
            )
        ]
    return []


def endpoint_key(scope: Construct, config: DeploymentConfig, given: kms.IKey | None) -> kms.IKey | None:
    """The given key; else the kit's customer managed key (rotation on), or the config's key when it names one by
    ARN or id; None (with a warning) for an alias, which IAM cannot scope a grant to."""
    if given is not None:
        return given
    named = config.EndpointConfig.KmsKeyId
    if not named:
        return kms.Key(
            scope,
            "Key",
            enable_key_rotation=True,
            description="clarify-kit: endpoint storage volumes, data capture and model artifacts",
        )
    if named.startswith("arn:") and ":key/" in named:
        return kms.Key.from_key_arn(scope, "Key", named)
    if re.fullmatch(r"[0-9a-f-]{36}|mrk-[0-9a-f]{32}", named):
        return kms.Key.from_key_arn(
            scope, "Key", cdk.Stack.of(scope).format_arn(service="kms", resource="key", resource_name=named)
        )
    cdk.Annotations.of(scope).add_warning_v2(
        "clarify-kit:kms-alias",
        f"KmsKeyId {named!r} is an alias: grant the execution role kms:Decrypt on "
        "the key it names yourself (IAM cannot scope a grant to an alias)",
    )
    return None


def execution_role(
    scope: Construct, config: DeploymentConfig, given: iam.IRole | None, statements: list[iam.PolicyStatement]
) -> tuple[iam.IRole, iam.ManagedPolicy | None]:
    """The execution role and the managed policy the kit made for it (None for a given or imported role).

    A given role gets ``statements`` added (a warning names those an immutable role cannot take); the config's
    ExecutionRoleArn is used as is; else a new role that SageMaker may assume only for this account's resources.
    """
    if given is not None:
        refused = [s.sid for s in statements if not given.add_to_principal_policy(s).statement_added]
        if refused:
            cdk.Annotations.of(scope).add_warning_v2(
                "clarify-kit:immutable-role",
                f"the execution role is immutable: make sure it grants what the "
                f"model needs ({', '.join(str(sid) for sid in refused)}; see the statements the kit gives its "
                "own role)",
            )
        return given, None
    if config.Model.ExecutionRoleArn:
        return iam.Role.from_role_arn(scope, "ExecutionRole", config.Model.ExecutionRoleArn, mutable=False), None
    stack = cdk.Stack.of(scope)
    # Confused-deputy protection: SageMaker may assume the role only for this account's resources in this region
    # (SageMaker developer guide, cross-service confused deputy prevention).
    principal = iam.ServicePrincipal(
        SAGEMAKER,
        conditions={
            "StringEquals": {"aws:SourceAccount": stack.account},
            "ArnLike": {"aws:SourceArn": stack.format_arn(service="sagemaker", resource="*")},
        },
    )
    role = iam.Role(
        scope,
        "ExecutionRole",
        assumed_by=principal,
        description="clarify-kit: the model container's execution role (least privilege)",
    )
    policy = iam.ManagedPolicy(
        scope,
        "ExecutionPolicy",
        statements=statements,
        description="clarify-kit: pull the image, read the model, write its logs",
    )
    role.add_managed_policy(policy)
    return role, policy


def s3_object_arns(uri: str) -> list[str]:
    """The object ARN of an S3 URI, or of everything under it when it is a prefix."""
    parsed = parse_s3_uri(uri)
    if parsed is None:
        return []
    bucket, key = parsed.bucket, parsed.key
    if not key or key.endswith("/"):
        return [f"arn:{cdk.Aws.PARTITION}:s3:::{bucket}/{key}*"]
    return [f"arn:{cdk.Aws.PARTITION}:s3:::{bucket}/{key}"]


def role_statements(
    scope: Construct,
    config: DeploymentConfig,
    *,
    endpoint_name: str,
    key: kms.IKey | None,
    capture_bucket: s3.IBucket | None,
    explainer_image: ecr_assets.DockerImageAsset | None,
    in_vpc: bool,
) -> list[iam.PolicyStatement]:
    """What the model container needs and no more: pull its image, read its model and baseline, write its data
    capture, logs and metrics, use the endpoint key and, in a VPC, its network interfaces."""
    stack = cdk.Stack.of(scope)
    container = config.container
    statements = _image_statements(config, explainer_image)
    objects: list[str] = []
    if container and container.ModelDataUrl:
        objects += s3_object_arns(container.ModelDataUrl)
    clarify = config.clarify
    if clarify and clarify.ShapConfig.ShapBaselineConfig.ShapBaselineUri:
        objects += s3_object_arns(clarify.ShapConfig.ShapBaselineConfig.ShapBaselineUri)
    if objects:
        statements.append(iam.PolicyStatement(sid="ReadModelAndBaseline", actions=["s3:GetObject"], resources=objects))
    capture = config.EndpointConfig.DataCaptureConfig
    if capture:
        statements.append(
            iam.PolicyStatement(
                sid="WriteDataCapture",
                actions=["s3:PutObject"],
                resources=s3_object_arns(capture.DestinationS3Uri.rstrip("/") + "/"),
            )
        )
    elif capture_bucket is not None:
        statements.append(
            iam.PolicyStatement(
                sid="WriteDataCapture",
                actions=["s3:PutObject"],
                resources=[capture_bucket.arn_for_objects("capture/*")],
            )
        )
    log_group = stack.format_arn(
        service="logs",
        resource="log-group",
        resource_name=f"{ENDPOINT_LOGS}/{endpoint_name}:*",
        arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
    )
    statements.append(
        iam.PolicyStatement(
            sid="WriteEndpointLogs",
            actions=["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
            resources=[log_group],
        )
    )
    statements.append(
        iam.PolicyStatement(
            sid="PublishEndpointMetrics",
            actions=["cloudwatch:PutMetricData"],
            resources=["*"],
            conditions={"StringLike": {"cloudwatch:namespace": ["/aws/sagemaker/*", "AWS/SageMaker"]}},
        )
    )
    if key is not None:
        statements.append(
            iam.PolicyStatement(
                sid="UseEndpointKey", resources=[key.key_arn], actions=["kms:Decrypt", "kms:GenerateDataKey"]
            )
        )
    if in_vpc:
        statements.append(
            iam.PolicyStatement(
                sid="EndpointNetworkInterfaces",
                actions=[
                    "ec2:CreateNetworkInterface",
                    "ec2:CreateNetworkInterfacePermission",
                    "ec2:DeleteNetworkInterface",
                    "ec2:DeleteNetworkInterfacePermission",
                    "ec2:DescribeNetworkInterfaces",
                    "ec2:DescribeVpcs",
                    "ec2:DescribeDhcpOptions",
                    "ec2:DescribeSubnets",
                    "ec2:DescribeSecurityGroups",
                ],
                resources=["*"],
            )
        )
    return statements


def _image_statements(
    config: DeploymentConfig, explainer_image: ecr_assets.DockerImageAsset | None
) -> list[iam.PolicyStatement]:
    """Pull the model's image: from the self-hosted explainer's asset repository, else from the config's ECR
    repository (nothing for a public registry)."""
    container = config.container
    image = container.Image if container else None
    if image is not None and not isinstance(image, str):
        raise ConfigError(
            Issue(
                "Model.PrimaryContainer.Image",
                "a framework reference: resolve it first "
                "(clarify_kit.adapters.images.resolve_images, for the stack's region; app.py "
                "does)",
            )
        )
    if explainer_image is not None:  # the asset's repository only: the base image is inside it
        repository = explainer_image.repository.repository_arn
    else:
        match = _ECR_IMAGE.match(image or "")
        if not match:
            return []
        repository = f"arn:{cdk.Aws.PARTITION}:ecr:{match['region']}:{match['account']}:repository/{match['repo']}"
    return [
        iam.PolicyStatement(
            sid="PullModelImage",
            actions=["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
            resources=[repository],
        ),
        iam.PolicyStatement(sid="EcrLogin", actions=["ecr:GetAuthorizationToken"], resources=["*"]),
    ]
