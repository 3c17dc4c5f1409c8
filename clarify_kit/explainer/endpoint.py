"""A SageMaker-Runtime-compatible local endpoint with the Clarify explainer in front of a real model container.

A boto3 ``sagemaker-runtime`` client created with ``endpoint_url="http://127.0.0.1:PORT"`` (any region, dummy
credentials) calls ``invoke_endpoint`` on it unchanged: ``POST /endpoints/{EndpointName}/invocations`` with the
service's headers, errors as ``x-amzn-ErrorType`` + JSON body so that boto3 raises ``client.exceptions.<Name>``.
"""

from __future__ import annotations

import json
import os
import re
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from clarify_kit.adapters.capture import DEFAULT_CSV_TYPES, DEFAULT_JSON_TYPES, CaptureWriter
from clarify_kit.core.blas import pin_process
from clarify_kit.core.config import DeploymentConfig
from clarify_kit.core.errors import KitError
from clarify_kit.core.limits import INVOKE_BODY_MAX_BYTES, INVOKE_HEADERS, INVOKE_TIMEOUT_S
from clarify_kit.core.resources import resource_names
from clarify_kit.core.spec import ExplainerSpec
from clarify_kit.explainer._serving import SHUTDOWN_GRACE_S, bind_socket
from clarify_kit.explainer.pipeline import Explainer, model_error, self_hosted_switch, timeout_error
from clarify_kit.explainer.runtime_errors import ServiceError
from clarify_kit.explainer.threaded_http import Answer, ThreadedServer, serve_in_thread, serve_until_signalled
from clarify_kit.explainer.transport import AnswerTooLarge, HttpTransport, Transport

__all__ = ["LocalEndpoint", "running_endpoint", "serve"]


# Requests explained at once; more wait for a worker, their wait counting against the 60 s limit (kit).
WORKERS = 16


