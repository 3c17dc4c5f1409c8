"""One CloudWatch dashboard per endpoint: traffic and errors, latency against its alarm, explanations against the
scaling target, the instance count, and, with the drift monitor, its measures and its own health.

Each horizontal line is the value the stack itself configured (the alarm threshold, the scaling target), so the
dashboard shows what the alarms and the scaling policy act on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from constructs import Construct

from clarify_kit.core.config import DeploymentConfig
from clarify_kit.stacks.surface import EndpointSurface

if TYPE_CHECKING:
    from clarify_kit.stacks.drift_monitor import DriftMonitor

__all__ = ["endpoint_dashboard"]

_MINUTE = cdk.Duration.minutes(1)
_HOUR = cdk.Duration.hours(1)


def endpoint_dashboard(
    scope: Construct,
    surface: EndpointSurface,
    config: DeploymentConfig,
    *,
    latency_alarm_us: float | None,
    explanations_target: float | None,
    drift: DriftMonitor | None = None,
) -> cloudwatch.Dashboard:
    """The endpoint's dashboard (``drift``: the DriftMonitor construct, when the config enables one)."""
    name = "".join(c if c.isalnum() or c in "-_" else "-" for c in surface.endpoint_name)[:255]
    dashboard = cloudwatch.Dashboard(scope, "Dashboard", dashboard_name=name)
    for variant in (v.VariantName for v in config.EndpointConfig.ProductionVariants):
        dashboard.add_widgets(*_variant_widgets(surface, variant, latency_alarm_us, explanations_target))
    if drift is not None:
        dashboard.add_widgets(*_drift_widgets(drift))
    return dashboard


def _line(value: float | None, label: str) -> list[cloudwatch.HorizontalAnnotation]:
    return [] if value is None else [cloudwatch.HorizontalAnnotation(value=value, label=label)]


def _variant_widgets(
    surface: EndpointSurface, variant: str, latency_alarm_us: float | None, explanations_target: float | None
) -> list[cloudwatch.IWidget]:
    invocations = surface.metric_invocations(variant=variant)
    per_instance = surface.metric_invocations_per_instance(variant=variant)
    instances = cloudwatch.MathExpression(
        expression="IF(ipi > 0, inv / ipi, 0)",
        using_metrics={"inv": invocations, "ipi": per_instance},
        label="instances (Invocations / InvocationsPerInstance)",
        period=_MINUTE,
    )
    return [
        cloudwatch.GraphWidget(
            title=f"{variant}: invocations and errors (per minute)",
            left=[
                invocations,
                surface.metric_invocation_5xx_errors(variant=variant),
                surface.metric("Invocation4XXErrors", variant=variant),
            ],
            width=6,
        ),  # fmt: skip
        cloudwatch.GraphWidget(
            title=f"{variant}: ModelLatency p50 and p99 (microseconds)",
            left=[
                surface.metric_model_latency(variant=variant, statistic="p50"),
                surface.metric_model_latency(variant=variant),
            ],
            left_annotations=_line(latency_alarm_us, "p99 alarm"),
            width=6,
        ),  # fmt: skip
        cloudwatch.GraphWidget(
            title=f"{variant}: ExplanationsPerInstance (per minute)",
            left=[surface.metric_explanations_per_instance(variant=variant)],
            left_annotations=_line(explanations_target, "scaling target"),
            width=6,
        ),
        cloudwatch.GraphWidget(title=f"{variant}: instances", left=[instances], width=6),
    ]


def _drift_widgets(drift: DriftMonitor) -> list[cloudwatch.IWidget]:
    widgets: list[cloudwatch.IWidget] = []
    for title, names in (
        ("Drift: NDCG per label (alarm below its threshold or when missing)", ("NDCG",)),
        ("Drift: attribution mass and mean prediction change", ("AttributionMassChange", "MeanPredictionChange")),
    ):
        widgets.append(cloudwatch.GraphWidget(title=title, left=list(drift.label_metrics(names)), width=8))
    widgets.append(
        cloudwatch.GraphWidget(
            title="Drift monitor health",
            left=list(drift.health_metrics()),
            width=8,  # noqa: B009
        )
    )
    return widgets
