"""The container precheck (D1-D3 of docs/explainer.md 5.2): probe the model container over HTTP.

Mirrors AWS's documented pre-check of the model container: ping it, send one record and a two-record batch,
require one output record per input record, extract scores and labels as the explainer will, evaluate
EnableExplanations on the real outputs, then time a full batch of synthetic records and turn the measured latency
into the explainer latency estimate against the 60 s InvokeEndpoint limit.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from clarify_kit.core.codecs import ONE_LINE, base_content_type, output_records
from clarify_kit.core.config import DeploymentConfig
from clarify_kit.core.errors import CodecError, ContainerError, ExpressionError, KitError
from clarify_kit.core.expressions import evaluate
from clarify_kit.core.extras import require
from clarify_kit.core.limits import INVOKE_TIMEOUT_S
from clarify_kit.core.rules import CLARIFY, INFERENCE, assess
from clarify_kit.core.spec import ExplainerSpec
from clarify_kit.explainer import ContainerReply, Explainer, HttpTransport, Transport, batches_of
from clarify_kit.precheck.report import Report

__all__ = ["container_precheck"]

_SHOW = 200  # characters of a payload shown in a failed check


def _short(data: bytes | str) -> str:
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    return repr(text if len(text) <= _SHOW else text[:_SHOW] + "...")


class _Probe:
    def __init__(
        self,
        config: DeploymentConfig,
        transport: Transport,
        url: str,
        target_model: str | None,
        baseline_text: str | None = None,
    ) -> None:
        self.config = config
        self.baseline_text = baseline_text
        self.spec = ExplainerSpec.from_config(config)
        if baseline_text is not None:
            self.spec = self.spec.with_baseline(baseline_text)
        self.transport = transport
        self.url = url
        self.target_model = target_model
        self.report = Report()
        self._told_content_type = False
        self._told_one_line = False

    def check(self, name: str, ok: bool, summary: str, *, path: str = "", fix: str = "", **evidence: Any) -> bool:
        entry: dict[str, Any] = {"name": name, "ok": ok, "summary": summary, **evidence}
        self.report.checks.append(entry)
        if not ok:
            detail = "; ".join(f"{k}: {v}" for k, v in evidence.items())
            message = f"container check '{name}' failed: {summary}" + (f" ({detail})" if detail else "")
            self.report.add("error", path or "container", message + (f". {fix}" if fix else ""), "container")
        return ok

    def post(self, body: str) -> tuple[ContainerReply, float]:
        started = time.perf_counter()
        reply = self.transport.post(
            body.encode("utf-8"),
            content_type=self.spec.content_type,
            accept=self.spec.accept,
            target_model=self.target_model,
            timeout=INVOKE_TIMEOUT_S,
        )
        return reply, time.perf_counter() - started

    def records(self) -> list[str]:
        samples = self.config.ClarifyKit.Container.SampleRecords
        if samples:
            return list(samples)
        rows = self.spec.baseline_rows()
        return [self.spec.encode_records([r]) for r in rows]

    def accepts(self, body: str, expected: int) -> bool:
        """Whether the container answers ``body`` with ``expected`` output records as the explainer reads them (one
        line per record, or the documented one-line CSV form); no check is recorded."""
        try:
            reply, _ = self.post(body)
            lines, _ = output_records(reply.body.decode("utf-8"), reply.content_type or self.spec.accept, expected)
        except (ContainerError, TimeoutError, UnicodeDecodeError, CodecError):
            return False
        return 200 <= reply.status < 300 and len(lines) == expected

    def outputs(self, name: str, body: str, expected: int) -> list[str] | None:
        try:
            reply, seconds = self.post(body)
        except (ContainerError, TimeoutError) as err:
            self.check(name, False, str(err), sent=_short(body))
            return None
        if not 200 <= reply.status < 300:
            self.check(
                name,
                False,
                f"HTTP {reply.status}",
                sent=_short(body),
                received=_short(reply.body),
                fix=self._refusal_fix(reply, expected),
            )
            return None
        self._content_type(reply)
        try:
            text = reply.body.decode("utf-8")
            lines, form = output_records(text, reply.content_type or self.spec.accept, expected)
        except (UnicodeDecodeError, CodecError) as err:
            self.check(
                name,
                False,
                f"unreadable output: {err}",
                sent=_short(body),
                received=_short(reply.body),
                fix=_output_fix(reply) or "",
            )
            return None
        # A known shape the explainer cannot read, unless the configured selector reads it record by record.
        shape = None if self._selector_reads(lines, expected) else _output_fix(reply)
        ok = len(lines) == expected and shape is None
        summary = f"{len(lines)} output record(s) for {expected} input record(s) in {seconds * 1000:.1f} ms"
        if ok and form == ONE_LINE:
            summary = (
                f"{expected} records answered on {ONE_LINE}, read as one score per record, in {seconds * 1000:.1f} ms"
            )
            self._one_line_note()
        self.check(
            name,
            ok,
            summary + (" in a shape the explainer cannot read" if shape else ""),
            fix=shape or "answer exactly one output line per input record",
            **({} if ok else {"sent": _short(body), "received": _short(text)}),
        )
        return lines if ok else None

    def _selector_reads(self, lines: list[str], expected: int) -> bool:
        """Whether the configured selector reads a score from every one of ``expected`` answered records."""
        if len(lines) != expected:
            return False
        try:
            return all(self.spec.scores(line) for line in lines)
        except (CodecError, ExpressionError):
            return False

    def _one_line_note(self) -> None:
        if self._told_one_line:
            return
        self._told_one_line = True
        image = _image_name(self.config)
        who = "SageMaker's XGBoost container" if "xgboost" in image else "The container"
        self.report.add(
            "note",
            f"{INFERENCE}",
            f"{who} answers a CSV batch on one line ('0.6,0.3' for two records), a form AWS's precheck lists as "
            "supported: the explainer reads it as one score per record, as is"
            + (
                "; SAGEMAKER_BATCH=true in the model's Environment makes it answer one line per record"
                if "xgboost" in image
                else ""
            ),
            "container",
        )

    def _refusal_fix(self, reply: ContainerReply, expected: int) -> str:
        """The fix for a refused request, from what the container said and how it treats a batch."""
        said = reply.body[:2000].decode("utf-8", "replace").lower()
        if any(sign in said for sign in ("empty dataframe", "missing column", "header", "columns")):
            return (
                "the container reads the first CSV row as a header (MLflow's scoring server does), so a single "
                "record is an empty table: the explainer never sends a header; put an adaptor in front that "
                "reads headerless CSV and answers one line per record (for MLflow: clarify-kit mlflow-adaptor, "
                "see the README's model-server table)"
            )
        if any(sign in said for sign in ("kserve", "triton", "failed to parse the request json", '"inputs"')) or (
            "triton" in _image_name(self.config)
        ):
            return _KSERVE_FIX[0].upper() + _KSERVE_FIX[1:]
        if expected == 1 and self._takes_a_batch():
            return (
                "the container fails on one record but takes two: the inference toolkit's classic handler bug "
                "(a 1-D array for one row, 'Expected 2D array'); make the input a 2-D array of one row "
                "(numpy.atleast_2d, or reshape(1, -1)) before predicting"
            )
        return "the container must accept the records the explainer sends (headerless, one per line)"

    def _takes_a_batch(self) -> bool:
        records = self.records()
        body = self.spec.encode_records(self.spec.parse_request("\n".join((records * 2)[:2])))
        return self.accepts(body, 2)

    def _content_type(self, reply: ContainerReply) -> None:
        """A reply whose Content-Type is not the Accept the explainer sends is reported once, as a warning: one
        content type decides both how its lines are split and how its scores are read."""
        answered, asked = base_content_type(reply.content_type or ""), base_content_type(self.spec.accept)
        if answered and answered != asked and not self._told_content_type:
            self._told_content_type = True
            fix = _output_fix(reply) or f"answer with Content-Type {asked}, the Accept the explainer sends"
            self.report.add(
                "warning",
                f"{INFERENCE}",
                f"the container answered Content-Type {answered} for Accept {asked}: {fix}",
                "container",
            )


_KSERVE_FIX = (
    'a KServe v2 server (NVIDIA Triton) takes {"inputs": [{"name", "shape", "datatype", "data"}]}, '
    "not the headerless records the explainer sends, and no ContentTemplate can write that body: every member of "
    "an input is required (74 characters for the smallest one-input body; the API allows 64); put the kit's "
    "adaptor in front (clarify-kit kserve-adaptor --model NAME --input-name NAME, or --upstream-path "
    "/invocations for Triton's SageMaker mode; --source prints it as one standard-library file for the image)"
)


def _ping_fix(url: str, config: DeploymentConfig) -> str:
    """Why /ping failed: a KServe v2 server (its own health path answers), or nothing listening."""
    import urllib.request

    try:
        with urllib.request.urlopen(url.rstrip("/") + "/v2/health/ready", timeout=2) as answer:
            if answer.status == 200:
                return "this is " + _KSERVE_FIX[2:]
    except OSError:
        pass
    if "triton" in _image_name(config):
        return _KSERVE_FIX[0].upper() + _KSERVE_FIX[1:]
    return "start the container, or fix --container-url"


def _image_name(config: DeploymentConfig) -> str:
    """The model image's name or framework, lower case ('' when unknown)."""
    container = config.container
    image = container.Image if container is not None else None
    if image is None:
        return ""
    return str(getattr(image, "Framework", image)).lower()