class LocalEndpoint:
    """One endpoint: its name, variants and explainer (the container is reached through ``transport``)."""

    def __init__(
        self,
        config: DeploymentConfig,
        transport: Transport,
        *,
        endpoint_name: str | None = None,
        timeout: float = INVOKE_TIMEOUT_S,
        workers: int = WORKERS,
        baseline_text: str | None = None,
    ) -> None:
        self.config = config
        self.name = endpoint_name or resource_names(config).endpoint
        self.variants = [v.VariantName for v in config.EndpointConfig.ProductionVariants]
        container = config.container
        self.multi_model = bool(container and container.Mode == "MultiModel")
        spec = ExplainerSpec.from_config(config)
        if baseline_text is not None:  # an S3 baseline, read by the caller (adapters.baseline.read_baseline)
            spec = spec.with_baseline(baseline_text)
        self.explainer = Explainer(spec, transport, timeout=timeout)
        self.transport = transport
        # A self-hosted explainer is in the container: the endpoint passes requests through, as SageMaker does
        # for an endpoint config without ExplainerConfig.
        self.self_hosted = config.ClarifyKit.Explainer == "SelfHosted"
        # Whether the container is the kit's self-hosted explainer (serve-container, the image) or the model
        # server itself: then the local endpoint runs the self-hosted explainer in front of it, as the image
        # would. Asked of the container's /ping at the first request (None: not known yet).
        self._container_explains: bool | None = None
        self.timeout = timeout
        self.invocations = 0
        # Data capture (serve-local --capture-dir): one writer per variant, under the config's capture settings.
        self.capture: dict[str, CaptureWriter] = {}
        # Requests explained at once; one waiting for a slot is still answered at its deadline (see _Answers).
        self.slots = threading.BoundedSemaphore(workers)

    def handle(
        self, name: str, headers: dict[str, str], body: bytes, arrived: float | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        """Serve one InvokeEndpoint call; returns status, headers and body (errors in the service's shape).

        ``arrived`` (time.monotonic()) starts the 60 s limit; default: now.
        """
        try:
            return self._handle(name, headers, body, time.monotonic() if arrived is None else arrived)
        except ServiceError as err:
            return _error(err, self.name)
        except Exception as err:  # noqa: BLE001 - the endpoint answers InternalFailure and keeps serving
            return _error(ServiceError("InternalFailure", f"local endpoint failure: {type(err).__name__}: {err}"))
        finally:
            if len(body) > _LARGE_BODY:
                _release_memory()

    def _handle(
        self, name: str, headers: dict[str, str], body: bytes, arrived: float
    ) -> tuple[int, dict[str, str], bytes]:
        if name != self.name:
            raise ServiceError("ValidationError", f"Endpoint {name} of account {_ACCOUNT} not found.")
        for header, (member, low, high) in INVOKE_HEADERS.items():
            value = headers.get(header)
            if value is not None and not low <= len(value) <= high:
                raise ServiceError(
                    "ValidationError",
                    f"1 validation error detected: Value at '{member}' failed to "
                    f"satisfy constraint: Member must have length between {low} and {high}",
                )
        if len(body) > INVOKE_BODY_MAX_BYTES:
            raise ServiceError(
                "ValidationError",
                f"Body of {len(body)} bytes exceeds the {INVOKE_BODY_MAX_BYTES}-byte "
                "limit of InvokeEndpoint; split the records over several calls",
            )
        if not body:
            raise ServiceError("ValidationError", "Body is required: send at least one record")
        target_model = headers.get("x-amzn-sagemaker-target-model")
        if target_model and not self.multi_model:
            raise ServiceError(
                "ValidationError",
                "TargetModel is only valid for a multi-model endpoint (Model.PrimaryContainer.Mode: MultiModel)",
            )
        if self.multi_model and not target_model:
            raise ServiceError("ValidationError", "TargetModel is required when invoking a multi-model endpoint")
        variant = headers.get("x-amzn-sagemaker-target-variant") or self.variants[0]
        if variant not in self.variants:
            raise ServiceError(
                "ValidationError",
                f"TargetVariant {variant!r} is not a variant of the endpoint; variants: {', '.join(self.variants)}",
            )
        self.invocations += 1
        if self._passes_through(headers):
            return self._pass_through(headers, body, arrived, variant, target_model)
        expression, attributes, accept = self._explanation_switch(headers)
        envelope, _ = self.explainer.invoke(
            body,
            content_type=headers.get("content-type"),
            accept=accept,
            enable_explanations=expression,
            target_model=target_model,
            started=arrived,
            custom_attributes=attributes,
        )
        out_headers = {"Content-Type": "application/json", "x-Amzn-Invoked-Production-Variant": variant}
        answer = json.dumps(envelope, separators=(",", ":")).encode("utf-8")  # compact, as the service
        self._capture(variant, headers, body, out_headers["Content-Type"], answer)
        return 200, out_headers, answer

    def _capture(self, variant: str, headers: dict[str, str], body: bytes, answer_type: str, answer: bytes) -> None:
        """One data capture line for a served invocation (``--capture-dir``), as the service writes it to S3."""
        writer = self.capture.get(variant) if self.capture else None
        if writer is not None:
            writer.write(
                body,
                headers.get("content-type") or "text/csv",
                answer,
                answer_type,
                inference_id=headers.get("x-amzn-sagemaker-inference-id"),
            )

    def capture_into(self, root: Path) -> None:
        """Write data capture files under ``root`` as the service does (ClarifyKit.DataCapture's sampling and
        modes, or EndpointConfig.DataCaptureConfig's when given, with its content types)."""
        settings = self.config.ClarifyKit.DataCapture
        sampling = settings.InitialSamplingPercentage
        modes: tuple[str, ...] = tuple(settings.CaptureModes)
        csv_types: tuple[str, ...] = DEFAULT_CSV_TYPES
        json_types: tuple[str, ...] = DEFAULT_JSON_TYPES
        given = self.config.EndpointConfig.DataCaptureConfig
        if given is not None:
            sampling = given.InitialSamplingPercentage
            modes = tuple(o.CaptureMode for o in given.CaptureOptions)
            header = given.CaptureContentTypeHeader
            if header is not None:
                csv_types = tuple(t.lower() for t in header.CsvContentTypes or ())
                json_types = tuple(t.lower() for t in header.JsonContentTypes or ())
        self.capture = {
            variant: CaptureWriter(root, self.name, variant, sampling, modes, csv_types, json_types)
            for variant in self.variants
        }

    def container_explains(self) -> bool:
        """Whether the container is the kit's self-hosted explainer (requests pass through to it) rather than the
        model server (the local endpoint explains in front of it). Asked once, of the container's /ping."""
        if self._container_explains is None:
            ask = getattr(self.transport, "explains", None)
            answer = ask() if ask is not None else False
            if answer is None:
                return False  # no answer yet: ask again next time
            self._container_explains = answer
        return self._container_explains

    def _explanation_switch(self, headers: dict[str, str]) -> tuple[str | None, str | None, str | None]:
        """EnableExplanations, the CustomAttributes the container gets and the Accept it is asked for: the
        parameter and the headers verbatim (the Clarify explainer), or what the image's self-hosted explainer
        reads of them (it runs here)."""
        if self.self_hosted:
            return self_hosted_switch(headers)
        attributes = headers.get("x-amzn-sagemaker-custom-attributes")
        return headers.get("x-amzn-sagemaker-enable-explanations"), attributes, headers.get("accept")

    def _passes_through(self, headers: dict[str, str]) -> bool:
        """Whether the request goes to the container as it is: the explainer is self-hosted and the container is
        it. A self-hosted endpoint refuses the Clarify explainer's EnableExplanations parameter either way."""
        if not self.self_hosted:
            return False
        if headers.get("x-amzn-sagemaker-enable-explanations") is not None:
            raise ServiceError(
                "ValidationError",
                "EnableExplanations needs an endpoint config with ExplainerConfig; "
                "this endpoint's explainer is self-hosted: send CustomAttributes "
                "EnableExplanations=<expression> (the kit's client does when the config says "
                "Explainer: SelfHosted)",
            )
        return self.container_explains()

    def _pass_through(
        self, headers: dict[str, str], body: bytes, arrived: float, variant: str, target_model: str | None
    ) -> tuple[int, dict[str, str], bytes]:
        """The container's own answer (the self-hosted explainer's envelope), CustomAttributes passed on."""
        content_type = headers.get("content-type") or "application/octet-stream"
        left = self.timeout - (time.monotonic() - arrived)
        try:
            reply = self.transport.post(
                body,
                content_type=content_type,
                accept=headers.get("accept") or content_type,
                target_model=target_model,
                timeout=max(0.1, left),
                custom_attributes=headers.get("x-amzn-sagemaker-custom-attributes"),
                max_answer_bytes=INVOKE_BODY_MAX_BYTES,  # the service's own limit on a response body
            )
        except TimeoutError as err:
            raise timeout_error(self.timeout) from err
        except AnswerTooLarge as err:
            raise model_error(
                err.status, "The answer is over InvokeEndpoint's 6 MiB response limit.", str(err)
            ) from err
        except KitError as err:
            raise model_error(0, "The model container could not be reached.", str(err)) from err
        if reply.status != 200:
            raise model_error(
                reply.status,
                "The model container answered with an error.",
                reply.body.decode("utf-8", "replace")[:1000],
            )
        answer_type = reply.content_type or "application/json"
        self._capture(variant, headers, body, answer_type, reply.body)  # the self-hosted envelope, as captured
        return 200, {"Content-Type": answer_type, "x-Amzn-Invoked-Production-Variant": variant}, reply.body


_ACCOUNT = "000000000000"  # the local endpoint's account, in its errors and ARNs

# After a request this large, the memory its synthetic rows took is handed back to the operating system.
_LARGE_BODY = 64 * 1024


def _release_memory() -> None:
    """glibc keeps freed heap in its arenas; malloc_trim returns it (a no-op elsewhere)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _error(err: ServiceError, endpoint_name: str | None = None) -> tuple[int, dict[str, str], bytes]:
    """The error's status, headers and body; a ModelError of a container gets the service's closing sentence and
    the endpoint's log stream (region from the environment, the local account 000000000000)."""
    headers = {"Content-Type": "application/json", "x-amzn-ErrorType": err.name}
    body = err.body()
    if endpoint_name and err.name == "ModelError" and "OriginalStatusCode" in body:
        region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
        group = f"/aws/sagemaker/Endpoints/{endpoint_name}"
        link = f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}#logEventViewer:group={group}"
        body["message"] = f"{body['message']} See {link} in account {_ACCOUNT} for more information."
        body["LogStreamArn"] = f"arn:aws:logs:{region}:{_ACCOUNT}:log-group:{group}"
    return err.status, headers, json.dumps(body).encode("utf-8")


