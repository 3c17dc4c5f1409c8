"""clarify-kit: deploy, precheck, invoke and smoke-test SageMaker endpoints with Clarify online explainability.

The names users import, each loaded on first use (importing ``clarify_kit`` loads no CDK, boto3 or numpy)::

    from clarify_kit import load_config, precheck_file, EndpointClient, ClarifyEndpoint

Rooms: ``clarify_kit.core`` (config, rules, formats, Kernel SHAP), ``clarify_kit.adapters`` (AWS, files, images),
``clarify_kit.precheck``, ``clarify_kit.explainer`` (local endpoint, self-hosted explainer), ``clarify_kit.client``,
``clarify_kit.stacks`` (CDK) and ``clarify_kit.cli``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from clarify_kit.core.version import __version__

if TYPE_CHECKING:
    from clarify_kit.adapters.files import load_config
    from clarify_kit.client.invoke import EndpointClient
    from clarify_kit.client.result import InvokeResult, RecordExplanation, parse_result
    from clarify_kit.core.config import DeploymentConfig, config_from_dict
    from clarify_kit.core.errors import ConfigError, KitError
    from clarify_kit.core.findings import Assessment, Finding
    from clarify_kit.core.rules import assess
    from clarify_kit.precheck import precheck_file
    from clarify_kit.stacks.clarify_endpoint import ClarifyEndpoint

__all__ = [
    "Assessment",
    "ClarifyEndpoint",
    "ConfigError",
    "DeploymentConfig",
    "EndpointClient",
    "Finding",
    "InvokeResult",
    "KitError",
    "RecordExplanation",
    "__version__",
    "assess",
    "config_from_dict",
    "load_config",
    "parse_result",
    "precheck_file",
]

_HOMES = {
    "Assessment": "clarify_kit.core.findings",
    "ClarifyEndpoint": "clarify_kit.stacks.clarify_endpoint",
    "ConfigError": "clarify_kit.core.errors",
    "DeploymentConfig": "clarify_kit.core.config",
    "EndpointClient": "clarify_kit.client.invoke",
    "Finding": "clarify_kit.core.findings",
    "InvokeResult": "clarify_kit.client.result",
    "KitError": "clarify_kit.core.errors",
    "RecordExplanation": "clarify_kit.client.result",
    "assess": "clarify_kit.core.rules",
    "config_from_dict": "clarify_kit.core.config",
    "load_config": "clarify_kit.adapters.files",
    "parse_result": "clarify_kit.client.result",
    "precheck_file": "clarify_kit.precheck",
}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'clarify_kit' has no attribute {name!r}")
    value = getattr(importlib.import_module(_HOMES[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
