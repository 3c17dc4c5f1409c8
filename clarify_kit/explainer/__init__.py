"""The explainer: the Clarify explainer's per-request pipeline in front of a real model container, served two ways.

- ``endpoint``: the local SageMaker Runtime endpoint (``serve-local``), so boto3 code runs unchanged against it;
- ``container_server``: the self-hosted explainer that runs inside the endpoint's container (``serve-container``);
- ``image``: the build context of that container image.

Names are imported lazily, so that ``clarify_kit.explainer.image`` (needed at synth) loads no web server.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "ContainerReply",
    "HttpTransport",
    "LocalEndpoint",
    "Explainer",
    "Transport",
    "batches_of",
    "running_endpoint",
    "serve",
]

_HOMES = {
    "ContainerReply": "transport",
    "HttpTransport": "transport",
    "Transport": "transport",
    "batches_of": "transport",
    "LocalEndpoint": "endpoint",
    "running_endpoint": "endpoint",
    "serve": "endpoint",
    "Explainer": "pipeline",
}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_HOMES[name]}"), name)
