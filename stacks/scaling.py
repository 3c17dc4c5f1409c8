"""Autoscaling: target tracking per instance-backed variant, never below two instances (multi-AZ).

An explained record costs the instance its whole synthetic dataset, so variants with the Clarify explainer scale on
``ExplanationsPerInstance`` (records explained per minute per instance, AWS/SageMaker, Sum: what AWS's guide for
explainable endpoints recommends), beside ``InvocationsPerInstance`` for the traffic EnableExplanations leaves
unexplained. Both targets come from the same figures as the latency estimate (ClarifyKit.Latency, measured by
``clarify-kit capacity``): a container ten times slower per record gets a target ten times lower. Self-hosted
explainers emit no ExplanationsPerInstance, so they scale on invocations, with the target derived the same way."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from constructs import Construct

from clarify_kit.core.capacity import Targets, targets_for_config, workload_of
from clarify_kit.core.config import DeploymentConfig
from clarify_kit.core.findings import Assessment
from clarify_kit.core.limits import MIN_MULTI_AZ_INSTANCES

__all__ = ["autoscaling", "scaling_targets"]

# The service-linked role Application Auto Scaling uses for SageMaker variants (Application Auto Scaling guide,
# service-linked roles): a ScalableTarget without it creates an empty role of its own.
_AUTOSCALING_ROLE = (
    "aws-service-role/sagemaker.application-autoscaling.amazonaws.com/"
    "AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint"
)


def scaling_targets(config: DeploymentConfig, assessment: Assessment) -> tuple[float, float | None, str | None]:
    """The InvocationsPerInstance and ExplanationsPerInstance targets (per minute; the latter None for a
    self-hosted explainer), each the config's when set with a reason, else derived; and a note when a figure was
    assumed."""
    settings = config.ClarifyKit.Autoscaling
    derived: Targets | None
    derived, note = targets_for_config(config, workload_of(assessment.synthetic, assessment.records_per_request))
    if derived is None:  # no synthetic dataset to size (the static rules said why): the prediction cost alone
        invocations = settings.TargetInvocationsPerInstance or _FALLBACK_INVOCATIONS
        return invocations, settings.TargetExplanationsPerInstance, note
    invocations = settings.TargetInvocationsPerInstance or round(derived.invocations_per_instance, 3)
    explanations = settings.TargetExplanationsPerInstance or round(derived.explanations_per_instance, 3)
    if config.ClarifyKit.Explainer == "SelfHosted":  # every invocation may carry explanations: size for them
        return settings.TargetInvocationsPerInstance or min(invocations, explanations), None, note
    return invocations, explanations, note


# Only when the synthetic dataset cannot be sized (then the rules have already refused or warned).
_FALLBACK_INVOCATIONS = 50.0


def autoscaling(
    scope: Construct, config: DeploymentConfig, endpoint_name: str, assessment: Assessment
) -> list[appscaling.ScalableTarget]:
    """A scalable target with target-tracking policies for every instance-backed variant (serverless variants
    scale by themselves). ``endpoint_name`` should be the endpoint resource's name attribute, so that the targets
    wait for the endpoint without an explicit dependency."""
    settings = config.ClarifyKit.Autoscaling
    if not settings.Enabled:
        return []
    invocations, explanations, note = scaling_targets(config, assessment)
    if note:
        cdk.Annotations.of(scope).add_warning_v2("clarify-kit:scaling-assumed", note)
    stack = cdk.Stack.of(scope)
    role = iam.Role.from_role_arn(
        scope,
        "AutoscalingRole",
        stack.format_arn(service="iam", region="", resource="role", resource_name=_AUTOSCALING_ROLE),
        mutable=False,
    )
    floor = 1 if config.ClarifyKit.opt_out("multi-az") else MIN_MULTI_AZ_INSTANCES
    scale_in = cdk.Duration.seconds(settings.ScaleInCooldownSeconds)
    scale_out = cdk.Duration.seconds(settings.ScaleOutCooldownSeconds)
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
            target_value=invocations,
            predefined_metric=appscaling.PredefinedMetric.SAGEMAKER_VARIANT_INVOCATIONS_PER_INSTANCE,
            scale_in_cooldown=scale_in,
            scale_out_cooldown=scale_out,
        )
        if explanations is not None:
            target.scale_to_track_metric(
                "ExplanationsPerInstance",
                target_value=explanations,
                custom_metric=cloudwatch.Metric(
                    namespace="AWS/SageMaker",
                    metric_name="ExplanationsPerInstance",
                    dimensions_map={"EndpointName": endpoint_name, "VariantName": variant.VariantName},
                    statistic="Sum",
                    period=cdk.Duration.minutes(1),
                ),
                scale_in_cooldown=scale_in,
                scale_out_cooldown=scale_out,
            )
        targets.append(target)
    return targets
