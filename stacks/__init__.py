"""CDK stacks: a SageMaker endpoint with Clarify online explainability, from one validated config."""

from stacks.clarify_endpoint import ClarifyEndpoint, ImportedEndpoint
from stacks.stack import ClarifyEndpointStack

__all__ = ["ClarifyEndpoint", "ClarifyEndpointStack", "ImportedEndpoint"]
