"""Least privilege, checked on every synthesized example template; local servers bind to loopback by default."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.helpers import EXAMPLE_NAMES

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
            assert not any("arn:aws:iam::aws:policy" in json.dumps(a) for a in props.get("ManagedPolicyArns", [])), \
                f"{name} uses an AWS managed policy"
    return found


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_no_wildcard_actions_and_no_unscoped_resources_beyond_the_allowlist(synthesized: dict[str, Any],
                                                                            name: str) -> None:
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
