"""The model's place in a VPC the app gives: subnets in at least two Availability Zones, and security groups."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import aws_cdk as cdk
from constructs import Construct

from clarify_kit.core.errors import Issue
from clarify_kit.core.limits import MIN_MULTI_AZ_INSTANCES, VPC_MAX_SECURITY_GROUPS, VPC_MAX_SUBNETS

if TYPE_CHECKING:  # imported where used: aws_ec2 alone takes half a second to import
    from aws_cdk import aws_ec2 as ec2

__all__ = ["vpc_config"]


def vpc_config(
    scope: Construct, vpc: ec2.IVpc, selection: ec2.SubnetSelection | None, groups: list[ec2.ISecurityGroup] | None
) -> tuple[dict[str, Any] | None, list[Issue]]:
    """The Model's VpcConfig for the selected subnets (default: private with egress) and security groups (default:
    one new outbound-only group), or the problems with them, all at once."""
    from aws_cdk import aws_ec2 as ec2

    selection = selection or ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS)
    chosen = vpc.select_subnets(
        availability_zones=selection.availability_zones,
        one_per_az=selection.one_per_az,
        subnet_filters=selection.subnet_filters,
        subnet_group_name=selection.subnet_group_name,
        subnets=selection.subnets,
        subnet_type=selection.subnet_type,
    )
    issues = []
    zones = {z for z in chosen.availability_zones if not cdk.Token.is_unresolved(z)}
    resolved = all(not cdk.Token.is_unresolved(z) for z in chosen.availability_zones)
    if not chosen.subnet_ids:
        issues.append(Issue("Model.VpcConfig.Subnets", "the subnet selection picks no subnet of the VPC"))
    elif resolved and len(zones) < MIN_MULTI_AZ_INSTANCES:
        issues.append(
            Issue(
                "Model.VpcConfig.Subnets",
                f"the subnets are in {len(zones)} Availability Zone "
                f"({', '.join(sorted(zones))}); SageMaker spreads instances over the subnets' zones: "
                "select subnets in at least 2",
            )
        )
    if len(chosen.subnet_ids) > VPC_MAX_SUBNETS:
        issues.append(
            Issue(
                "Model.VpcConfig.Subnets",
                f"{len(chosen.subnet_ids)} subnets; SageMaker takes at most {VPC_MAX_SUBNETS}",
            )
        )
    if groups is not None and not 1 <= len(groups) <= VPC_MAX_SECURITY_GROUPS:
        issues.append(
            Issue(
                "Model.VpcConfig.SecurityGroupIds",
                f"{len(groups)} security groups; SageMaker takes 1 to {VPC_MAX_SECURITY_GROUPS}",
            )
        )
    if issues:
        return None, issues
    if groups is None:
        groups = [
            ec2.SecurityGroup(
                scope,
                "ModelSecurityGroup",
                vpc=vpc,
                allow_all_outbound=True,
                description="clarify-kit: network interfaces of the model container "
                "(outbound only: S3, ECR and CloudWatch through the VPC)",
            )
        ]
    return {"SecurityGroupIds": [g.security_group_id for g in groups], "Subnets": chosen.subnet_ids}, []