def _output_fix(reply: ContainerReply) -> str | None:
    """The fix for an answer in a shape the explainer cannot read, when the shape is a known one."""
    text = reply.body[:2000].decode("utf-8", "replace").strip()
    if text.startswith("{") and "\n" not in text and '"predictions"' in text:
        return (
            'the container answers one JSON object ({"predictions": [...]}, as MLflow\'s scoring server and '
            "TensorFlow Serving do); the explainer needs one CSV line or one JSON Lines object per record: add an "
            "output function to the serving code that writes one line per record, and answer with the Accept the "
            "explainer sends (text/csv or application/jsonlines); for MLflow, clarify-kit mlflow-adaptor does both"
        )
    return None


def container_precheck(
    config: DeploymentConfig,
    url: str,
    *,
    transport: Transport | None = None,
    target_model: str | None = None,
    latency_batches: int = 3,
    baseline_text: str | None = None,
) -> Report:
    """Static precheck plus the dynamic checks against the container at ``url``.

    Parameters
    ----------
    config: the deployment config.
    url: base URL of the model container (``/ping`` and ``/invocations`` below it).
    transport: how to reach it (default: HTTP).
    target_model: for multi-model containers; default: the first of ``ClarifyKit.TargetModels``.
    latency_batches: how many full synthetic batches to time (the median is used).
    baseline_text: the S3 baseline's content, when the config has ShapBaselineUri.
    """
    http = transport or HttpTransport(url)
    if target_model is None and config.ClarifyKit.TargetModels:
        target_model = config.ClarifyKit.TargetModels[0]
    probe = _Probe(config, http, url, target_model, baseline_text)
    if config.clarify is None:
        return Report.from_assessment(assess(config, baseline_text=baseline_text))
    if probe.spec.is_text:
        require("spacy")  # named before the container is probed, not as a failed check after it
    ping = getattr(http, "ping", None)
    if ping is not None and not probe.check("ping", bool(ping()), f"GET {url}/ping", fix=_ping_fix(url, config)):
        return _merge(config, probe.report, None, baseline_text=baseline_text)
    records = probe.records()
    if not records:
        probe.check("records", False, "no sample record: set ClarifyKit.Container.SampleRecords")
        return _merge(config, probe.report, None, baseline_text=baseline_text)
    single = probe.outputs("single record", records[0], 1)
    pair, batch = _batches(probe, records) if single else (None, None)
    outputs = (single or []) + (pair or [])
    _scores_and_expression(probe, outputs)
    timed = _latency(probe, records[0], latency_batches, batch) if single else None
    return _merge(config, probe.report, timed, batch, baseline_text=baseline_text)


