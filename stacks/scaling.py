"""Autoscaling: target tracking per instance-backed variant, never below two instances (multi-AZ)."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_iam as iam
from constructs import Construct

from clarify_kit.core.config import DeploymentConfig
from clarify_kit.core.limits import MIN_MULTI_AZ_INSTANCES

__all__ = ["autoscaling"]

# The service-linked role Application Auto Scaling uses for SageMaker variants (Application Auto Scaling guide,
# service-linked roles): a ScalableTarget without it creates an empty role of its own.
_AUTOSCALING_ROLE = (
    "aws-service-role/sagemaker.application-autoscaling.amazonaws.com/"
    "AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint"
)


def autoscaling(scope: Construct, config: DeploymentConfig, endpoint_name: str) -> list[appscaling.ScalableTarget]:
    """A scalable target with a target-tracking policy for every instance-backed variant (serverless variants
    scale by themselves). ``endpoint_name`` should be the endpoint resource's name attribute, so that the targets
    wait for the endpoint without an explicit dependency."""
    settings = config.ClarifyKit.Autoscaling
    if not settings.Enabled:
        return []
    stack = cdk.Stack.of(scope)
    role = iam.Role.from_role_arn(
        scope,
        "AutoscalingRole",
        stack.format_arn(service="iam", region="", resource="role", resource_name=_AUTOSCALING_ROLE),
        mutable=False,
    )
    floor = 1 if config.ClarifyKit.opt_out("multi-az") else MIN_MULTI_AZ_INSTANCES
    targets = []
    for variant in config.EndpointConfig.ProductionVariants:
        if variant.ServerlessConfig is not None:
            continue
        initial = variant.InitialInstanceCount or MIN_MULTI_AZ_INSTANCES
        target = appscaling.ScalableTarget(
            scope,
            f"Scaling{variant.VariantName}",
            service_namespace=appscaling.ServiceNamespace.SAGEMAKER,
            scalable_dimension="sagemaker:variant:DesiredInstanceCount",
            resource_id=f"endpoint/{endpoint_name}/variant/{variant.VariantName}",
            min_capacity=max(settings.MinCapacity, floor),
            max_capacity=max(settings.MaxCapacity, initial),
            role=role,
        )
        target.scale_to_track_metric(
            "InvocationsPerInstance",
            target_value=settings.TargetInvocationsPerInstance,
            predefined_metric=appscaling.PredefinedMetric.SAGEMAKER_VARIANT_INVOCATIONS_PER_INSTANCE,
            scale_in_cooldown=cdk.Duration.seconds(settings.ScaleInCooldownSeconds),
            scale_out_cooldown=cdk.Duration.seconds(settings.ScaleOutCooldownSeconds),
        )
        targets.append(target)
    return targets
