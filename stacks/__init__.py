"""CDK stacks: a SageMaker endpoint with Clarify online explainability, from one validated config."""

from clarify_kit.stacks.clarify_endpoint import ClarifyEndpoint, ImportedEndpoint
from clarify_kit.stacks.stack import ClarifyEndpointStack

__all__ = ["ClarifyEndpoint", "ClarifyEndpointStack", "ImportedEndpoint"]
