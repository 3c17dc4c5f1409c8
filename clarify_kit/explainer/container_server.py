"""The self-hosted explainer: the kit's explainer inside the model's own container (``clarify-kit serve-container``).

It speaks the SageMaker inference container contract (GET /ping, POST /invocations, port 8080 by default) and puts
the same pipeline as the local endpoint (synthetic data, batching, Kernel SHAP, the Clarify response envelope) in
front of the user's model server, which listens on an internal port: already running (``model_url``), or started
and supervised here (``model_command``). /ping fails as soon as the model process has exited or its own /ping
fails, so that SageMaker replaces the instance. Requests switch explanations with CustomAttributes
``EnableExplanations=<JMESPath>`` (clarify_kit.core.custom_attributes), else the config's EnableExplanations applies.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import signal
import subprocess
import time
from collections.abc import Sequence
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from clarify_kit.core.blas import pin_process
from clarify_kit.core.config import DeploymentConfig
from clarify_kit.core.errors import SetupError
from clarify_kit.core.limits import INVOKE_BODY_MAX_BYTES, INVOKE_TIMEOUT_S
from clarify_kit.core.spec import ExplainerSpec
from clarify_kit.explainer._body import read_body
from clarify_kit.explainer.pipeline import Explainer, self_hosted_switch
from clarify_kit.explainer.runtime_errors import ServiceError
from clarify_kit.explainer.transport import EXPLAINER_HEADER, HttpTransport

__all__ = ["ContainerServer", "build_container_app", "model_environment", "request_timeout", "serve_container"]


# SageMaker sends SIGTERM and kills the container 30 s later (hosting: "custom inference code"); the model server
# gets part of that to stop, after the explainer's own requests were drained (kit).
MODEL_STOP_GRACE_S = 20.0
# Variables of the explainer's own process that the model server must not inherit (the image sets none; a user
# running serve-container by hand may have them).
_EXPLAINER_ONLY = ("PYTHONPATH", "PYTHONHOME", "PYTHONNOUSERSITE", "VIRTUAL_ENV", "CLARIFY_KIT_TIMEOUT_S")


class ContainerServer:
    """The explainer in front of one model server, and the model process when this server started it."""

    def __init__(
        self,
        config: DeploymentConfig,
        model_url: str,
        *,
        model_command: Sequence[str] | None = None,
        baseline_text: str | None = None,
        timeout: float = INVOKE_TIMEOUT_S,
    ) -> None:
        if config.clarify is None:
            raise SetupError(
                "serve-container needs EndpointConfig.ExplainerConfig.ClarifyExplainerConfig: the "
                "explainer's settings (the stack leaves them out of a SelfHosted endpoint config)"
            )
        spec = ExplainerSpec.from_config(config)
        if baseline_text is not None:
            spec = spec.with_baseline(baseline_text)
        self.transport = HttpTransport(model_url)
        self.explainer = Explainer(spec, self.transport, timeout=timeout)
        self.model_url = model_url
        self.process: subprocess.Popen[bytes] | None = None
        if model_command:
            self.process = _start_model(list(model_command), config.ClarifyKit.SelfHosted.ModelPort)

    def health(self) -> tuple[bool, str]:
        """Whether the model can answer: its process alive (when started here) and its /ping answering 200."""
        if self.process is not None and self.process.poll() is not None:
            return False, f"the model server exited with code {self.process.returncode}"
        ping = getattr(self.transport, "ping", None)
        if ping is not None and not ping():
            return False, f"the model server at {self.model_url} does not answer GET /ping"
        return True, "ok"

    def wait_until_ready(self, timeout: float) -> None:
        """Block until the model answers /ping (a started model server needs a moment), or raise SetupError."""
        deadline = time.monotonic() + timeout
        ok, why = self.health()
        while not ok and time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                break
            time.sleep(0.2)
            ok, why = self.health()
        if not ok:
            raise SetupError(f"the model is not ready after {timeout:.0f} s: {why}")

    def invoke(self, body: bytes, headers: dict[str, str], started: float | None = None) -> tuple[int, bytes]:
        """One /invocations request: the explainer's response envelope, or the error as the container's answer.
        ``started``: when the request arrived (its deadline counts from there)."""
        started = time.monotonic() if started is None else started
        try:
            if not body:
                raise ServiceError("ValidationError", "the body is empty: send at least one record")
            if len(body) > INVOKE_BODY_MAX_BYTES:
                raise ServiceError(
                    "ValidationError",
                    f"the body of {len(body)} bytes exceeds the {INVOKE_BODY_MAX_BYTES}-byte limit of InvokeEndpoint",
                )
            expression, others, accept = self_hosted_switch(headers)
            envelope, _ = self.explainer.invoke(
                body,
                content_type=headers.get("content-type"),
                accept=accept,
                enable_explanations=expression,
                target_model=headers.get("x-amzn-sagemaker-target-model"),
                started=started,
                custom_attributes=others,  # the caller's other attributes reach the model, as documented above
            )
        except ServiceError as err:
            return 400 if err.name == "ValidationError" else 500, _error_body(err)
        return 200, json.dumps(envelope, separators=(",", ":")).encode("utf-8")

    def close(self, grace_s: float = MODEL_STOP_GRACE_S) -> None:
        """Stop the model server this server started, and every process it started (its process group: a
        multi-model-server's Java workers too): SIGTERM, then SIGKILL after ``grace_s``."""
        process = self.process
        if process is None or process.poll() is not None:
            return
        try:
            os.killpg(process.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(process.pid, signal.SIGKILL)  # what is left of the group (workers that ignored SIGTERM)
        except ProcessLookupError:
            pass
        process.wait(timeout=5)


def model_environment(model_port: int) -> dict[str, str]:
    """The model server's environment: the container's own (the base image's), with SAGEMAKER_BIND_TO_PORT set to
    its port, as SageMaker's framework images read it, and nothing of the explainer's."""
    env = {k: v for k, v in os.environ.items() if k not in _EXPLAINER_ONLY}
    env["SAGEMAKER_BIND_TO_PORT"] = str(model_port)
    return env


def _start_model(command: list[str], model_port: int) -> subprocess.Popen[bytes]:
    try:
        # its own session: its process group is stopped as a whole
        return subprocess.Popen(command, env=model_environment(model_port), start_new_session=True)  # noqa: S603
    except OSError as err:
        raise SetupError(f"cannot start the model server {' '.join(command)!r}: {err}") from err


def request_timeout(value: str | None) -> float:
    """Seconds a request may take: an endpoint's 60 s, or what ``CLARIFY_KIT_TIMEOUT_S`` says (Batch Transform gives
    a request up to an hour and the job sets it).

    Raises
    ------
    SetupError: the value is not a finite number of seconds above 0.
    """
    if value is None or not value.strip():
        return INVOKE_TIMEOUT_S
    try:
        seconds = float(value)
    except ValueError:
        seconds = math.nan
    if not (math.isfinite(seconds) and seconds > 0):
        raise SetupError(
            f"CLARIFY_KIT_TIMEOUT_S={value[:40]!r} is not a number of seconds: give a finite number "
            "above 0 (unset, requests get InvokeEndpoint's 60 s)"
        )
    return seconds


def _error_body(err: ServiceError) -> bytes:
    return json.dumps({"error": err.name, "message": str(err), **err.extra}, default=str).encode("utf-8")


def build_container_app(server: ContainerServer) -> Starlette:
    """The ASGI app of the container contract: GET /ping and POST /invocations."""

    async def ping(request: Request) -> Response:
        ok, why = await run_in_threadpool(server.health)
        return Response(
            "" if ok else json.dumps({"message": why}),
            status_code=200 if ok else 503,
            media_type="application/json",
            headers={EXPLAINER_HEADER: "self-hosted"},  # the local endpoint passes requests through to it
        )

    async def invocations(request: Request) -> Response:
        arrived = time.monotonic()
        try:  # streamed and refused at 6 MiB + 1 byte, as serve-local does: memory stays bounded by the limit
            body = await read_body(request, arrived=arrived, deadline_s=server.explainer.timeout)
        except ServiceError as err:
            return Response(
                _error_body(err), status_code=400, media_type="application/json", headers={"Connection": "close"}
            )
        headers: dict[str, Any] = {k.lower(): v for k, v in request.headers.items()}
        try:
            status, payload = await run_in_threadpool(server.invoke, body, headers, arrived)
        except asyncio.CancelledError:  # stopping, and the grace period is over: a JSON 503, as serve-local answers
            unavailable = ServiceError("ServiceUnavailable", "the self-hosted explainer is shutting down")
            return Response(_error_body(unavailable), status_code=503, media_type="application/json")
        return Response(payload, status_code=status, media_type="application/json")

    return Starlette(
        routes=[Route("/ping", ping, methods=["GET"]), Route("/invocations", invocations, methods=["POST"])]
    )


def serve_container(
    config: DeploymentConfig,
    model_url: str,
    *,
    model_command: Sequence[str] | None = None,
    host: str = "0.0.0.0",
    port: int = 8080,
    baseline_text: str | None = None,  # noqa: S104
    ready_timeout: float = 120.0,
) -> None:
    """Serve in the foreground until SIGTERM (SageMaker stopping the instance) or Ctrl-C; stops a started model."""
    import sys

    from clarify_kit.explainer._http import bind_socket, quiet_server, run_in_foreground

    timeout = request_timeout(os.environ.get("CLARIFY_KIT_TIMEOUT_S"))
    server = ContainerServer(
        config, model_url, model_command=model_command, baseline_text=baseline_text, timeout=timeout
    )
    pin_process()  # after the model started with its own environment: only this process's BLAS is pinned
    try:
        sock = bind_socket(host, port)
        server.wait_until_ready(ready_timeout)
        run_in_foreground(
            quiet_server(build_container_app(server)),
            sock,
            f"self-hosted explainer on http://{host}:{port} -> model {model_url}",
        )
    finally:
        server.close()
    print("clarify-kit: self-hosted explainer stopped", file=sys.stderr, flush=True)
