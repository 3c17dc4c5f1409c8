"""The local emulator: the Clarify explainer's per-request pipeline in front of a real model container, served
with the SageMaker Runtime API so that boto3 code runs unchanged against it."""

from emulator.endpoint import LocalEndpoint, build_app, running_endpoint, serve
from emulator.pipeline import LocalExplainer
from emulator.transport import ContainerReply, HttpTransport, Transport, batches_of

__all__ = [
    "ContainerReply",
    "HttpTransport",
    "LocalEndpoint",
    "LocalExplainer",
    "Transport",
    "batches_of",
    "build_app",
    "running_endpoint",
    "serve",
]
