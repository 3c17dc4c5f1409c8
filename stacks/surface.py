"""The endpoint surface CDK users know from the L2 constructs: name, ARN, ``grant_invoke()`` and ``metric_*()``."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from constructs import Construct

from clarify_kit.core.errors import ConfigError, Issue

__all__ = ["EndpointSurface", "ImportedEndpoint"]


class EndpointSurface:
    """What CDK users expect of an endpoint, for a new one (ClarifyEndpoint) or an existing one (imported)."""

    endpoint_name: str
    _variant_names: list[str] | None  # None: not known (an imported endpoint)

    def _scope(self) -> Construct:
        assert isinstance(self, Construct)
        return self

    @property
    def endpoint_arn(self) -> str:
        # SageMaker lower-cases endpoint names in ARNs.
        return cdk.Stack.of(self._scope()).format_arn(
            service="sagemaker", resource="endpoint", resource_name=self.endpoint_name.lower()
        )

    def grant_invoke(self, grantee: iam.IGrantable) -> iam.Grant:
        """Allow ``grantee`` to call InvokeEndpoint (with or without explanations) on this endpoint only."""
        return iam.Grant.add_to_principal(
            grantee=grantee, actions=["sagemaker:InvokeEndpoint"], resource_arns=[self.endpoint_arn]
        )

    def metric(
        self,
        name: str,
        *,
        variant: str | None = None,
        statistic: str = "Sum",
        period: cdk.Duration | None = None,
        namespace: str = "AWS/SageMaker",
    ) -> cloudwatch.Metric:
        """A metric of one variant of this endpoint (dimensions EndpointName and VariantName).

        ``variant`` may be omitted only when the endpoint is known to have a single variant.
        """
        names = self._variant_names
        if variant is None and (names is None or len(names) > 1):
            which = f"one of {', '.join(names)}" if names else "the endpoint's variants are not known here"
            raise ConfigError(
                Issue(
                    "EndpointConfig.ProductionVariants",
                    f"name the variant whose {name} you want (variant=...; {which})",
                )
            )
        variant = variant or (names or [""])[0]
        if names is not None and variant not in names:
            raise ConfigError(
                Issue("EndpointConfig.ProductionVariants", f"no variant {variant!r}; variants: {', '.join(names)}")
            )
        return cloudwatch.Metric(
            namespace=namespace,
            metric_name=name,
            statistic=statistic,
            period=period or cdk.Duration.minutes(1),
            dimensions_map={"EndpointName": self.endpoint_name, "VariantName": variant},
        )

    def metric_invocations(self, **kwargs: Any) -> cloudwatch.Metric:
        """Invocations per minute (default statistic: Sum)."""
        return self.metric("Invocations", **kwargs)

    def metric_invocations_per_instance(self, **kwargs: Any) -> cloudwatch.Metric:
        """InvocationsPerInstance: invocations per minute per instance (default statistic: Sum)."""
        return self.metric("InvocationsPerInstance", **kwargs)

    def metric_explanations_per_instance(self, **kwargs: Any) -> cloudwatch.Metric:
        """ExplanationsPerInstance: records explained per minute per instance, emitted by the Clarify explainer
        (default statistic: Sum, as AWS's scaling guide for explainable endpoints uses it)."""
        return self.metric("ExplanationsPerInstance", **kwargs)

    def metric_invocation_5xx_errors(self, **kwargs: Any) -> cloudwatch.Metric:
        """Invocation5XXErrors (default statistic: Sum)."""
        return self.metric("Invocation5XXErrors", **kwargs)

    def metric_model_latency(self, **kwargs: Any) -> cloudwatch.Metric:
        """ModelLatency in microseconds (default statistic: p99)."""
        kwargs.setdefault("statistic", "p99")
        return self.metric("ModelLatency", **kwargs)


class ImportedEndpoint(EndpointSurface, Construct):
    """An endpoint deployed elsewhere, by name: grants and metrics, no resources (see from_endpoint_name)."""

    def __init__(
        self, scope: Construct, construct_id: str, *, endpoint_name: str, variant_names: list[str] | None = None
    ) -> None:
        super().__init__(scope, construct_id)
        self.endpoint_name = endpoint_name
        self._variant_names = variant_names
