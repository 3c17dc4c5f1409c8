"""The Clarify explainer's per-request pipeline (docs/explainer.md 3.1), shared by the local endpoint and the
self-hosted explainer's container server.

Forward the records to the model container, evaluate EnableExplanations on each output record, build the
Kernel SHAP synthetic dataset of every selected record (clarify_kit.explainer.rows), score it on the container in
batches (clarify_kit.explainer.scoring), and answer with the documented response envelope. Failures surface as the
SageMaker Runtime errors the service would give (clarify_kit.explainer.runtime_errors).
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from clarify_kit.core.codecs import SUPPORTED_CONTENT_TYPES, base_content_type, output_records
from clarify_kit.core.custom_attributes import CUSTOM_ATTRIBUTES_HEADER, split_enable_explanations
from clarify_kit.core.errors import CodecError, ExpressionError, KitError
from clarify_kit.core.expressions import compile_expression, evaluate
from clarify_kit.core.extras import require
from clarify_kit.core.kernel_shap import attribute, logit, standard_errors
from clarify_kit.core.limits import EXPRESSION_MAX_CHARS, INVOKE_TIMEOUT_S
from clarify_kit.core.response import build_response
from clarify_kit.core.spec import ExplainerSpec
from clarify_kit.explainer.rounds import sample_to_target
from clarify_kit.explainer.rows import Record, SyntheticRows
from clarify_kit.explainer.runtime_errors import ServiceError, model_error, timeout_error
from clarify_kit.explainer.scoring import REPROBE_S, Call, ContainerScorer
from clarify_kit.explainer.transport import ContainerReply, Transport

__all__ = ["REPROBE_S", "Explainer", "model_error", "self_hosted_switch", "timeout_error"]


class Explainer:
    """The Clarify explainer pipeline for one endpoint config, against one model container."""

    def __init__(
        self, spec: ExplainerSpec, transport: Transport, *, timeout: float = INVOKE_TIMEOUT_S, concurrency: int = 2
    ) -> None:
        self.spec = spec
        self.timeout = timeout
        self.baseline = spec.baseline_rows()
        if not self.baseline:
            raise KitError(
                "the explainer needs the baseline's records: an inline ShapBaseline, or the S3 "
                "baseline read for it (clarify-kit reads ShapBaselineUri from S3, or --baseline-file)"
            )
        self._default_expression = spec.enable_explanations
        if spec.enable_explanations is not None:
            # An expression that does not compile fails endpoint creation on the service (DG-CREATE): here, the
            # start of the local endpoint or the self-hosted explainer, with the caret under the problem.
            try:
                compile_expression(spec.enable_explanations)
            except ExpressionError as err:
                raise ExpressionError(
                    f"EndpointConfig.ExplainerConfig.ClarifyExplainerConfig.EnableExplanations: {err}"
                ) from None
        self.kinds = spec.feature_kinds(self.baseline[0])
        if "text" in self.kinds:
            require("spacy")  # before the first request, not in the middle of one
        self.rows = SyntheticRows(spec, self.baseline, self.kinds)
        self.scorer = ContainerScorer(spec, transport, timeout=timeout, concurrency=concurrency)
        # Whether the container has answered a prediction call: until it has, no synthetic record is sent before
        # the prediction call succeeds (a container that refuses the call costs one request, not a thousand).
        self._answered = False
        # The expected value (the baseline's mean score) per target model, with the transport's generation.
        self._expected: dict[str | None, tuple[np.ndarray, int | None]] = {}
        self._expected_lock = threading.Lock()

    @property
    def single_records(self) -> bool:
        """Whether the container is being sent single records (it refused a batch, no MaxRecordCount set)."""
        return self.scorer.single_records

    @property
    def concurrency(self) -> int:
        return self.scorer.concurrency

    @property
    def transport(self) -> Transport:
        """How the container is reached (replaceable: the scorer's transport)."""
        return self.scorer.transport

    @transport.setter
    def transport(self, transport: Transport) -> None:
        self.scorer.transport = transport

    def synthetic_rows(self, features: list[Any], kind: str | None = None) -> list[str]:
        """The synthetic records the explainer sends to the container to explain one record."""
        return self.rows.synthetic_rows(features, kind)

    # --- the request pipeline -------------------------------------------------------------------------------

    def invoke(
        self,
        body: bytes,
        *,
        content_type: str | None,
        accept: str | None,
        enable_explanations: str | None = None,
        target_model: str | None = None,
        started: float | None = None,
        custom_attributes: str | None = None,
    ) -> tuple[dict[str, Any], str]:
        """Run one InvokeEndpoint request; returns the response envelope and the container's content type.

        ``started`` is the request's arrival (time.monotonic()): the timeout counts from it, queueing included.
        """
        started = time.monotonic() if started is None else started
        kind = base_content_type(content_type or self.spec.content_type)
        if kind not in SUPPORTED_CONTENT_TYPES:
            raise ServiceError(
                "ValidationError",
                f"ContentType {content_type!r} is not supported by the Clarify "
                f"explainer; use one of {', '.join(SUPPORTED_CONTENT_TYPES)}",
            )
        accept = accept or self.spec.accept
        expression = self._expression(enable_explanations)
        if self._answered and (expression is None or expression.strip() == "`true`"):
            answer = self._invoke_all(body, kind, accept, target_model, started, custom_attributes)
            if answer is not None:
                return answer
        reply = self.scorer.post(body, kind, accept, target_model, started, custom_attributes)
        text, outputs, requests = self._outputs(reply, body, kind, accept)
        self._answered = True
        selected = self._select(expression, outputs, requests)
        labels = self._labels(outputs)
        call = Call(
            kind,
            accept,
            target_model,
            started,
            self._prediction_scores(outputs, reply, accept, selected),
            custom_attributes=custom_attributes,
        )
        explanations = self._explain(selected, requests, call)
        return build_response(reply.content_type or accept, text, explanations, labels), reply.content_type

    def _invoke_all(
        self,
        body: bytes,
        kind: str,
        accept: str,
        target_model: str | None,
        started: float,
        custom_attributes: str | None = None,
    ) -> tuple[dict[str, Any], str] | None:
        """When every record will be explained, score the synthetic records while the prediction call runs.

        The result is the same as the sequential pipeline's; only the waiting overlaps. Returns None (and the
        sequential path takes over, so that the container's own error comes first) when the request cannot be
        read or does not fit the baseline.
        """
        try:
            requests = self.spec.parse_request(body.decode("utf-8"), kind)
            width = len(self.baseline[0])
            if not requests or self.spec.is_text or any(len(r) != width for r in requests):
                return None
        except (UnicodeDecodeError, CodecError, ExpressionError):
            return None
        if len(requests) * self.rows.rows_per_record(width) > self.rows.chunk_rows():
            return None  # too large to build at once: the sequential path streams it in chunks
        if self._in_rounds:
            return None  # rounds need each record's prediction before their first draw
        call = Call(kind, accept, target_model, started, custom_attributes=custom_attributes)
        records = self.rows.records(range(len(requests)), requests, kind)
        self.scorer.reprobe()
        batches = self.rows.batches(records, kind, self.scorer.batch_limit)
        # The first synthetic batch is composed before the prediction call leaves: the batches are the critical
        # path (the prediction's answer is needed only at the end), and composing while the prediction call's
        # thread holds the GIL took three times as long.
        first = next(batches, None)
        # the prediction call is under way while the synthetic records are built and scored in this thread
        prediction = self.scorer.post_later(body, call)
        try:
            scores = self.scorer.score(
                batches if first is None else itertools.chain([first], batches), call, alongside=prediction
            )
        except BaseException:
            refused = prediction.refusal()
            if isinstance(refused, ServiceError):
                raise refused from None  # the container's own answer to the prediction call comes first
            raise
        try:
            reply = prediction.result()
            text, outputs, _ = self._outputs(reply, body, kind, accept, requests)
            call.predictions = self._prediction_scores(outputs, reply, accept, range(len(requests)))
        except ServiceError:
            call.cancelled.set()
            raise
        explanations = self._attribute(records, scores, len(requests), call)
        return build_response(
            reply.content_type or accept, text, explanations, self._labels(outputs)
        ), reply.content_type

    def _outputs(
        self, reply: ContainerReply, body: bytes, kind: str, accept: str, requests: list[list[Any]] | None = None
    ) -> tuple[str, list[str], list[list[Any]]]:
        """The container's text, its output records and the request's records, checked against each other."""
        text = self.scorer.decode(reply)
        if requests is None:
            try:
                requests = self.spec.parse_request(body.decode("utf-8"), kind)
            except (UnicodeDecodeError, CodecError, ExpressionError) as err:
                raise ServiceError(
                    "ValidationError", f"the explainer cannot read the request as {kind}: {err}"
                ) from err
        if not requests:
            raise ServiceError("ValidationError", "the body holds no record (blank lines only): send at least one")
        try:  # one line per record, or the documented one-line CSV form (the container precheck reads the same)
            outputs, _ = output_records(text, reply.content_type or accept, len(requests))
        except CodecError as err:
            raise model_error(200, "The explainer cannot read the container output.", str(err)) from err
        if len(outputs) != len(requests):
            raise model_error(
                200,
                "The container must answer one output record per input record.",
                f"{len(outputs)} output records for {len(requests)} input records",
            )
        return text, outputs, requests

    def _expression(self, override: str | None) -> Any:
        expression = override if override is not None else self._default_expression
        if expression is None:
            return None
        if override is not None and not 1 <= len(override) <= EXPRESSION_MAX_CHARS:
            raise ServiceError(
                "ValidationError",
                f"EnableExplanations is {len(override)} characters; it must be 1 to {EXPRESSION_MAX_CHARS}",
            )
        try:
            compile_expression(expression)
        except ExpressionError as err:
            raise ServiceError("ValidationError", f"EnableExplanations {expression!r}: {err}") from err
        return expression

    def _select(self, expression: str | None, outputs: list[str], requests: list[list[Any]]) -> list[int]:
        if expression is None:
            return list(range(len(outputs)))
        chosen = []
        for i, record in enumerate(outputs):
            try:
                result = evaluate(expression, self.spec.output_record(record))
            except (ExpressionError, CodecError) as err:
                raise ServiceError(
                    "ValidationError", f"EnableExplanations {expression!r} failed on record {i + 1}: {err}"
                ) from err
            if not result.is_boolean:
                raise ServiceError(
                    "ValidationError",
                    f"EnableExplanations {expression!r} evaluated to "
                    f"{json.dumps(result.value)} on record {i + 1} ({record.strip()!r}); it must give "
                    "a boolean: compare with a backticked literal, e.g. [0]>`0.5`",
                )
            if result.value:
                chosen.append(i)
        return chosen

    def _labels(self, outputs: list[str]) -> list[str] | None:
        if self.spec.label_headers is not None:
            return list(self.spec.label_headers)
        if outputs and (self.spec.label_index is not None or self.spec.label_attribute is not None):
            try:
                return self.spec.labels(outputs[0])
            except (CodecError, ExpressionError) as err:
                raise model_error(200, "The explainer cannot read the label headers.", str(err)) from err
        return None

    # --- explanations ---------------------------------------------------------------------------------------

    def _explain(
        self, selected: Sequence[int], requests: list[list[Any]], call: Call
    ) -> list[list[dict[str, Any]] | None]:
        """Explain the selected records in chunks whose synthetic rows fit a few container batches, so that
        memory stays bounded by the chunk, not by the request."""
        out: list[list[dict[str, Any]] | None] = [None] * len(requests)
        for chunk in self.rows.chunks(selected, requests):
            records = self.rows.records(chunk, requests, call.kind, planned=not self._in_rounds)
            if self._in_rounds:
                self._attribute_in_rounds(records, out, call)
                continue
            self._attribute(
                records,
                self.scorer.score(self.rows.batches(records, call.kind, self.scorer.batch_limit), call),
                out,
                call,
            )
        return out

    @property
    def _in_rounds(self) -> bool:
        """Whether records are sampled to ClarifyKit.SelfHosted.TargetError (tabular data only: a text record's
        units are explained as the Clarify explainer does)."""
        return self.spec.self_hosted and self.spec.target_error is not None and not self.spec.is_text

    def _attribute_in_rounds(self, records: list[Record], out: list[list[dict[str, Any]] | None], call: Call) -> None:
        """Explain tabular records in rounds to the target error (clarify_kit.explainer.rounds)."""
        several = [r for r in records if len(r.features) >= 2]
        for record in records:
            if len(record.features) < 2:  # one feature: its attribution is the prediction minus the expected value
                self._attribute([record], np.empty((0, 1)), out, call)
        if not several:
            return
        expected = self.expected_value(call)
        deltas = []
        for record in several:
            prediction = call.predictions[record.position]
            if self.spec.use_logit:
                deltas.append(logit(prediction) - logit(expected))
            else:
                deltas.append(prediction - expected)
        target = self.spec.target_error
        assert target is not None  # _in_rounds
        finished = sample_to_target(
            several,
            deltas,
            target=target,
            number_of_samples=self.spec.number_of_samples,
            seed=self.spec.seed,
            score=lambda batch: self.scorer.score(self.rows.batches(batch, call.kind, self.scorer.batch_limit), call),
            n_base=len(self.baseline),
            use_logit=self.spec.use_logit,
        )
        for record, estimate in finished:
            out[record.position] = self._features(estimate.phi, record, estimate.standard_error)

    def _prediction_scores(
        self, outputs: list[str], reply: ContainerReply, accept: str, selected: Sequence[int]
    ) -> dict[int, np.ndarray]:
        """The scores of the records to explain, read from the prediction call: the full coalition's values."""
        if not selected:
            return {}
        try:
            scores = self.spec.scores_batch("\n".join(outputs[i] for i in selected), reply.content_type or accept)
        except (CodecError, ExpressionError) as err:
            raise model_error(200, "The explainer cannot read the scores of the predictions.", str(err)) from err
        return dict(zip(selected, scores, strict=True))

    def expected_value(self, call: Call) -> np.ndarray:
        """The mean score over the baseline records (the empty coalition), scored once per target model and
        scored again when the transport had to open a new connection since (a restarted container may serve a
        retrained model: its expected value is not the old one's). A server that closes every connection (HTTP/1.0,
        no keep-alive) has its baseline scored on every explained call: one request more, and never a stale value."""
        generation = getattr(self.transport, "generation", None)
        with self._expected_lock:
            known = self._expected.get(call.target_model)
        if known is not None and known[1] == generation:
            return known[0]
        batches = self.rows.baseline_batches(call.kind, self.scorer.batch_limit)
        value: np.ndarray = np.asarray(self.scorer.score(batches, call).mean(axis=0))
        # the connections this scoring itself opened are the current model's (a keep-alive server opens no more)
        generation = getattr(self.transport, "generation", None)
        with self._expected_lock:
            self._expected[call.target_model] = (value, generation)
        return value

    def _attribute(
        self, records: list[Record], scores: np.ndarray, out: list[list[dict[str, Any]] | None] | int, call: Call
    ) -> list[list[dict[str, Any]] | None]:
        """Turn the scores of every record's synthetic rows into its feature attributions, written into ``out``
        (a list of one entry per request record, or their count for a new list)."""
        if isinstance(out, int):
            out = [None] * out
        n_base = len(self.baseline)
        offset = 0
        for record in records:
            count = record.size
            if count == 0:  # one feature: no coalition to sample, the attribution is f(x) - E[f(x)]
                values = np.empty((0, len(call.predictions[record.position])))
            else:
                values = scores[offset : offset + count].reshape(count // n_base, n_base, -1).mean(axis=1)
            offset += count
            if record.empty_rows:
                values, expected = values[:-1], values[-1]
            else:
                expected = self.expected_value(call)
            result = attribute(
                record.plan, values, call.predictions[record.position], expected, use_logit=self.spec.use_logit
            )
            se = (
                standard_errors(record.plan, values, result, use_logit=self.spec.use_logit)
                if self.spec.self_hosted
                else None
            )
            out[record.position] = self._features(result.phi, record, se)
        return out

    def _features(self, phi: np.ndarray, record: Record, se: np.ndarray | None = None) -> list[dict[str, Any]]:
        """The record's entries of the envelope's ``explanations``; the self-hosted explainer's attribution
        objects carry ``standard_error``, a list parallel to ``attribution`` (docs/explainer.md 3.10)."""
        headers = self.spec.feature_headers
        if record.slots is None:
            feats = []
            for j in range(phi.shape[0]):
                entry: dict[str, Any] = {}
                if headers is not None and j < len(headers):
                    entry["feature_header"] = headers[j]
                entry["attributions"] = [_attribution(phi[j], None if se is None else se[j])]
                feats.append(entry)
            return feats
        by_feature: list[dict[str, Any]] = []
        for j in range(len(record.features)):
            entry = {"feature_header": headers[j]} if headers is not None and j < len(headers) else {}
            entry["feature_type"] = self.kinds[j]
            entry["attributions"] = []
            by_feature.append(entry)
        for column, (j, unit) in enumerate(record.slots):
            attribution = _attribution(phi[column], None if se is None else se[column])
            if unit is not None:
                attribution["description"] = {"partial_text": unit.text, "start_idx": unit.start}
            by_feature[j]["attributions"].append(attribution)
        return by_feature


def _attribution(phi: np.ndarray, se: np.ndarray | None) -> dict[str, Any]:
    out: dict[str, Any] = {"attribution": [float(v) for v in phi]}
    if se is not None:
        out["standard_error"] = [float(v) for v in se]
    return out


def self_hosted_switch(headers: dict[str, str]) -> tuple[str | None, str | None, str | None]:
    """What the self-hosted explainer reads of a request's headers: EnableExplanations (from CustomAttributes), the
    other attributes (they reach the model), and the Accept to ask the model for. The answer is the explainer's
    JSON envelope, so an Accept of JSON (Batch Transform's TransformOutput Accept) or of anything is about the
    envelope: the model is asked for the config's own Accept then (None).

    Raises
    ------
    ServiceError: ValidationError, CustomAttributes that do not parse.
    """
    try:
        expression, others = split_enable_explanations(headers.get(CUSTOM_ATTRIBUTES_HEADER))
    except KitError as err:
        raise ServiceError("ValidationError", str(err)) from err
    accept = headers.get("accept") or ""
    if accept.split(";")[0].strip().lower() in ("", "*/*", "application/json"):
        return expression, others, None
    return expression, others, accept