_INVOCATIONS = re.compile(r"/endpoints/([^/]+)/invocations")


class _Answers:
    """What the local endpoint answers (clarify_kit.explainer.threaded_http serves it): ``POST
    /endpoints/{name}/invocations`` and ``GET /ping``; 405 for a wrong method on either path (naming the one
    allowed), 404 elsewhere. Every answer carries ``x-amzn-RequestId``, as every answer of the service does (boto3
    shows it as ``ResponseMetadata.RequestId``).

    The 60 s limit runs from a request's arrival: reading its body, waiting for a worker and the explainer's
    container calls all count. A request waiting for one of the ``workers`` slots is answered with the service's
    timeout error at its deadline; one that has a slot is bounded by the explainer's own deadline on every
    container call."""

    max_body = INVOKE_BODY_MAX_BYTES

    def __init__(self, endpoint: LocalEndpoint) -> None:
        self.endpoint = endpoint
        self.deadline_s = endpoint.timeout

    def answer(self, method: str, path: str, headers: dict[str, str], body: bytes, arrived: float) -> Answer:
        path = path.partition("?")[0]
        route = _INVOCATIONS.fullmatch(path)
        if route is not None and method == "POST":
            status, out, data = self._invoke(route.group(1), headers, body, arrived)
        elif path == "/ping" and method in ("GET", "HEAD"):
            status, out, data = 200, {}, b""
        elif route is not None or path == "/ping":
            allowed = "POST" if route is not None else "GET, HEAD"
            status, out, data = 405, {"Allow": allowed, "Content-Type": "text/plain"}, b"Method Not Allowed"
        else:
            status, out, data = 404, {"Content-Type": "text/plain"}, b"Not Found"
        return status, {**out, "x-amzn-RequestId": str(uuid.uuid4())}, b"" if method == "HEAD" else data

    def refuse(self, err: ServiceError) -> Answer:
        status, headers, body = _error(err)
        return status, {**headers, "x-amzn-RequestId": str(uuid.uuid4())}, body

    def _invoke(self, name: str, headers: dict[str, str], body: bytes, arrived: float) -> Answer:
        endpoint = self.endpoint
        left = endpoint.timeout - (time.monotonic() - arrived)
        if not endpoint.slots.acquire(timeout=max(0.0, left)):
            return _error(timeout_error(endpoint.timeout), endpoint.name)
        try:
            return endpoint.handle(name, headers, body, arrived)
        finally:
            endpoint.slots.release()


