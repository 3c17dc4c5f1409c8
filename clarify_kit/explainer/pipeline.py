"""A local emulation of the SageMaker Clarify explainer: the per-request pipeline of docs/explainer.md 3.1.

Forward the records to the model container, evaluate EnableExplanations on each output record, build the
Kernel SHAP synthetic dataset of every selected record, score it on the container in batches bounded by
MaxRecordCount and MaxPayloadInMB, and answer with the documented response envelope. Failures surface as the
SageMaker Runtime errors the service would give (ModelError for the container, ValidationError for the request).
"""

from __future__ import annotations

import itertools
import json
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from clarify_kit.core.codecs import (
    SUPPORTED_CONTENT_TYPES,
    base_content_type,
    format_csv_row,
    output_records,
    template_parts,
)
from clarify_kit.core.errors import CodecError, ContainerError, ExpressionError, KitError, ServiceError
from clarify_kit.core.expressions import compile_expression, evaluate
from clarify_kit.core.extras import require
from clarify_kit.core.kernel_shap import Coalitions, attribute, plan
from clarify_kit.core.limits import AUTO_RECORD_COUNT, EXPRESSION_MAX_CHARS, INVOKE_TIMEOUT_S
from clarify_kit.core.response import build_response
from clarify_kit.core.spec import ExplainerSpec
from clarify_kit.core.synthetic import n_samples
from clarify_kit.core.text_units import Unit, compose, split_units
from clarify_kit.explainer.transport import AnswerTooLarge, ContainerReply, Transport, batches_of

__all__ = ["REPROBE_S", "LocalExplainer", "model_error", "timeout_error"]

_LOG = logging.getLogger("clarify_kit.explainer")
# After falling back to single records, batches are tried again this much later (kit).
REPROBE_S = 60.0
# A batch that failed transiently (5xx, unreachable) is sent again after these pauses (kit).
RETRY_BACKOFF_S = (0.1, 0.4)
# Synthetic rows composed at a time (at least a batch): small enough that the first batch leaves at once, large
# enough that numpy composes them in a few calls.
_COMPOSE_ROWS = 256
# Features per group when composing many synthetic rows (_Composer): 16 joined combinations per group, and two
# groups packed in a byte (the codes are read from np.packbits: keep it 4).
_GROUP = 4


def model_error(status: int, message: str, detail: str) -> ServiceError:
    """A ModelError as SageMaker reports a failing container: its message in the service's words (``Received server
    error (500) from primary with message "..."``), the container's status and message as members, and the kit's
    own explanation (``message``) apart, in ``ExplainerMessage``, so that clients matching the service's text
    behave the same. The local endpoint adds the service's closing sentence and the log stream (see
    clarify_kit.explainer.endpoint); the self-hosted container, which has no log stream of its own, adds neither.

    ``status`` 200 means the container answered but broke the contract (the explainer could not use it): what the
    service says then is not recorded publicly, so the text is the kit's own.
    """
    if status == 200:
        text = f"{message} The container answered 200, but: {detail}"
    else:
        kind = "server" if status >= 500 or status == 0 else "client"
        text = f'Received {kind} error ({status}) from primary with message "{detail}".'
    return ServiceError("ModelError", text, OriginalStatusCode=status, OriginalMessage=detail, ExplainerMessage=message)


@dataclass
class _Call:
    """One InvokeEndpoint request as the pipeline's steps need it: formats, target model, arrival, and the
    prediction call's scores of the records to explain (their full coalitions)."""

    kind: str
    accept: str
    target_model: str | None
    started: float
    predictions: dict[int, np.ndarray] = field(default_factory=dict)
    # Set when the request has failed (or its caller has its answer): no further container call starts for it.
    cancelled: threading.Event = field(default_factory=threading.Event)
    # The caller's CustomAttributes, forwarded verbatim with every container call of the request, as the service does.
    custom_attributes: str | None = None


