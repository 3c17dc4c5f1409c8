"""Scoring on the model container: the explainer's requests (posting, deadlines, the service's errors), its batches
with a few in flight, retries of transient failures, and the fall-back to single records (docs/explainer.md 3.4)."""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from clarify_kit.core.codecs import base_content_type
from clarify_kit.core.errors import CodecError, ContainerError, ExpressionError
from clarify_kit.core.spec import ExplainerSpec
from clarify_kit.explainer.rows import Batch
from clarify_kit.explainer.runtime_errors import ServiceError, model_error, timeout_error
from clarify_kit.explainer.transport import (
    AnswerTooLarge,
    ContainerReply,
    HttpTransport,
    PendingReply,
    Transport,
    answer_cap,
)

__all__ = ["REPROBE_S", "RETRY_BACKOFF_S", "Call", "ContainerScorer", "Later"]

_LOG = logging.getLogger("clarify_kit.explainer")
# After falling back to single records, batches are tried again this much later (kit).
REPROBE_S = 60.0
# A batch that failed transiently (5xx, unreachable) is sent again after these pauses (kit).
RETRY_BACKOFF_S = (0.1, 0.4)


@dataclass
class Call:
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

    def carried(self) -> tuple[str, str, str | None, float, str | None]:
        """What every container call of the request carries: formats, target model, arrival, CustomAttributes."""
        return self.kind, self.accept, self.target_model, self.started, self.custom_attributes


