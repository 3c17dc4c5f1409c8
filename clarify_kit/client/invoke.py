"""The endpoint client: serialize records, call InvokeEndpoint (EnableExplanations, TargetModel), parse the answer."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from clarify_kit.adapters.aws import make_client, setup_problem
from clarify_kit.adapters.files import load_config
from clarify_kit.client.result import InvokeResult, parse_result
from clarify_kit.core.codecs import (
    CSV,
    JSONLINES,
    SUPPORTED_CONTENT_TYPES,
    base_content_type,
    encode_record,
    split_output_records,
)
from clarify_kit.core.config import DeploymentConfig
from clarify_kit.core.custom_attributes import with_enable_explanations
from clarify_kit.core.errors import CodecError, InvocationError, KitError
from clarify_kit.core.limits import CLIENT_READ_TIMEOUT_S, INVOKE_BODY_MAX_BYTES
from clarify_kit.core.spec import ExplainerSpec, logit

__all__ = ["EndpointClient", "classify_error", "serialize_records"]

_RETRYABLE = {
    "ThrottlingException",
    "ServiceUnavailable",
    "InternalFailure",
    "InternalDependencyException",
    "ModelNotReadyException",
    "TooManyRequestsException",
    "RequestTimeout",
    "Throttling",
}


def serialize_records(records: Any, content_type: str, spec: ExplainerSpec | None = None) -> bytes:
    """Turn rows, dicts, a DataFrame, a string or bytes into an InvokeEndpoint body in ``content_type``.

    Rows (sequences of values) become CSV lines, or JSON Lines through the ContentTemplate when the config has
    one; dicts become JSON Lines objects; strings in a list are records already written; a str/bytes body is sent
    as it is.
    """
    kind = base_content_type(content_type)
    if kind not in SUPPORTED_CONTENT_TYPES:
        raise KitError(f"content type {content_type!r} is not supported; use {' or '.join(SUPPORTED_CONTENT_TYPES)}")
    if isinstance(records, bytes):
        return records
    if isinstance(records, str):
        return records.encode("utf-8")
    if hasattr(records, "to_dict") and hasattr(records, "columns"):  # a pandas DataFrame
        records = (
            records.to_dict("records")
            if kind == JSONLINES and not (spec and spec.content_template)
            else records.values.tolist()
        )
    template = spec.content_template if spec else None
    lines = [_record_line(i, row, kind, template) for i, row in enumerate(records)]
    if not lines:
        raise KitError("no record to send")
    return "\n".join(lines).encode("utf-8")


def _record_line(i: int, row: Any, kind: str, template: str | None) -> str:
    if isinstance(row, str):  # an already serialized record (one CSV or JSON Lines line)
        return row
    if isinstance(row, dict):
        if kind != JSONLINES:
            raise KitError(f"record {i}: a mapping can only be sent as application/jsonlines")
        return json.dumps(row, separators=(",", ":"))
    if isinstance(row, (list, tuple)):
        return encode_record(list(row), kind, template)
    raise KitError(f"record {i}: expected a row (list) or a mapping, got {type(row).__name__}")


class _DeadlinePassed(Exception):
    """Raised by the before-send hook: the call's deadline passed before another attempt could start."""


@dataclass
class _Attempts:
    deadline: float
    count: int = 0


_CALL = threading.local()  # the attempts of the call in progress on this thread


def _before_send(**_: Any) -> None:
    attempts: _Attempts | None = getattr(_CALL, "attempts", None)
    if attempts is None:
        return
    attempts.count += 1
    if attempts.count > 1 and time.monotonic() >= attempts.deadline:
        raise _DeadlinePassed