@dataclass
class _Record:
    """One record selected for explanation, with its synthetic rows.

    ``slots`` maps each explained feature (a mask column) to its record feature and, for text, its unit.
    """

    position: int
    features: list[Any]
    plan: Coalitions
    rows: list[str] = field(default_factory=list)
    slots: list[tuple[int, Unit | None]] | None = None
    # Text: the empty coalition depends on the record (every unit replaced), so its rows follow the plan's.
    empty_rows: bool = False
    # Tabular records are composed batch by batch while earlier batches are scored: the record's encoded cells
    # and its number of rows (masks x baseline records) stand in for ``rows``.
    cells: list[str] | None = None
    row_count: int = 0

    @property
    def size(self) -> int:
        return len(self.rows) if self.cells is None else self.row_count


class _Batch:
    """One container request's synthetic records: the text sent (the records joined by newlines) and how many
    there are. The records one by one are made again only when needed (the fallback to single records), so that
    a batch is composed straight into its text."""

    __slots__ = ("_rows", "count", "text")

    def __init__(self, text: str, count: int, rows: Callable[[], list[str]]) -> None:
        self.text, self.count, self._rows = text, count, rows

    @classmethod
    def of(cls, rows: list[str]) -> _Batch:
        return cls("\n".join(rows), len(rows), lambda: rows)

    def __len__(self) -> int:
        return self.count

    def rows(self) -> list[str]:
        return self._rows()