class ContainerScorer:
    """The explainer's calls to one model container: thread-safe, ``concurrency`` batches of a request in flight."""

    def __init__(self, spec: ExplainerSpec, transport: Transport, *, timeout: float, concurrency: int) -> None:
        self.spec, self.transport, self.timeout = spec, transport, timeout
        self.concurrency = max(1, concurrency)
        # Set when the container refused a batch (a 4xx, or not one line per record) but took a single record, with
        # no MaxRecordCount set: single records until REPROBE_S have passed, then batches are tried again.
        self.single_records = False
        self._single_since = 0.0
        # Threads kept for the container calls (created on first use): a prediction call overlapping its synthetic
        # batches, and the batches in flight of every request (each request keeps ``concurrency`` of them).
        self._pools: dict[str, ThreadPoolExecutor] = {}
        self._pools_lock = threading.Lock()

    @property
    def batch_limit(self) -> int | None:
        """The records per synthetic batch: MaxRecordCount, 1 after a refused batch, else None (automatic)."""
        return self.spec.max_record_count or (1 if self.single_records else None)

    def score(self, batches: Iterable[Batch], call: Call, alongside: Later | None = None) -> np.ndarray:
        """Score synthetic batches (bounded by MaxRecordCount and MaxPayloadInMB; single records once the container
        has refused a batch and no MaxRecordCount is set), ``concurrency`` requests in flight, while this thread
        composes the next batch; ``alongside``: a call under way meanwhile (its answer is read as it arrives)."""
        self.reprobe()
        results = self._send_all(batches, call, [] if alongside is None else alongside.pending())
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

    def reprobe(self) -> None:
        """A while after falling back to single records, batches are tried again (the container may have
        recovered)."""
        if self.single_records and time.monotonic() - self._single_since > REPROBE_S:
            self.single_records = False

    def post_later(self, body: bytes, call: Call) -> Later:
        """A call under way while this thread goes on (the prediction call beside the synthetic batches): over
        HTTP written now and its answer read when asked for (or ahead, as batches are written beside it);
        otherwise on a thread of its own, whose failure cancels ``call``'s batches not yet sent."""
        if isinstance(self.transport, HttpTransport):
            try:
                return Later(self, posted=_Posted(self._start(body, *call.carried(), None, [])))
            except ServiceError as err:
                return Later(self, posted=_Posted(None, err))
        future = self.pool("prediction", 8).submit(self.post, body, *call.carried())
        future.add_done_callback(lambda done: call.cancelled.set() if done.exception() else None)
        return Later(self, future=future)

    def _send_all(self, batches: Iterable[Batch], call: Call, alongside: list[PendingReply]) -> list[np.ndarray]:
        """Each batch's scores, in order, with ``concurrency`` requests in flight; the first error cancels the
        rest. Over HTTP the requests are in flight from this thread (each on a connection of its own, written
        before the previous answers are read): a thread of a pool per batch cost more CPU in handing the batches
        over than in posting them."""
        if not isinstance(self.transport, HttpTransport):
            return self._send_all_pooled(batches, call)
        results: list[np.ndarray] = []
        in_flight: deque[tuple[Batch, _Posted]] = deque()
        try:
            for batch in batches:
                if any(p.refused() for p in alongside):  # a refused prediction call: no more synthetic batches
                    call.cancelled.set()
                if call.cancelled.is_set():
                    break
                while len(in_flight) >= self.concurrency:
                    results.append(self._scores_of(*in_flight.popleft(), call))
                in_flight.append((batch, self._begin(batch, call, [posted for _, posted in in_flight], alongside)))
            while in_flight:
                results.append(self._scores_of(*in_flight.popleft(), call))
        except BaseException:
            call.cancelled.set()
            for _, posted in in_flight:  # their answers are not read: their connections are closed
                posted.abandon()
            raise
        return results

    def _begin(self, batch: Batch, call: Call, pending: list[_Posted], alongside: list[PendingReply]) -> _Posted:
        """A batch's first attempt, written and not yet answered (a failure to write it is its answer)."""
        others = [p.reply for p in pending if p.reply is not None] + alongside
        try:
            return _Posted(self._start(batch.body, *call.carried(), len(batch), others))
        except ServiceError as err:
            return _Posted(None, err)

    def _scores_of(self, batch: Batch, posted: _Posted, call: Call) -> np.ndarray:
        """The scores of a batch posted by _begin; its failure is handled as _score_batch handles a first one."""
        try:
            return self._read_scores(self._finish_post(posted), batch, call)
        except ServiceError as err:
            return self._score_batch(batch, call, failed=err)

    def _send_all_pooled(self, batches: Iterable[Batch], call: Call) -> list[np.ndarray]:
        """_send_all for a transport that only posts (in-process ones): a thread of a pool per batch in flight."""
        results: list[np.ndarray] = []
        in_flight: deque[Future[np.ndarray]] = deque()
        pool = self.pool("batches", 8 * self.concurrency)
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

    def pool(self, name: str, workers: int) -> ThreadPoolExecutor:
        with self._pools_lock:
            pool = self._pools.get(name)
            if pool is None:
                pool = self._pools[name] = ThreadPoolExecutor(workers, thread_name_prefix=f"clarify-kit-{name}")
            return pool

    def _score_if_live(self, batch: Batch, call: Call) -> np.ndarray:
        if call.cancelled.is_set():
            raise ServiceError("ServiceUnavailable", "the request was cancelled")
        return self._score_batch(batch, call)

    def _score_batch(self, batch: Batch, call: Call, *, failed: ServiceError | None = None) -> np.ndarray:
        """One batch's scores. A transient failure (5xx, unreachable) is retried as such; a batch refused on
        evidence falls back to single records (see _refused). ``failed``: how its first attempt, made elsewhere,
        failed."""
        for attempt in range(1 + len(RETRY_BACKOFF_S)):
            try:
                if attempt == 0 and failed is not None:
                    raise failed
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

    def _refused(self, err: ServiceError, batch: Batch) -> bool:
        """A batch the container answered and refused as a batch: a 4xx, or a 200 that is not one line per record
        (the evidence the service's fallback needs), with no MaxRecordCount set. Never a 5xx, 503 or timeout."""
        status = err.extra.get("OriginalStatusCode", 0)
        refused = err.name == "ModelError" and (400 <= status < 500 or status == 200)
        return refused and len(batch) > 1 and self.spec.max_record_count is None

    def _singles(self, batch: Batch, call: Call, refusal: ServiceError) -> np.ndarray:
        """ "SageMaker Clarify will attempt to send a mini-batch of records to the model container first before
        falling back to single record requests" (DG-PRECHECK): only when a single record is taken (else the
        batch's own error is the answer), said once, and tried again as batches after REPROBE_S."""
        rows = batch.rows()
        try:
            first = self._post_batch(Batch.of(rows[:1]), call)
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
                singles[i] = self._post_batch(Batch.of(rows[i : i + 1]), call)

        _run_all(one, len(batch), self.concurrency, start=1)
        if call.cancelled.is_set():
            raise ServiceError("ServiceUnavailable", "the request was cancelled")
        return np.concatenate([s for s in singles if s is not None])

    def _post_batch(self, batch: Batch, call: Call) -> np.ndarray:
        return self._read_scores(self.post(batch.body, *call.carried(), records=len(batch)), batch, call)

    def _start(
        self,
        body: bytes,
        kind: str,
        accept: str,
        target_model: str | None,
        started: float,
        custom_attributes: str | None,
        records: int | None,
        pending: list[PendingReply],
    ) -> PendingReply:
        """``post``'s request, written (HttpTransport only); _finish_post reads its answer."""
        assert isinstance(self.transport, HttpTransport)
        options = self._options(kind, accept, target_model, started, custom_attributes, records)
        with self._translated():
            return self.transport.start(body, pending=pending, **options)

    def _finish_post(self, posted: _Posted) -> ContainerReply:
        if posted.reply is None:
            assert posted.error is not None
            raise posted.error
        with self._translated():
            reply = posted.reply.finish()
        return self._checked(reply)

    def _read_scores(self, reply: ContainerReply, batch: Batch, call: Call) -> np.ndarray:
        text = self.decode(reply)
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

    def post(
        self,
        body: bytes,
        kind: str,
        accept: str,
        target_model: str | None,
        started: float,
        custom_attributes: str | None = None,
        *,
        records: int | None = None,
    ) -> ContainerReply:
        """One container call within what is left of the request's time; ``records``: how many the body holds
        (default: its lines), which bounds the answer read (transport.answer_cap)."""
        options = self._options(kind, accept, target_model, started, custom_attributes, records)
        with self._translated():
            reply = self.transport.post(body, **options)
        return self._checked(reply)

    def _options(
        self,
        kind: str,
        accept: str,
        target_model: str | None,
        started: float,
        custom_attributes: str | None,
        records: int | None,
    ) -> dict[str, Any]:
        """A container call's options for the transport, within what is left of the request's time."""
        left = self.timeout - (time.monotonic() - started)
        if left <= 0:
            raise timeout_error(self.timeout)
        return {
            "content_type": kind,
            "accept": accept,
            "target_model": target_model,
            "timeout": left,
            "custom_attributes": custom_attributes,
            "max_answer_bytes": None if records is None else answer_cap(records),
        }

    @contextmanager
    def _translated(self) -> Iterator[None]:
        """The transport's errors as the service's."""
        try:
            yield
        except TimeoutError as err:
            raise timeout_error(self.timeout) from err
        except AnswerTooLarge as err:
            raise model_error(err.status, "The container's answer is too large for the explainer.", str(err)) from err
        except ContainerError as err:
            raise model_error(0, "The model container could not be reached.", str(err)) from err

    @staticmethod
    def _checked(reply: ContainerReply) -> ContainerReply:
        if not 200 <= reply.status < 300:
            detail = reply.body[:1024].decode("utf-8", "replace").strip()
            raise model_error(reply.status, "The model container answered with an error.", detail)
        return reply

    @staticmethod
    def decode(reply: ContainerReply) -> str:
        try:
            return reply.body.decode("utf-8")
        except UnicodeDecodeError as err:
            raise model_error(
                200, "The container output is not UTF-8 text.", f"{err.reason} at byte {err.start}"
            ) from err


