"""The stack: composes one ClarifyEndpoint from a config, adds outputs and the precheck's warnings."""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from constructs import Construct

from clarify_kit.core.config import DeploymentConfig
from clarify_kit.stacks.clarify_endpoint import ClarifyEndpoint

__all__ = ["ClarifyEndpointStack"]


class ClarifyEndpointStack(cdk.Stack):
    """One explainable endpoint. ``warnings`` are ``path: message`` lines shown as CDK annotations."""

    def __init__(self, scope: Construct, construct_id: str, *, config: DeploymentConfig,
                 warnings: Sequence[str] = (), latency_estimate_s: float | None = None, **kwargs: object) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        self.endpoint = ClarifyEndpoint(self, "ClarifyEndpoint", config=config,
                                        latency_estimate_s=latency_estimate_s)
        for i, warning in enumerate(warnings):
            cdk.Annotations.of(self.endpoint).add_warning_v2(f"clarify-kit:precheck-{i}", warning)
        for opt_out in config.ClarifyKit.OptOuts:
            cdk.Annotations.of(self.endpoint).add_info(f"opt-out {opt_out.Rule}: {opt_out.Reason}")
        cdk.CfnOutput(self, "EndpointName", value=self.endpoint.endpoint_name,
                      description="InvokeEndpoint target")
        cdk.CfnOutput(self, "EndpointConfigName", value=self.endpoint.endpoint_config_name,
                      description="expected by clarify-kit verify-deployment --expected-config")
        cdk.CfnOutput(self, "ModelName", value=self.endpoint.model.attr_model_name,
                      description="the model (clarify-kit batch-transform --model-name)")
        cdk.CfnOutput(self, "Region", value=self.region)