class LocalExplainer:
    """The Clarify explainer pipeline for one endpoint config, against one model container."""

    def __init__(
        self, spec: ExplainerSpec, transport: Transport, *, timeout: float = INVOKE_TIMEOUT_S, concurrency: int = 2
    ) -> None:
        self.spec = spec
        self.transport = transport
        self.timeout = timeout
        self.concurrency = max(1, concurrency)
        self.baseline = spec.baseline_rows()
        if not self.baseline:
            raise KitError(
                "the local explainer needs the baseline's records: an inline ShapBaseline, or the S3 "
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
        # Set when the container refused a batch (a 4xx, or not one line per record) but took a single record, with
        # no MaxRecordCount set: single records until REPROBE_S have passed, then batches are tried again.
        self.single_records = False
        self._single_since = 0.0
        # Whether the container has answered a prediction call: until it has, no synthetic record is sent before
        # the prediction call succeeds (a container that refuses the call costs one request, not a thousand).
        self._answered = False
        # The expected value (the baseline's mean score) per target model: scored once, then kept.
        self._expected: dict[str | None, tuple[np.ndarray, int | None]] = {}
        self._expected_lock = threading.Lock()
        # Threads kept for the container calls (created on first use): a prediction call overlapping its synthetic
        # batches, and the batches in flight of every request (each request keeps ``concurrency`` of them).
        self._pools: dict[str, ThreadPoolExecutor] = {}
        self._pools_lock = threading.Lock()

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
        reply = self._post(body, kind, accept, target_model, started, custom_attributes)
        text, outputs, requests = self._outputs(reply, body, kind, accept)
        self._answered = True
        selected = self._select(expression, outputs, requests)
        labels = self._labels(outputs)
        call = _Call(
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
        if len(requests) * self._rows_per_record(width) > self._chunk_rows():
            return None  # too large to build at once: the sequential path streams it in chunks
        call = _Call(kind, accept, target_model, started, custom_attributes=custom_attributes)
        records = self._records(range(len(requests)), requests, kind)
        self._reprobe()
        batches = self._batches(records, kind)
        # The first synthetic batch is composed before the prediction call leaves: the batches are the critical
        # path (the prediction's answer is needed only at the end), and composing while the prediction call's
        # thread holds the GIL took three times as long.
        first = next(batches, None)
        # the prediction call runs while the synthetic records are built and scored in this thread
        prediction = self._pool("prediction", 8).submit(
            self._post, body, kind, accept, target_model, started, custom_attributes
        )
        # a refused prediction call stops the synthetic batches not yet sent
        prediction.add_done_callback(lambda done: call.cancelled.set() if done.exception() else None)
        try:
            scores = self._score(batches if first is None else itertools.chain([first], batches), call)
        except BaseException:
            refused = None if prediction.cancel() else prediction.exception()
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
        text = self._decode(reply)
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
        self, selected: Sequence[int], requests: list[list[Any]], call: _Call
    ) -> list[list[dict[str, Any]] | None]:
        """Explain the selected records in chunks whose synthetic rows fit a few container batches, so that
        memory stays bounded by the chunk, not by the request."""
        out: list[list[dict[str, Any]] | None] = [None] * len(requests)
        for chunk in self._chunks(selected, requests):
            records = self._records(chunk, requests, call.kind)
            self._attribute(records, self._score(self._batches(records, call.kind), call), out, call)
        return out

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

    def expected_value(self, call: _Call) -> np.ndarray:
        """The mean score over the baseline records (the empty coalition), scored once per target model and
        scored again when the transport had to open a new connection since (a restarted container may serve a
        retrained model: its expected value is not the old one's). A server that closes every connection (HTTP/1.0,
        no keep-alive) has its baseline scored on every explained call: one request more, and never a stale value."""
        generation = getattr(self.transport, "generation", None)
        with self._expected_lock:
            known = self._expected.get(call.target_model)
        if known is not None and known[1] == generation:
            return known[0]
        rows = self._lines(self._cells(self.baseline, call.kind), call.kind)
        limit = self.spec.max_record_count or (1 if self.single_records else None)
        batches = [_Batch.of(b) for b in batches_of(rows, limit, self.spec.max_payload_bytes)]
        value: np.ndarray = np.asarray(self._score(batches, call).mean(axis=0))
        # the connections this scoring itself opened are the current model's (a keep-alive server opens no more)
        generation = getattr(self.transport, "generation", None)
        with self._expected_lock:
            self._expected[call.target_model] = (value, generation)
        return value

    def _chunk_rows(self) -> int:
        """Synthetic rows built at once: four container batches (MaxRecordCount, default AUTO_RECORD_COUNT)."""
        return 4 * (self.spec.max_record_count or AUTO_RECORD_COUNT)

    def _rows_per_record(self, width: int) -> int:
        return n_samples(width, self.spec.number_of_samples) * len(self.baseline)

    def _chunks(self, selected: Sequence[int], requests: list[list[Any]]) -> list[list[int]]:
        chunks: list[list[int]] = []
        rows = 0
        limit = self._chunk_rows()
        width = len(self.baseline[0])
        for position in selected:
            # A text record's size is known once its units are split: one per chunk. A record of the wrong width
            # costs nothing here; building it raises the ValidationError.
            cost = (
                limit
                if self.spec.is_text
                else (self._rows_per_record(width) if len(requests[position]) == width else 1)
            )
            if chunks and rows + cost <= limit:
                chunks[-1].append(position)
                rows += cost
            else:
                chunks.append([position])
                rows = cost
        return chunks

    def _attribute(
        self, records: list[_Record], scores: np.ndarray, out: list[list[dict[str, Any]] | None] | int, call: _Call
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
            out[record.position] = self._features(result.phi, record)
        return out

    def _records(self, selected: Sequence[int], requests: list[list[Any]], kind: str) -> list[_Record]:
        # Cells stay as the client wrote them (CSV text, JSON values): no float reformatting.
        width = len(self.baseline[0])
        records: list[_Record] = []
        for position in selected:
            features = requests[position]
            if len(features) != width:
                raise ServiceError(
                    "ValidationError",
                    f"record {position + 1} has {len(features)} features; the SHAP baseline has {width}",
                )
            if self.spec.is_text:
                records.append(self._text_record(position, features, kind))
                continue
            coalitions = plan(width, self.spec.number_of_samples, self.spec.seed)  # fresh draws without a Seed
            x = self._cells([features], kind)[0]
            count = len(coalitions.masks) * len(self.baseline)
            records.append(_Record(position, features, coalitions, cells=x, row_count=count))
        return records

    def _batches(self, records: list[_Record], kind: str) -> Iterator[_Batch]:
        """The records' synthetic rows in container batches (MaxRecordCount, MaxPayloadInMB), composed as they are
        sent: the batches are the ones the whole list would give."""
        limit = self.spec.max_record_count or (1 if self.single_records else None)
        size = limit or AUTO_RECORD_COUNT
        base = self._cells(self.baseline, kind)
        if all(self._fits_by_count(r, base, kind, size) for r in records):
            yield from self._counted_batches(records, base, kind, size)  # no row can break the payload limit
            return
        buffer: list[str] = []
        for rows in self._row_chunks(records, base, kind, max(size, _COMPOSE_ROWS)):
            buffer.extend(rows)
            if not buffer:
                continue
            *full, buffer = batches_of(buffer, limit, self.spec.max_payload_bytes)
            for batch in full:
                yield _Batch.of(batch)
            if len(buffer) >= size:
                yield _Batch.of(buffer)
                buffer = []
        if buffer:
            yield _Batch.of(buffer)

    def _counted_batches(self, records: list[_Record], base: list[list[str]], kind: str, size: int) -> Iterator[_Batch]:
        """Batches of ``size`` rows across the records, each composed straight into its text."""
        frame = self._frame(kind)
        spans: list[tuple[_Composer, int, int]] = []
        filled = 0
        for record in records:
            assert record.cells is not None  # _fits_by_count holds for tabular records only
            composer = _Composer(record.cells, base, record.plan.masks, frame)
            start = 0
            while start < record.row_count:
                stop = min(record.row_count, start + size - filled)
                spans.append((composer, start, stop))
                filled += stop - start
                start = stop
                if filled == size:
                    yield _spans_batch(spans)
                    spans, filled = [], 0
        if spans:
            yield _spans_batch(spans)

    def _fits_by_count(self, record: _Record, base: list[list[str]], kind: str, size: int) -> bool:
        """Whether ``size`` of the record's longest possible rows fit MaxPayloadInMB (then no row needs measuring)."""
        if record.cells is None:
            return False
        longest = [max(len(c.encode()) for c in column) for column in zip(record.cells, *base, strict=True)]
        head, tail = template_parts(self.spec.content_template) if kind != "text/csv" else ("", "")
        row = sum(longest) + max(0, len(longest) - 1) + len(head.encode()) + len(tail.encode()) + 2
        return size * (row + 1) <= self.spec.max_payload_bytes

    def _row_chunks(self, records: list[_Record], base: list[list[str]], kind: str, chunk: int) -> Iterator[list[str]]:
        per = max(1, chunk // max(1, len(base)))
        frame = self._frame(kind)
        for record in records:
            if record.cells is None:
                yield record.rows
                continue
            compose = _Composer(record.cells, base, record.plan.masks, frame)
            for start in range(0, record.row_count, per * len(base)):
                yield compose.rows(start, min(record.row_count, start + per * len(base)))

    def _text_record(self, position: int, features: list[Any], kind: str) -> _Record:
        """A record with text features: every unit of every text feature is a feature of its own."""
        spec = self.spec
        kinds = self.kinds
        slots: list[tuple[int, Unit | None]] = []
        units: dict[int, list[Unit]] = {}
        for j, value in enumerate(features):
            if kinds[j] == "text":
                try:
                    units[j] = split_units(str(value), spec.language or "xx", spec.granularity or "token")
                except CodecError as err:
                    raise ServiceError("ValidationError", f"record {position + 1}, feature {j + 1}: {err}") from err
                slots.extend((j, unit) for unit in units[j])
            else:
                slots.append((j, None))
        coalitions = plan(len(slots), spec.number_of_samples, spec.seed)
        masks = np.concatenate([coalitions.masks, np.zeros((1, len(slots)), dtype=bool)])  # + the empty one
        columns: dict[int, list[int]] = {}
        for column, (j, _) in enumerate(slots):
            columns.setdefault(j, []).append(column)
        rows = []
        for mask in masks.tolist():
            for base in self.baseline:
                cells: list[Any] = []
                for j, value in enumerate(features):
                    if j in units:
                        keep = [mask[c] for c in columns.get(j, [])]
                        text = str(value)
                        start = units[j][0].start if units[j] else len(text)
                        cells.append(compose(units[j], keep, str(base[j]), text[:start]) if units[j] else text)
                    else:
                        cells.append(value if mask[columns[j][0]] else base[j])
                rows.append(cells)
        encoded = self._cells(rows, kind)
        return _Record(position, features, coalitions, self._lines(encoded, kind), slots, empty_rows=True)

    def synthetic_rows(self, features: list[Any], kind: str | None = None) -> list[str]:
        """The synthetic records the explainer sends to the container to explain one record."""
        kind = base_content_type(kind or self.spec.content_type)
        if self.spec.is_text:  # every text unit is a feature of its own
            return self._text_record(0, features, kind).rows
        masks = plan(len(features), self.spec.number_of_samples, self.spec.seed).masks
        return self._compose(self._cells([features], kind)[0], self._cells(self.baseline, kind), masks, kind)

    def _cells(self, rows: list[list[Any]], kind: str) -> list[list[str]]:
        if kind == "text/csv":
            return [[_csv_cell(v) for v in row] for row in rows]
        return [[json.dumps(v, separators=(",", ":")) for v in row] for row in rows]

    def _compose(self, x: list[str], baseline: list[list[str]], masks: np.ndarray, kind: str) -> list[str]:
        return _Composer(x, baseline, masks, self._frame(kind)).rows(0, len(masks) * len(baseline))

    def _lines(self, cells: list[list[str]], kind: str) -> list[str]:
        """Records from cells already encoded for ``kind`` (the fast path of codecs.encode_record)."""
        if kind == "text/csv":
            return [",".join(row) for row in cells]
        head, tail = self._frame(kind)
        return [f"{head}{','.join(row)}{tail}" for row in cells]

    def _frame(self, kind: str) -> tuple[str, str]:
        """What comes before and after a record's comma-separated cells: nothing in CSV; in JSON, the content
        template's text around its ``$features`` array."""
        if kind == "text/csv":
            return "", ""
        head, tail = template_parts(self.spec.content_template)
        return head + "[", "]" + tail

    def _score(self, batches: Iterable[_Batch], call: _Call) -> np.ndarray:
        """Score synthetic batches (bounded by MaxRecordCount and MaxPayloadInMB; single records once the container
        has refused a batch and no MaxRecordCount is set), ``concurrency`` requests in flight, while this thread
        composes the next batch."""
        self._reprobe()
        results = self._send_all(batches, call)
        if call.cancelled.is_set():
            raise ServiceError("ServiceUnavailable", "the request was cancelled")
        if not results:  # a one-feature model: nothing to score
            return np.empty((0, 0))
        widths = {r.shape[1] for r in results}
        if len(widths) > 1:
            raise model_error(
                200, "The container answered score lists of different lengths.", f"widths {sorted(widths)}"
            )
        matrix = np.concatenate(results)
        if matrix.ndim != 2 or not np.isfinite(matrix).all():
            raise model_error(
                200,
                "The container returned a score that is not a finite number (NaN or infinity).",
                "non-finite score in the synthetic dataset",
            )
        return matrix

    def _reprobe(self) -> None:
        """A while after falling back to single records, batches are tried again (the container may have
        recovered)."""
        if self.single_records and time.monotonic() - self._single_since > REPROBE_S:
            self.single_records = False

    def _send_all(self, batches: Iterable[_Batch], call: _Call) -> list[np.ndarray]:
        """Each batch's scores, in order, with ``concurrency`` requests in flight; the first error cancels the
        rest."""
        results: list[np.ndarray] = []
        in_flight: deque[Future[np.ndarray]] = deque()
        pool = self._pool("batches", 8 * self.concurrency)
        try:
            for batch in batches:
                if call.cancelled.is_set():
                    break
                while len(in_flight) >= self.concurrency:
                    results.append(in_flight.popleft().result())
                in_flight.append(pool.submit(self._score_if_live, batch, call))
            while in_flight:
                results.append(in_flight.popleft().result())
        except BaseException:
            call.cancelled.set()
            for future in in_flight:  # what has not started never will; what has, ends on its own
                future.cancel()
            raise
        return results

    def _pool(self, name: str, workers: int) -> ThreadPoolExecutor:
        with self._pools_lock:
            pool = self._pools.get(name)
            if pool is None:
                pool = self._pools[name] = ThreadPoolExecutor(workers, thread_name_prefix=f"clarify-kit-{name}")
            return pool

    def _score_if_live(self, batch: _Batch, call: _Call) -> np.ndarray:
        if call.cancelled.is_set():
            raise ServiceError("ServiceUnavailable", "the request was cancelled")
        return self._score_batch(batch, call)

    def _score_batch(self, batch: _Batch, call: _Call) -> np.ndarray:
        """One batch's scores. A transient failure (5xx, unreachable) is retried as such; a batch refused on
        evidence falls back to single records (see _refused)."""
        for attempt in range(1 + len(RETRY_BACKOFF_S)):
            try:
                return self._post_batch(batch, call)
            except ServiceError as err:
                if self._refused(err, batch):
                    return self._singles(batch, call, err)
                status = err.extra.get("OriginalStatusCode", 0)
                transient = err.name == "ModelError" and (status >= 500 or status == 0) and "timed out" not in str(err)
                if not transient or attempt == len(RETRY_BACKOFF_S) or call.cancelled.is_set():
                    raise
                time.sleep(RETRY_BACKOFF_S[attempt])
        raise AssertionError("unreachable")

    def _refused(self, err: ServiceError, batch: _Batch) -> bool:
        """A batch the container answered and refused as a batch: a 4xx, or a 200 that is not one line per record
        (the evidence the service's fallback needs), with no MaxRecordCount set. Never a 5xx, 503 or timeout."""
        status = err.extra.get("OriginalStatusCode", 0)
        refused = err.name == "ModelError" and (400 <= status < 500 or status == 200)
        return refused and len(batch) > 1 and self.spec.max_record_count is None

    def _singles(self, batch: _Batch, call: _Call, refusal: ServiceError) -> np.ndarray:
        """ "SageMaker Clarify will attempt to send a mini-batch of records to the model container first before
        falling back to single record requests" (DG-PRECHECK): only when a single record is taken (else the
        batch's own error is the answer), said once, and tried again as batches after REPROBE_S."""
        rows = batch.rows()
        try:
            first = self._post_batch(_Batch.of(rows[:1]), call)
        except ServiceError:
            raise refusal from None
        if not self.single_records:
            _LOG.warning(
                "the model container refused a batch of %d records (%s) but took one record: sending "
                "single records for the next %.0f s (set MaxRecordCount to choose)",
                len(batch),
                refusal.extra.get("OriginalMessage") or refusal,
                REPROBE_S,
            )
        self.single_records, self._single_since = True, time.monotonic()
        singles: list[np.ndarray | None] = [first] + [None] * (len(batch) - 1)

        def one(i: int) -> None:
            if not call.cancelled.is_set():
                singles[i] = self._post_batch(_Batch.of(rows[i : i + 1]), call)

        _run_all(one, len(batch), self.concurrency, start=1)
        if call.cancelled.is_set():
            raise ServiceError("ServiceUnavailable", "the request was cancelled")
        return np.concatenate([s for s in singles if s is not None])

    def _post_batch(self, batch: _Batch, call: _Call) -> np.ndarray:
        reply = self._post(
            batch.text.encode("utf-8"),
            call.kind,
            call.accept,
            call.target_model,
            call.started,
            call.custom_attributes,
        )
        text = self._decode(reply)
        try:
            scores = self.spec.scores_batch(text, reply.content_type or call.accept)
        except (CodecError, ExpressionError) as err:
            raise model_error(200, "The explainer cannot read the scores of the synthetic records.", str(err)) from err
        if (
            len(scores) == 1
            and len(batch) > 1
            and scores.shape[1] == len(batch)
            and base_content_type(reply.content_type or call.accept) == "text/csv"
        ):
            scores = scores.reshape(-1, 1)  # the documented one-line form: '0.6,0.3' for two records
        if len(scores) != len(batch):
            raise model_error(
                200,
                "The container must answer one output record per input record.",
                f"{len(scores)} output records for a batch of {len(batch)} synthetic records",
            )
        return scores

    def _features(self, phi: np.ndarray, record: _Record) -> list[dict[str, Any]]:
        headers = self.spec.feature_headers
        if record.slots is None:
            feats = []
            for j in range(phi.shape[0]):
                entry: dict[str, Any] = {}
                if headers is not None and j < len(headers):
                    entry["feature_header"] = headers[j]
                entry["attributions"] = [{"attribution": [float(v) for v in phi[j]]}]
                feats.append(entry)
            return feats
        by_feature: list[dict[str, Any]] = []
        for j in range(len(record.features)):
            entry = {"feature_header": headers[j]} if headers is not None and j < len(headers) else {}
            entry["feature_type"] = self.kinds[j]
            entry["attributions"] = []
            by_feature.append(entry)
        for column, (j, unit) in enumerate(record.slots):
            attribution: dict[str, Any] = {"attribution": [float(v) for v in phi[column]]}
            if unit is not None:
                attribution["description"] = {"partial_text": unit.text, "start_idx": unit.start}
            by_feature[j]["attributions"].append(attribution)
        return by_feature

    # --- container calls ------------------------------------------------------------------------------------

    def _post(
        self,
        body: bytes,
        kind: str,
        accept: str,
        target_model: str | None,
        started: float,
        custom_attributes: str | None = None,
    ) -> ContainerReply:
        left = self.timeout - (time.monotonic() - started)
        if left <= 0:
            raise timeout_error(self.timeout)
        try:
            reply = self.transport.post(
                body,
                content_type=kind,
                accept=accept,
                target_model=target_model,
                timeout=left,
                custom_attributes=custom_attributes,
            )
        except TimeoutError as err:
            raise timeout_error(self.timeout) from err
        except AnswerTooLarge as err:
            raise model_error(err.status, "The container's answer is too large for the explainer.", str(err)) from err
        except ContainerError as err:
            raise model_error(0, "The model container could not be reached.", str(err)) from err
        if not 200 <= reply.status < 300:
            detail = reply.body[:1024].decode("utf-8", "replace").strip()
            raise model_error(reply.status, "The model container answered with an error.", detail)
        return reply

    @staticmethod
    def _decode(reply: ContainerReply) -> str:
        try:
            return reply.body.decode("utf-8")
        except UnicodeDecodeError as err:
            raise model_error(
                200, "The container output is not UTF-8 text.", f"{err.reason} at byte {err.start}"
            ) from err


class _Composer:
    """The synthetic rows of one record: per mask and baseline record, the record's cell where the mask is true,
    the baseline's elsewhere (cells already encoded), framed as records of the content type. Row ``r`` is mask
    ``r // B`` against baseline record ``r % B``.

    For many masks the features go in groups of ``_GROUP``: every combination of a group's cells is joined once
    (with the separator that follows it in a record), and a row is then a handful of strings instead of one cell
    per feature; a whole batch is one join of those strings (the rows and text are the same either way).
    """

    def __init__(self, x: list[str], baseline: list[list[str]], masks: np.ndarray, frame: tuple[str, str]) -> None:
        self.x, self.baseline, self.masks = x, baseline, masks
        self.head, self.tail = frame
        m = len(x)
        self.grouped = m >= 2 * _GROUP and len(masks) >= 4 * (1 << _GROUP) * len(baseline)
        if not self.grouped:
            return
        groups = [(lo, min(lo + _GROUP, m)) for lo in range(0, m, _GROUP)]
        last = len(groups) - 1
        pieces: list[str] = []
        self.offsets = np.empty((len(baseline), len(groups)), dtype=np.int64)
        for b, base in enumerate(baseline):
            for g, (lo, hi) in enumerate(groups):
                self.offsets[b, g] = len(pieces)
                before, after = self.head if g == 0 else "", self.tail + "\n" if g == last else ","
                # every combination, counting in binary with the group's first feature as the highest bit
                choices = itertools.product(*((base[j], x[j]) for j in range(lo, hi)))
                pieces.extend([before + ",".join(cells) + after for cells in choices])
        self.pieces = np.array(pieces, dtype=object)
        # each mask's code in each group: the masks padded to whole groups and packed into bytes, two groups a
        # byte (the last group's code shifted back over its padding)
        padded = np.zeros((len(masks), -(-len(groups) // 2) * 2 * _GROUP), dtype=bool)
        padded[:, :m] = masks
        packed = np.packbits(padded, axis=1)
        codes = np.stack([packed >> _GROUP, packed & 0xF], axis=2).reshape(len(masks), -1)[:, : len(groups)]
        self.codes: np.ndarray = codes.astype(np.int64)
        self.codes[:, -1] >>= len(groups) * _GROUP - m

    def _span(self, start: int, stop: int) -> tuple[slice, slice]:
        """The masks that rows [start, stop) come from, and those rows among all the rows of those masks."""
        b = len(self.baseline)
        first = start // b
        return slice(first, -(-stop // b)), slice(start - first * b, stop - first * b)

    def _index(self, start: int, stop: int) -> np.ndarray:
        """The pieces of rows [start, stop): an index (rows, groups) into ``pieces``."""
        masks, rows = self._span(start, stop)
        index: np.ndarray = (self.codes[masks, None, :] + self.offsets[None, :, :]).reshape(-1, self.codes.shape[1])
        return index[rows]

    def text(self, start: int, stop: int) -> str:
        """Rows [start, stop) joined by newlines."""
        if not self.grouped:
            return "\n".join(self.rows(start, stop))
        return "".join(self.pieces[self._index(start, stop).ravel()].tolist())[:-1]

    def rows(self, start: int, stop: int) -> list[str]:
        """Rows [start, stop), one string each."""
        if self.grouped:
            return ["".join(row)[:-1] for row in self.pieces[self._index(start, stop)].tolist()]
        masks, rows = self._span(start, stop)
        xs = np.array(self.x, dtype=object)
        bs = np.array(self.baseline, dtype=object)
        cells = np.where(self.masks[masks, None, :], xs[None, None, :], bs[None, :, :]).reshape(-1, len(self.x))
        head, tail = self.head, self.tail
        return [head + ",".join(row) + tail for row in cells[rows].tolist()]


def _spans_batch(spans: list[tuple[_Composer, int, int]]) -> _Batch:
    """A batch of rows from one or more records' composers: (composer, first row, end row) each."""
    spans = list(spans)
    text = "\n".join(composer.text(start, stop) for composer, start, stop in spans)
    count = sum(stop - start for _, start, stop in spans)
    return _Batch(text, count, lambda: [row for c, start, stop in spans for row in c.rows(start, stop)])


def timeout_error(limit: float) -> ServiceError:
    """The service's answer when an invocation exceeds the limit: a ModelError naming the container."""
    return model_error(
        0,
        f"The invocation exceeded the {limit:.0f} s limit.",
        "Your invocation timed out while waiting for a response from container primary. Review the latency "
        "metrics for each container in Amazon CloudWatch, resolve the issue, and try again.",
    )


def _csv_cell(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return format_csv_row([text]) if any(c in text for c in ',"\n\r') else text


def _run_all(run: Callable[[int], None], count: int, concurrency: int, *, start: int = 0) -> None:
    """``run(i)`` for i in [start, count), ``concurrency`` at a time; the first error cancels what has not started."""
    if concurrency == 1 or count - start <= 1:
        for i in range(start, count):
            run(i)
        return
    # The calling thread takes its share of the work: one thread fewer to hand the GIL to.
    pool = ThreadPoolExecutor(max_workers=min(concurrency, count - start) - 1)
    try:
        futures = [pool.submit(run, i) for i in range(start + 1, count)]
        run(start)
        for future in futures:
            future.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
