"""A SageMaker-Runtime-compatible local endpoint with the Clarify explainer in front of a real model container.

A boto3 ``sagemaker-runtime`` client created with ``endpoint_url="http://127.0.0.1:PORT"`` (any region, dummy
credentials) calls ``invoke_endpoint`` on it unchanged: ``POST /endpoints/{EndpointName}/invocations`` with the
service's headers, errors as ``x-amzn-ErrorType`` + JSON body so that boto3 raises ``client.exceptions.<Name>``.
"""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from clarify_kit.config import DeploymentConfig
from clarify_kit.errors import ServiceError, SetupError
from clarify_kit.explainer import ExplainerSpec
from clarify_kit.limits import INVOKE_BODY_MAX_BYTES, INVOKE_TIMEOUT_S
from clarify_kit.resources import resource_names
from emulator.pipeline import LocalExplainer
from emulator.transport import HttpTransport, Transport

__all__ = ["LocalEndpoint", "build_app", "running_endpoint", "serve"]

# Header limits of InvokeEndpoint (sagemaker-runtime service model): name -> (min, max) characters.
_HEADER_LIMITS = {
    "content-type": ("ContentType", 0, 1024),
    "accept": ("Accept", 0, 1024),
    "x-amzn-sagemaker-custom-attributes": ("CustomAttributes", 0, 1024),
    "x-amzn-sagemaker-target-model": ("TargetModel", 1, 1024),
    "x-amzn-sagemaker-target-variant": ("TargetVariant", 0, 63),
    "x-amzn-sagemaker-target-container-hostname": ("TargetContainerHostname", 0, 63),
    "x-amzn-sagemaker-inference-id": ("InferenceId", 1, 64),
    "x-amzn-sagemaker-enable-explanations": ("EnableExplanations", 1, 64),
    "x-amzn-sagemaker-inference-component": ("InferenceComponentName", 0, 63),
}


