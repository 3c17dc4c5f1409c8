"""cdk-nag acknowledgements: every finding the kit accepts, each with the reason it is acceptable.

cdk-nag 3 acknowledges through CDK's ``Validations.of(scope).acknowledge``, which matches a finding by its exact
id; for a wildcard resource that id holds the resource as cdk-nag prints it (``AwsSolutions-IAM5[Resource::...]``).
cdk-nag 3.0 offers no other form: its migration notes say ``appliesTo`` became part of the id, and that prefix or
pattern matching is not supported yet. So the ids of the kit's three scoped wildcards (the endpoint's log group,
the capture prefix, a multi-model prefix) are written here with ``nag_text``, which prints a resolved value as
cdk-nag does. The nagged apps of tests/stacks fail on any finding left unacknowledged, so a cdk-nag release that
prints ids otherwise fails there, not silently. Replace ``nag_text`` when cdk-nag offers pattern acknowledgements.
"""

from __future__ import annotations

from typing import Any, Protocol

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3

from clarify_kit.core.config import DeploymentConfig

__all__ = ["acknowledge_findings", "nag_text"]


class _Endpoint(Protocol):
    """What the acknowledgements look at (a ClarifyEndpoint)."""

    config: DeploymentConfig
    name: str
    capture_bucket: s3.Bucket | None
    execution_policy: iam.ManagedPolicy | None


def _ack(scope: object, rule: str, reason: str) -> None:
    cdk.Validations.of(scope).acknowledge(cdk.Acknowledgment(id=rule, reason=reason))  # type: ignore[arg-type]


def _acknowledge_capture_buckets(endpoint: _Endpoint) -> None:
    bucket = endpoint.capture_bucket
    if bucket is None:
        return
    replication = (
        "Capture data is a sample of the endpoint's own traffic, kept in the endpoint's region; "
        "cross-region replication would copy it out of that region, a choice left to the account."
    )
    for pack in ("HIPAA.Security", "NIST.800.53.R5"):
        _ack(bucket, f"{pack}::{pack}-S3BucketReplicationEnabled", replication)
    logs = bucket.node.scope.node.try_find_child("CaptureAccessLogs")  # type: ignore[union-attr]
    if logs is not None:
        for pack in ("HIPAA.Security", "NIST.800.53.R5"):
            _ack(logs, f"{pack}::{pack}-S3BucketReplicationEnabled", replication)
            _ack(
                logs,
                f"{pack}::{pack}-S3DefaultEncryptionKMS",
                "S3 server access logs can only be delivered to a bucket encrypted with S3-managed keys (SSE-S3); "
                "the capture bucket itself uses the endpoint's KMS key.",
            )
        _ack(
            logs,
            "AwsSolutions::AwsSolutions-S1",
            "This is the access-log bucket of the capture bucket; logging it into itself would loop.",
        )


def _nag_text(stack: cdk.Stack, value: str) -> str:
    """A string as cdk-nag prints it in finding ids: tokens resolved, Ref X as <X>, GetAtt A.B as <A.B>.

    Hand-written ids break as soon as a token becomes a literal (a region given by -c region=...).
    """
    return _render(stack.resolve(value))


def _render(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Ref" in value:
        return f"<{value['Ref']}>"
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return f"<{'.'.join(value['Fn::GetAtt'])}>"
    if isinstance(value, dict) and "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return str(separator).join(_render(part) for part in parts)
    raise RuntimeError(f"cannot render {value!r} as cdk-nag does")


def _prefix_uris(endpoint: _Endpoint) -> list[str]:
    container = endpoint.config.container
    url = container.ModelDataUrl if container else None
    if url and url.startswith("s3://") and (url.endswith("/") or url.count("/") == 2):
        return [url[len("s3://") :]]
    return []


def _wildcard_reason(endpoint: _Endpoint) -> str:
    """The reason for Resource::*, naming only the statements this template holds."""
    config = endpoint.config
    container = config.container
    image = container.Image if container else None
    parts = []
    if isinstance(image, str) and ".dkr.ecr." in image:
        parts.append("ecr:GetAuthorizationToken cannot be scoped to a resource")
    parts.append(
        "cloudwatch:PutMetricData cannot be scoped to a resource (a condition limits it to the SageMaker namespaces)"
    )
    if config.Model.VpcConfig is not None:
        parts.append(
            "the EC2 network-interface actions SageMaker needs to place the model in its VPC cannot be "
            "scoped to interfaces that do not exist yet"
        )
    return "; ".join(parts) + "."


def acknowledge_findings(endpoint: _Endpoint) -> None:
    """Acknowledge, on the resource that raises it, each cdk-nag finding of an endpoint's resources that AWS offers
    no way to avoid (ClarifyEndpoint does this for itself, in any app)."""
    _acknowledge_capture_buckets(endpoint)
    policy = endpoint.execution_policy
    if policy is not None:
        stack = cdk.Stack.of(policy)
        _ack(policy, "AwsSolutions::AwsSolutions-IAM5[Resource::*]", _wildcard_reason(endpoint))
        log_group = stack.format_arn(
            service="logs",
            resource="log-group",
            resource_name=f"/aws/sagemaker/Endpoints/{endpoint.name}:*",
            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
        )
        logs = f"AwsSolutions::AwsSolutions-IAM5[Resource::{_nag_text(stack, log_group)}]"
        _ack(
            policy,
            logs,
            "SageMaker names the log streams of the endpoint's own log group; the grant is "
            "limited to that one log group.",
        )
        bucket = endpoint.capture_bucket
        if bucket is not None:
            objects = _nag_text(stack, bucket.arn_for_objects("capture/*"))
            _ack(
                policy,
                f"AwsSolutions::AwsSolutions-IAM5[Resource::{objects}]",
                "SageMaker writes one capture object per invocation batch under the capture/ prefix of the "
                "endpoint's own bucket; the grant is limited to that prefix.",
            )
        for uri in _prefix_uris(endpoint):
            arn = _nag_text(stack, f"arn:{cdk.Aws.PARTITION}:s3:::{uri}*")
            _ack(
                policy,
                f"AwsSolutions::AwsSolutions-IAM5[Resource::{arn}]",
                "A multi-model endpoint loads any model artifact under its ModelDataUrl prefix on demand.",
            )


nag_text = _nag_text