def _batches(probe: _Probe, records: list[str]) -> tuple[list[str] | None, int | None]:
    """The two-record batch: required with MaxRecordCount >= 2; without one, a refusal means the explainer falls
    back to single records (DG-PRECHECK), reported with its cost. Returns the outputs and a forced batch size."""
    spec = probe.spec
    body = spec.encode_records(spec.parse_request("\n".join((records * 2)[:2])))
    if spec.max_record_count == 1:
        return None, 1
    if spec.max_record_count is not None or probe.accepts(body, 2):
        return probe.outputs("two-record batch", body, 2), None
    probe.report.add(
        "warning",
        f"{INFERENCE}.MaxRecordCount",
        "the container accepts only one record per "
        "request: every synthetic record is a request of its own (see the latency estimate); accept "
        "batches, or set MaxRecordCount: 1 to say so",
        "container",
    )
    return None, 1


def _scores_and_expression(probe: _Probe, outputs: list[str]) -> None:
    spec = probe.spec
    for i, line in enumerate(outputs):
        try:
            scores = spec.scores(line)
            labels = spec.labels(line)
        except (CodecError, ExpressionError) as err:
            selector = "ProbabilityIndex" if base_content_type(spec.accept) == "text/csv" else "ProbabilityAttribute"
            probe.check(
                "scores",
                False,
                str(err),
                path=f"{INFERENCE}.{selector}",
                received=_short(line),
                fix="point the selector at the probability (or score) in the container output",
            )
            return
        if labels is not None and len(labels) != len(scores):
            probe.check("labels", False, f"{len(labels)} labels for {len(scores)} scores", received=_short(line))
            return
        if i == 0:
            probe.check(
                "scores",
                True,
                f"{len(scores)} score(s) per record, e.g. {scores}" + (f", labels {labels}" if labels else ""),
            )
    expression = spec.enable_explanations
    if expression is None or not outputs:
        return
    values = []
    for line in outputs:
        try:
            result = evaluate(expression, spec.output_record(line))
        except (ExpressionError, CodecError) as err:
            probe.check(
                "EnableExplanations", False, str(err), path=f"{CLARIFY}.EnableExplanations", received=_short(line)
            )
            return
        if not result.is_boolean:
            probe.check(
                "EnableExplanations",
                False,
                f"{expression!r} gives {result.describe()}",
                path=f"{CLARIFY}.EnableExplanations",
                received=_short(line),
                fix="compare with a backticked literal, e.g. [0]>`0.5`",
            )
            return
        values.append(result.value)
    probe.check("EnableExplanations", True, f"{expression!r} gives {values} on the container's outputs")