class Later:
    """A container call under way (ContainerScorer.post_later): over HTTP, written and not yet read; otherwise a
    thread's future."""

    def __init__(
        self, scorer: ContainerScorer, *, posted: _Posted | None = None, future: Future[ContainerReply] | None = None
    ) -> None:
        self.scorer, self.posted, self.future = scorer, posted, future

    def pending(self) -> list[PendingReply]:
        """The exchange to read ahead while other requests are written (none for a thread's call)."""
        return [self.posted.reply] if self.posted is not None and self.posted.reply is not None else []

    def result(self) -> ContainerReply:
        """The call's reply, or its ServiceError."""
        if self.future is not None:
            return self.future.result()
        assert self.posted is not None
        return self.scorer._finish_post(self.posted)

    def refusal(self) -> BaseException | None:
        """The call's own error, once it has answered (None if it succeeded, or a thread's call had not started)."""
        if self.future is not None:
            return None if self.future.cancel() else self.future.exception()
        try:
            self.result()
        except ServiceError as err:
            return err
        return None


@dataclass
class _Posted:
    """A batch's first attempt under way: its pending reply, or the error that kept it from being written."""

    reply: PendingReply | None
    error: ServiceError | None = None

    def abandon(self) -> None:
        if self.reply is not None:
            self.reply.abandon()


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
