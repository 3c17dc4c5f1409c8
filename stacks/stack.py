"""The stack: composes one ClarifyEndpoint from a config and adds its outputs."""

from __future__ import annotations

import aws_cdk as cdk
from constructs import Construct

from clarify_kit.core.config import DeploymentConfig
from clarify_kit.stacks.clarify_endpoint import ClarifyEndpoint

__all__ = ["ClarifyEndpointStack"]


class ClarifyEndpointStack(cdk.Stack):
    """One explainable endpoint, with the outputs the kit's deploy and verify steps read."""

    def __init__(self, scope: Construct, construct_id: str, *, config: DeploymentConfig, **kwargs: object) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        self.endpoint = ClarifyEndpoint(self, "ClarifyEndpoint", config=config)
        cdk.CfnOutput(self, "EndpointName", value=self.endpoint.endpoint_name, description="InvokeEndpoint target")
        cdk.CfnOutput(
            self,
            "EndpointConfigName",
            value=self.endpoint.endpoint_config_name,
            description="expected by clarify-kit verify-deployment --expected-config",
        )
        cdk.CfnOutput(
            self,
            "ModelName",
            value=self.endpoint.model.attr_model_name,
            description="the model (clarify-kit batch-transform --model-name)",
        )
        cdk.CfnOutput(self, "Region", value=self.region)
