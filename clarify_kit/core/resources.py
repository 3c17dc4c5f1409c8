"""The SageMaker control-plane requests a config stands for (CreateModel, CreateEndpointConfig, CreateEndpoint)."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from clarify_kit.core.config import DeploymentConfig
from clarify_kit.core.errors import ConfigError, Issue, KitError
from clarify_kit.core.limits import NAME_MAX_CHARS

__all__ = [
    "DEFAULT_CONSTRUCT_PATH",
    "ResourceNames",
    "build_requests",
    "default_endpoint_name",
    "deployed_names",
    "resource_names",
]


@dataclass(frozen=True)
class ResourceNames:
    """Names of the three resources; model and endpoint-config names change with every config version."""

    model: str
    endpoint_config: str
    endpoint: str


def _slug(text: str) -> str:
    slug = re.sub(r"[^a-zA-Z0-9]+", "-", text).strip("-").lower()
    return slug or "clarify"


def config_digest(config: DeploymentConfig) -> str:
    """A short digest of the Model and EndpointConfig sections: equal configs give equal names."""
    payload = {
        "Model": config.Model.model_dump(exclude_unset=True),
        "EndpointConfig": config.EndpointConfig.model_dump(exclude_unset=True),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:10]


# The construct id the kit's stack gives its endpoint; an endpoint at this path is named after the stack alone.
DEFAULT_CONSTRUCT_PATH = "ClarifyEndpoint"


def default_endpoint_name(stack_name: str, construct_path: str = DEFAULT_CONSTRUCT_PATH) -> str:
    """The endpoint name when the config sets none: the stack's name for the kit's own stack, else the stack's
    name and the construct's path below it, so that two endpoints in one app never share a name. Stable, at most
    63 characters (a hash of the full name keeps long ones distinct), and valid for SageMaker."""
    full = stack_name if construct_path == DEFAULT_CONSTRUCT_PATH else f"{stack_name}-{construct_path}"
    name = _slug(full)
    if len(name) <= NAME_MAX_CHARS:
        return name
    digest = hashlib.sha256(full.encode()).hexdigest()[:8]
    return f"{name[: NAME_MAX_CHARS - len(digest) - 1].rstrip('-')}-{digest}"


def resource_names(config: DeploymentConfig, construct_path: str = DEFAULT_CONSTRUCT_PATH) -> ResourceNames:
    """Deterministic names: ``<base>-m-<digest>``, ``<base>-ec-<digest>`` and the endpoint name (the config's,
    verbatim, else derived from the stack name and the construct path)."""
    endpoint = config.Endpoint.EndpointName or default_endpoint_name(config.ClarifyKit.StackName, construct_path)
    digest = config_digest(config)
    base = _slug(endpoint)[: NAME_MAX_CHARS - len(digest) - 4].rstrip("-")
    return ResourceNames(f"{base}-m-{digest}", f"{base}-ec-{digest}", endpoint)


def build_requests(config: DeploymentConfig, names: ResourceNames | None = None) -> dict[str, dict[str, Any]]:
    """The boto3 keyword arguments of ``create_model``, ``create_endpoint_config`` and ``create_endpoint``.

    Only what the file sets is sent (``exclude_unset``): no defaults are injected into the requests.
    """
    container = config.container
    if container is not None and container.Image is not None and not isinstance(container.Image, str):
        raise ConfigError(
            Issue(
                "Model.PrimaryContainer.Image",
                "a framework reference: resolve it to a URI first (clarify_kit.adapters.images.resolve_images)",
            )
        )
    names = names or resource_names(config)
    model = {**config.Model.model_dump(exclude_unset=True), "ModelName": names.model}
    endpoint_config = config.EndpointConfig.model_dump(exclude_unset=True)
    endpoint_config["EndpointConfigName"] = names.endpoint_config
    for key in ("ProductionVariants", "ShadowProductionVariants"):
        for variant in endpoint_config.get(key) or []:
            variant["ModelName"] = names.model
    endpoint = config.Endpoint.model_dump(exclude_unset=True)
    endpoint.update({"EndpointName": names.endpoint, "EndpointConfigName": names.endpoint_config})
    return {"CreateModel": model, "CreateEndpointConfig": endpoint_config, "CreateEndpoint": endpoint}


def deployed_names(config: DeploymentConfig, outputs: Any = None, *, source: str = "the outputs") -> dict[str, str]:
    """The names of a stack's resources: the endpoint's from the config (fixed), the endpoint config's and the
    model's from the parsed ``cdk deploy --outputs-file`` (CloudFormation generates them, so they exist only once
    deployed; adapters.files.read_cdk_outputs reads the file).

    Raises
    ------
    KitError: ``outputs`` holds no output of the config's stack.
    """
    names = {"stack": config.ClarifyKit.StackName, "endpoint": resource_names(config).endpoint}
    if outputs is None:
        return names
    stack = outputs.get(config.ClarifyKit.StackName) if isinstance(outputs, dict) else None
    if not isinstance(stack, dict):
        raise KitError(f"{source} holds no outputs of stack {config.ClarifyKit.StackName!r}")
    for key, output in (
        ("endpoint", "EndpointName"),
        ("endpoint_config", "EndpointConfigName"),
        ("model", "ModelName"),
    ):
        if isinstance(stack.get(output), str):
            names[key] = stack[output]
    return names
