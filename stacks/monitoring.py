"""Alarms and where they go: Invocation5XXErrors and ModelLatency p99 per variant, into an encrypted SNS topic.

The metrics themselves are the endpoint surface's (``metric_*``), as in cdk-monitoring-constructs: alarms are
made from them here.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

from clarify_kit.core.config import DeploymentConfig
from clarify_kit.core.limits import ALARM_LATENCY_CEILING_MS, ALARM_LATENCY_FACTOR, ALARM_LATENCY_FLOOR_MS
from clarify_kit.stacks.surface import EndpointSurface

__all__ = ["alarm_latency_ms", "alarm_topic", "endpoint_alarms"]


def alarm_latency_ms(latency_estimate_s: float | None) -> float:
    """The ModelLatency p99 alarm threshold: 1.5 times the explainer latency estimate, within 1 s and 48 s."""
    if latency_estimate_s is None:
        return ALARM_LATENCY_CEILING_MS
    return min(ALARM_LATENCY_CEILING_MS, max(ALARM_LATENCY_FLOOR_MS, latency_estimate_s * 1000 * ALARM_LATENCY_FACTOR))


def alarm_topic(
    scope: Construct, config: DeploymentConfig, key: kms.IKey | None, endpoint_name: str
) -> sns.Topic | None:
    """The topic every alarm notifies (encrypted with the endpoint key, TLS only), with ClarifyKit.Alarms'
    e-mail subscriptions; None when alarms are off."""
    if not config.ClarifyKit.Alarms.Enabled:
        return None
    topic = sns.Topic(
        scope, "AlarmTopic", master_key=key, enforce_ssl=True, display_name=f"clarify-kit alarms for {endpoint_name}"
    )
    if isinstance(key, kms.Key):
        stack = cdk.Stack.of(scope)
        # CloudWatch publishes to the encrypted topic; only for this account's alarms (confused deputy).
        key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchAlarmsPublishToTheTopic",
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                resources=["*"],
                conditions={
                    "StringEquals": {"aws:SourceAccount": stack.account},
                    "ArnLike": {
                        "aws:SourceArn": stack.format_arn(
                            service="cloudwatch",
                            resource="alarm",
                            resource_name="*",
                            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
                        )
                    },
                },
            )
        )
    for i, address in enumerate(config.ClarifyKit.Alarms.NotifyEmails):
        sns.Subscription(
            scope, f"AlarmEmail{i}", topic=topic, protocol=sns.SubscriptionProtocol.EMAIL, endpoint=address
        )
    return topic


def endpoint_alarms(
    scope: Construct,
    surface: EndpointSurface,
    config: DeploymentConfig,
    latency_estimate_s: float | None,
    topic: sns.ITopic | None,
) -> list[cloudwatch.Alarm]:
    """Per variant: 5XX errors, and ModelLatency p99 above ClarifyKit.Alarms.ModelLatencyP99Ms or else the budget
    derived from the latency estimate; each notifies ``topic`` on alarm and on recovery."""
    settings = config.ClarifyKit.Alarms
    if not settings.Enabled:
        return []
    measured = config.ClarifyKit.Latency.P99Ms  # recorded from clarify-kit capacity: the real p99, not the estimate
    budget_ms = settings.ModelLatencyP99Ms or alarm_latency_ms(measured / 1000 if measured else latency_estimate_s)
    alarms = []
    for variant in config.EndpointConfig.ProductionVariants:
        name = variant.VariantName
        alarms.append(
            surface.metric_invocation_5xx_errors(variant=name).create_alarm(
                scope,
                f"Errors5xx{name}",
                threshold=settings.Invocation5XXErrorsThreshold,
                evaluation_periods=settings.EvaluationPeriods,
                datapoints_to_alarm=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
                alarm_description=f"{name}: the container or the explainer answers 5XX errors",
            )
        )
        alarms.append(
            surface.metric_model_latency(variant=name).create_alarm(
                scope,
                f"LatencyP99{name}",
                threshold=budget_ms * 1000,  # ModelLatency is reported in microseconds
                evaluation_periods=settings.EvaluationPeriods,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
                alarm_description=f"{name}: ModelLatency p99 above {budget_ms:.0f} ms, the explainer's budget",
            )
        )
    if topic is not None:
        action = cloudwatch_actions.SnsAction(topic)
        for alarm in alarms:
            alarm.add_alarm_action(action)
            alarm.add_ok_action(action)
    return alarms