@contextmanager
def running_endpoint(
    config: DeploymentConfig,
    model_url: str,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    endpoint_name: str | None = None,
    timeout: float = INVOKE_TIMEOUT_S,
    workers: int = WORKERS,
    baseline_text: str | None = None,
) -> Iterator[tuple[str, LocalEndpoint]]:
    """Serve the local endpoint on a background thread; yields its base URL and the endpoint object."""
    endpoint = LocalEndpoint(
        config,
        HttpTransport(model_url),
        endpoint_name=endpoint_name,
        timeout=timeout,
        workers=workers,
        baseline_text=baseline_text,
    )
    sock = bind_socket(host, port)
    server = ThreadedServer(_Answers(endpoint), sock)
    serve_in_thread(server)
    bound = sock.getsockname()
    try:
        yield f"http://{host if ':' not in host else f'[{host}]'}:{bound[1]}", endpoint
    finally:
        server.stop(grace_s=1)  # requests still in flight when a test or demo ends are moot
        sock.close()


def serve(
    config: DeploymentConfig,
    model_url: str,
    *,
    host: str = "127.0.0.1",
    port: int = 8081,
    endpoint_name: str | None = None,
    baseline_text: str | None = None,
    capture_dir: Path | None = None,
) -> None:
    """Serve in the foreground until interrupted (``clarify-kit serve-local``); Ctrl-C or SIGTERM stops it.
    ``capture_dir`` receives data capture files as the service writes them to S3.

    Raises
    ------
    SetupError: the address cannot be bound (a port in use, a host that is not this machine's).
    """
    endpoint = LocalEndpoint(config, HttpTransport(model_url), endpoint_name=endpoint_name, baseline_text=baseline_text)
    if capture_dir is not None:
        endpoint.capture_into(capture_dir)
    pin_process()  # the explainer's tiny products on one BLAS thread: the model's cores stay the model's
    sock = bind_socket(host, port)
    try:
        serve_until_signalled(
            ThreadedServer(_Answers(endpoint), sock),
            f"local endpoint {endpoint.name!r} on http://{host}:{port} -> container {model_url}",
            SHUTDOWN_GRACE_S,
        )
    finally:
        sock.close()
    print(f"clarify-kit: local endpoint {endpoint.name!r} stopped", file=sys.stderr, flush=True)