def _latency(probe: _Probe, record: str, repeats: int, forced_batch: int | None) -> tuple[float, float] | None:
    spec = probe.spec
    try:
        explainer = Explainer(spec, probe.transport)
        features = spec.parse_request(record)[0]
        rows = explainer.synthetic_rows(features)
    except (KitError, IndexError) as err:
        probe.check("synthetic batch", False, f"cannot build synthetic records: {err}")
        return None
    if not rows:  # one feature: nothing to sample, the prediction call is the whole cost
        probe.check("synthetic batch", True, "one feature: no synthetic records to send")
        return None
    batch = batches_of(rows, forced_batch or spec.max_record_count, spec.max_payload_bytes)[0]
    if forced_batch == 1:
        repeats = max(repeats, 20)  # single requests: time enough of them for a stable median
    body = "\n".join(batch)
    size = len(body.encode("utf-8"))
    if not probe.check(
        "payload",
        size <= spec.max_payload_bytes,
        f"a batch of {len(batch)} synthetic records is {size} bytes (MaxPayloadInMB {spec.max_payload_mb})",
        path=f"{INFERENCE}.MaxPayloadInMB",
    ):
        return None
    if probe.outputs(f"synthetic batch of {len(batch)}", body, len(batch)) is None:
        return None
    return _timings(probe, record, body, len(batch), repeats)


_IN_FLIGHT = 2  # the explainer keeps this many container requests in flight (clarify_kit.explainer.pipeline)


def _timings(probe: _Probe, record: str, body: str, size: int, repeats: int) -> tuple[float, float]:
    """ms per synthetic record and per request as the explainer will see them: a single record and full batches
    timed one at a time, then two batches at once (the explainer's requests in flight), whose speed-up divides
    both; recorded as a check."""
    full = _median([probe.post(body)[1] for _ in range(max(1, repeats))])
    single = _median([probe.post(record)[1] for _ in range(max(3, repeats))])
    per_record = (full - single) / max(1, size - 1)
    if per_record <= 0:  # a batch took no longer than one record: the per-record cost is below resolution
        per_record = full / size  # an upper bound
    per_request = max(single - per_record, 0.0)
    pairs = []
    with ThreadPoolExecutor(max_workers=_IN_FLIGHT) as pool:
        for _ in range(max(1, repeats)):
            started = time.perf_counter()
            list(pool.map(lambda _: probe.post(body), range(_IN_FLIGHT)))
            pairs.append(time.perf_counter() - started)
    speedup = min(float(_IN_FLIGHT), max(1.0, _IN_FLIGHT * full / _median(pairs)))
    ms_record, ms_request = per_record * 1000 / speedup, per_request * 1000 / speedup
    probe.check(
        "latency",
        True,
        f"{per_record * 1000:.4f} ms per synthetic record and {per_request * 1000:.2f} ms per request (batches of "
        f"{size}, medians); {_IN_FLIGHT} batches at once ran {speedup:.2f}x as fast as one after the other, so the "
        f"estimate counts {ms_record:.4f} ms per record and {ms_request:.2f} ms per request",
    )
    return ms_record, ms_request


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[len(ordered) // 2]


def _merge(
    config: DeploymentConfig,
    dynamic: Report,
    timed: tuple[float, float] | None,
    batch: int | None = None,
    *,
    baseline_text: str | None = None,
) -> Report:
    per_record_ms, per_request_ms = timed if timed is not None else (None, None)
    report = Report.from_assessment(
        assess(
            config,
            measured_ms_per_record=per_record_ms,
            measured_batch=batch,
            baseline_text=baseline_text,
            measured_ms_per_request=per_request_ms,
        )
    )
    # The static advice to "run the container precheck" is moot here: it ran (its checks say why nothing was timed).
    report.findings = [
        f for f in report.findings if not (f.level == "note" and f.path.endswith("Latency.ContainerMsPerRecord"))
    ]
    report.extend(dynamic)
    return report