def classify_error(err: Exception, attempts: int = 1) -> InvocationError:
    """Map a botocore error to the kit's InvocationError with the service error name and whether to retry."""
    from botocore.exceptions import ClientError, ConnectionError, ReadTimeoutError

    if isinstance(err, ClientError):
        error = err.response.get("Error", {})
        code = str(error.get("Code", "Unknown"))
        status = err.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        message = str(error.get("Message", err))
        original = err.response.get("OriginalStatusCode")
        # A ModelError whose container timed out or was unreachable (status 0 or 5xx) is worth a retry.
        retryable = code in _RETRYABLE or (code == "ModelError" and (original in (0, 502, 503, 504)))
        return InvocationError(f"{code}: {message}", code=code, status=status, retryable=retryable)
    if isinstance(err, ReadTimeoutError):
        return InvocationError(
            f"Timeout: no answer within the {CLIENT_READ_TIMEOUT_S:.0f} s read timeout ({attempts} attempt(s))",
            code="Timeout",
            retryable=True,
        )
    if isinstance(err, ConnectionError):
        return InvocationError(f"ConnectionError: {err}", code="ConnectionError", retryable=True)
    return InvocationError(f"{type(err).__name__}: {err}", code=type(err).__name__)


class EndpointClient:
    """Invoke one SageMaker endpoint (or the kit's local endpoint) and parse explainer responses.

    Parameters
    ----------
    endpoint_name: the endpoint.
    config: the deployment config (object or path): gives content types, score selectors and label headers.
    boto3_client: a ``sagemaker-runtime`` client to use as is.
    boto3_session, boto_config, endpoint_url, region_name, profile_name: used to create the client when none is
        given (clarify_kit.adapters.aws.make_client): adaptive retries, a 70 s read timeout (above the 60 s invoke
        limit); on a loopback endpoint URL no region or credentials are needed.
    deadline_s: the total time of one call, botocore's retries included: no attempt starts after it (default 70 s,
        above the 60 s invoke limit).
    """

    def __init__(
        self,
        endpoint_name: str,
        *,
        config: DeploymentConfig | str | Path | None = None,
        boto3_client: Any = None,
        boto3_session: Any = None,
        boto_config: Any = None,
        endpoint_url: str | None = None,
        region_name: str | None = None,
        profile_name: str | None = None,
        deadline_s: float = CLIENT_READ_TIMEOUT_S,
    ) -> None:
        self.endpoint_name = endpoint_name
        if isinstance(config, (str, Path)):
            config = load_config(config)
        self.config = config
        self.spec = ExplainerSpec.from_config(config) if config is not None and config.clarify else None
        self._client = make_client(
            "sagemaker-runtime",
            boto3_client=boto3_client,
            boto3_session=boto3_session,
            boto_config=boto_config,
            endpoint_url=endpoint_url,
            region_name=region_name,
            profile_name=profile_name,
        )
        self.deadline_s = deadline_s
        # botocore retries each call on its own; this hook stops it from starting an attempt past the deadline.
        events = getattr(getattr(self._client, "meta", None), "events", None)  # absent on a test double
        if events is not None:
            events.register(
                "before-send.sagemaker-runtime.InvokeEndpoint", _before_send, unique_id="clarify-kit-deadline"
            )

    @property
    def boto3_client(self) -> Any:
        return self._client

    @property
    def self_hosted(self) -> bool:
        """Whether the config selects the kit's explainer inside the container (CustomAttributes carry the switch)."""
        return self.config is not None and self.config.ClarifyKit.Explainer == "SelfHosted"

    def invoke(
        self,
        records: Any,
        *,
        enable_explanations: str | None = None,
        target_model: str | None = None,
        target_variant: str | None = None,
        content_type: str | None = None,
        accept: str | None = None,
        inference_id: str | None = None,
        custom_attributes: str | None = None,
    ) -> InvokeResult:
        """Send records and return the parsed result. With a self-hosted explainer (``ClarifyKit.Explainer:
        SelfHosted``), ``enable_explanations`` travels in CustomAttributes, beside ``custom_attributes``.

        Raises
        ------
        InvocationError: the service (or local endpoint) returned an error; ``code`` names it.
        ResponseParseError: the answer does not follow the explainer response schema.
        """
        content_type = content_type or (self.spec.content_type if self.spec else CSV)
        accept = accept or (self.spec.accept if self.spec else content_type)
        body = serialize_records(records, content_type, self.spec)
        if len(body) > INVOKE_BODY_MAX_BYTES:
            raise InvocationError(
                f"ValidationError: the body is {len(body)} bytes; InvokeEndpoint accepts at most "
                f"{INVOKE_BODY_MAX_BYTES}: send fewer records per call (explain_file splits them)",
                code="ValidationError",
            )
        raw, variant, elapsed = self.invoke_raw(
            body,
            enable_explanations=enable_explanations,
            target_model=target_model,
            target_variant=target_variant,
            content_type=content_type,
            accept=accept,
            inference_id=inference_id,
            custom_attributes=custom_attributes,
        )
        sent = _record_count(body, content_type)
        result = parse_result(raw, self.spec, invoked_variant=variant, latency_ms=elapsed, request_records=sent)
        return replace(result, body=raw)

    def invoke_raw(
        self,
        body: bytes,
        *,
        enable_explanations: str | None = None,
        target_model: str | None = None,
        target_variant: str | None = None,
        content_type: str = CSV,
        accept: str | None = None,
        inference_id: str | None = None,
        custom_attributes: str | None = None,
    ) -> tuple[bytes, str | None, float]:
        """One InvokeEndpoint call; returns the raw body, the invoked variant and the latency in ms."""
        params: dict[str, Any] = {
            "EndpointName": self.endpoint_name,
            "Body": body,
            "ContentType": content_type,
            "Accept": accept or content_type,
        }
        if self.self_hosted and enable_explanations is not None:  # only the Clarify explainer reads the parameter
            custom_attributes = with_enable_explanations(enable_explanations, custom_attributes)
            enable_explanations = None
        for key, value in (
            ("EnableExplanations", enable_explanations),
            ("TargetModel", target_model),
            ("TargetVariant", target_variant),
            ("InferenceId", inference_id),
            ("CustomAttributes", custom_attributes),
        ):
            if value is not None:
                params[key] = value
        started = time.perf_counter()
        attempts = _Attempts(time.monotonic() + self.deadline_s)
        _CALL.attempts = attempts
        try:
            response = self._client.invoke_endpoint(**params)
            raw = response["Body"].read()
        except _DeadlinePassed:
            raise InvocationError(
                f"Timeout: no answer within {self.deadline_s:.0f} s ({attempts.count - 1} "
                "attempt(s), the last timed out or failed)",
                code="Timeout",
                retryable=True,
            ) from None
        except Exception as err:  # noqa: BLE001 - every botocore failure becomes the kit's InvocationError
            if isinstance(err, KitError):
                raise
            raise (setup_problem(err) or classify_error(err, attempts.count)) from err
        finally:
            _CALL.attempts = None
        return raw, response.get("InvokedProductionVariant"), (time.perf_counter() - started) * 1000

    def baseline_records(self) -> list[list[Any]]:
        if self.spec is None:
            raise KitError("the expected value needs the deployment config (config=...) with an inline baseline")
        rows = self.spec.baseline_rows()
        if not rows:
            raise KitError("the expected value needs an inline ShapBaseline (the S3 baseline is not read)")
        return rows

    def expected_value(self, *, target_model: str | None = None) -> list[float]:
        """The model output averaged over the baseline records (explanations off), per label.

        With ``UseLogit`` the average is taken on probabilities and then turned into log-odds, as the explainer
        does.
        """
        rows = self.baseline_records()
        assert self.spec is not None
        result = self.invoke(self.spec.encode_records(rows), enable_explanations="`false`", target_model=target_model)
        scores = [r.scores for r in result.records]
        if not scores or any(s is None for s in scores):
            raise KitError(
                "the baseline predictions carry no score the client can read; set ProbabilityIndex or "
                "ProbabilityAttribute in the config"
            )
        width = len(scores[0] or ())
        means = [sum((s or ())[k] for s in scores) / len(scores) for k in range(width)]
        if self.spec.use_logit:
            means = [logit(p) for p in means]
        return means


def _record_count(body: bytes, content_type: str) -> int | None:
    """How many records a request body holds (one per line, CSV quoting respected); None when it cannot be split."""
    try:
        return len(split_output_records(body.decode("utf-8"), content_type)) or None
    except (CodecError, UnicodeDecodeError):
        return None