class LocalEndpoint:
    """One endpoint: its name, variants and explainer (the container is reached through ``transport``)."""

    def __init__(self, config: DeploymentConfig, transport: Transport, *, endpoint_name: str | None = None,
                 timeout: float = INVOKE_TIMEOUT_S) -> None:
        self.config = config
        self.name = endpoint_name or resource_names(config).endpoint
        self.variants = [v.VariantName for v in config.EndpointConfig.ProductionVariants]
        container = config.Model.PrimaryContainer
        self.multi_model = bool(container and container.Mode == "MultiModel")
        self.explainer = LocalExplainer(ExplainerSpec.from_config(config), transport, timeout=timeout)
        self.invocations = 0

    def handle(self, name: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
        """Serve one InvokeEndpoint call; returns status, headers and body (errors in the service's shape)."""
        try:
            return self._handle(name, headers, body)
        except ServiceError as err:
            return _error(err)
        except Exception as err:  # noqa: BLE001 - the endpoint answers InternalFailure and keeps serving
            return _error(ServiceError("InternalFailure", f"local endpoint failure: {type(err).__name__}: {err}"))

    def _handle(self, name: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
        if name != self.name:
            raise ServiceError("ValidationError", f"Endpoint {name} of account 000000000000 not found.")
        for header, (member, low, high) in _HEADER_LIMITS.items():
            value = headers.get(header)
            if value is not None and not low <= len(value) <= high:
                raise ServiceError("ValidationError", f"1 validation error detected: Value at '{member}' failed to "
                                   f"satisfy constraint: Member must have length between {low} and {high}")
        if len(body) > INVOKE_BODY_MAX_BYTES:
            raise ServiceError("ValidationError", f"Body of {len(body)} bytes exceeds the {INVOKE_BODY_MAX_BYTES}-byte "
                               "limit of InvokeEndpoint; split the records over several calls")
        if not body:
            raise ServiceError("ValidationError", "Body is required: send at least one record")
        target_model = headers.get("x-amzn-sagemaker-target-model")
        if target_model and not self.multi_model:
            raise ServiceError("ValidationError", "TargetModel is only valid for a multi-model endpoint "
                               "(Model.PrimaryContainer.Mode: MultiModel)")
        if self.multi_model and not target_model:
            raise ServiceError("ValidationError", "TargetModel is required when invoking a multi-model endpoint")
        variant = headers.get("x-amzn-sagemaker-target-variant") or self.variants[0]
        if variant not in self.variants:
            raise ServiceError("ValidationError", f"TargetVariant {variant!r} is not a variant of the endpoint; "
                               f"variants: {', '.join(self.variants)}")
        self.invocations += 1
        envelope, _ = self.explainer.invoke(
            body,
            content_type=headers.get("content-type"),
            accept=headers.get("accept"),
            enable_explanations=headers.get("x-amzn-sagemaker-enable-explanations"),
            target_model=target_model,
        )
        out_headers = {"Content-Type": "application/json", "x-Amzn-Invoked-Production-Variant": variant}
        return 200, out_headers, json.dumps(envelope).encode("utf-8")


def _error(err: ServiceError) -> tuple[int, dict[str, str], bytes]:
    headers = {"Content-Type": "application/json", "x-amzn-ErrorType": err.name}
    return err.status, headers, json.dumps(err.body()).encode("utf-8")


def build_app(endpoint: LocalEndpoint) -> Starlette:
    """The ASGI app serving ``endpoint`` (and GET /ping)."""

    async def ping(request: Request) -> Response:
        return Response("", status_code=200)

    async def invocations(request: Request) -> Response:
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > INVOKE_BODY_MAX_BYTES:
            status, headers, body = _error(ServiceError(
                "ValidationError", f"Body of {declared} bytes exceeds the {INVOKE_BODY_MAX_BYTES}-byte limit of "
                "InvokeEndpoint; split the records over several calls"))
            return Response(body, status_code=status, headers=headers)
        raw = await request.body()
        status, headers, body = await run_in_threadpool(
            endpoint.handle, request.path_params["name"], dict(request.headers), raw
        )
        return Response(body, status_code=status, headers=headers)

    return Starlette(routes=[
        Route("/ping", ping, methods=["GET"]),
        Route("/endpoints/{name}/invocations", invocations, methods=["POST"]),
    ])


def _bind(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # accepted sockets inherit it on Linux
    try:
        sock.bind((host, port))
    except OSError as err:
        sock.close()
        raise SetupError(f"cannot listen on {host}:{port}: {err.strerror or err}; choose another --port "
                         "(or stop what holds it)") from err
    return sock


def _server(endpoint: LocalEndpoint, sock: socket.socket) -> Any:
    import uvicorn

    class Server(uvicorn.Server):
        """Stops gracefully on SIGINT/SIGTERM without re-raising the signal afterwards (uvicorn's default), so that
        Ctrl-C ends ``serve-local`` with one line instead of a KeyboardInterrupt inside the event loop."""

        @contextmanager
        def capture_signals(self) -> Iterator[None]:
            if threading.current_thread() is not threading.main_thread():
                yield
                return
            previous = {sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)}
            try:
                yield
            finally:
                for sig, handler in previous.items():
                    signal.signal(sig, handler)

    config = uvicorn.Config(build_app(endpoint), log_level="warning", access_log=False, lifespan="off",
                            timeout_keep_alive=30)
    return Server(config)


@contextmanager
def running_endpoint(config: DeploymentConfig, model_url: str, *, host: str = "127.0.0.1", port: int = 0,
                     endpoint_name: str | None = None,
                     timeout: float = INVOKE_TIMEOUT_S) -> Iterator[tuple[str, LocalEndpoint]]:
    """Serve the local endpoint on a background thread; yields its base URL and the endpoint object."""
    endpoint = LocalEndpoint(config, HttpTransport(model_url), endpoint_name=endpoint_name, timeout=timeout)
    sock = _bind(host, port)
    server = _server(endpoint, sock)
    thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[sock])), daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.01)
    bound = sock.getsockname()
    try:
        yield f"http://{host if ':' not in host else f'[{host}]'}:{bound[1]}", endpoint
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def serve(config: DeploymentConfig, model_url: str, *, host: str = "127.0.0.1", port: int = 8081,
          endpoint_name: str | None = None) -> None:
    """Serve in the foreground until interrupted (``clarify-kit serve-local``); Ctrl-C or SIGTERM stops it.

    Raises
    ------
    SetupError: the address cannot be bound (a port in use, a host that is not this machine's).
    """
    endpoint = LocalEndpoint(config, HttpTransport(model_url), endpoint_name=endpoint_name)
    sock = _bind(host, port)
    server = _server(endpoint, sock)
    # Stop handlers before the announcement, so that a Ctrl-C at any moment after it stops the server cleanly.
    previous = {sig: signal.signal(sig, server.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)}
    print(f"local endpoint {endpoint.name!r} on http://{host}:{port} -> container {model_url}", flush=True)
    try:
        asyncio.run(server.serve(sockets=[sock]))
    finally:
        sock.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    print(f"clarify-kit: local endpoint {endpoint.name!r} stopped", file=sys.stderr, flush=True)
