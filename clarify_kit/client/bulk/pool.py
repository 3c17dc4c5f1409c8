"""The worker pool of a bulk run: bounded workers, transient failures retried within a budget, requests that fail
for good bisected (one bad record cannot take its neighbours down), and a breaker for an endpoint that is down."""

from __future__ import annotations

import queue
import random
import threading
import time
from collections.abc import Callable
from typing import Any, TextIO

from clarify_kit.client.bulk.outcomes import BulkInterrupted, BulkSummary, RecordOutcome, record_outcome
from clarify_kit.client.bulk.plan import default_records_per_request, plan_requests
from clarify_kit.client.bulk.progress import Progress
from clarify_kit.client.invoke import EndpointClient
from clarify_kit.client.result import InvokeResult
from clarify_kit.core.errors import InvocationError, KitError, ResponseParseError

__all__ = ["BREAKER_THRESHOLD", "explain_records"]

# Consecutive endpoint-level failures (unreachable, timing out, 5xx) after which the remaining records are not
# sent: the endpoint is down, and sending them would only take minutes to fail the same way.
BREAKER_THRESHOLD = 5


def explain_records(
    client: EndpointClient,
    lines: list[str],
    *,
    content_type: str,
    records_per_request: int | None = None,
    max_workers: int = 4,
    retries: int = 3,
    enable_explanations: str | None = None,
    target_model: str | None = None,
    progress: TextIO | None = None,
    backoff: float = 0.5,
    indexes: list[int] | None = None,
    on_outcome: Callable[[RecordOutcome], None] | None = None,
) -> BulkSummary:
    """Explain the records ``indexes`` (default: all) of ``lines``.

    Every record gets exactly one outcome, in input order: explained, not explained, or failed with the reason.
    ``on_outcome`` sees each outcome as it is decided (from worker threads, one at a time). Transient failures
    are retried within a budget (botocore retries each call first); requests that fail for good are bisected to
    isolate bad records; after BREAKER_THRESHOLD endpoint-level failures in a row the remaining records fail at
    once with the reason.

    Raises
    ------
    BulkInterrupted: Ctrl-C; returns within a second or so, with the outcomes decided until then.
    """
    started = time.monotonic()
    wanted = list(range(len(lines))) if indexes is None else list(indexes)
    per_request = records_per_request or default_records_per_request(client)
    groups = plan_requests([lines[i] for i in wanted], per_request)
    run = _BulkRun(
        client,
        lines,
        content_type=content_type,
        retries=retries,
        backoff=backoff,
        options={"enable_explanations": enable_explanations, "target_model": target_model},
        bar=Progress(len(wanted), progress),
        on_outcome=on_outcome,
        requests=len(groups),
    )
    work: queue.Queue[list[int]] = queue.Queue()
    for group in groups:
        work.put([wanted[i] for i in group])
    run.start_workers(work, max(1, max_workers))
    try:
        while not run.finished.wait(0.2):  # short waits: Ctrl-C reaches this thread at once
            pass
    except KeyboardInterrupt:
        run.stop.set()
        run.bar.close()
        summary = run.summary(wanted, started, final=False)
        raise BulkInterrupted(
            summary, f"interrupted: {summary.count_finished()} of {len(wanted)} records finished"
        ) from None
    run.bar.close()
    if run.error is not None:
        raise run.error
    return run.summary(wanted, started, final=True)


class _BulkRun:
    """The shared state of one bulk run: every record's outcome, the counters, the retry budget and the breaker."""

    def __init__(
        self,
        client: EndpointClient,
        lines: list[str],
        *,
        content_type: str,
        retries: int,
        backoff: float,
        options: dict[str, Any],
        bar: Progress,
        on_outcome: Callable[[RecordOutcome], None] | None,
        requests: int,
    ) -> None:
        self.client, self.lines, self.content_type = client, lines, content_type
        self.max_retries, self.backoff, self.options, self.bar = retries, backoff, options, bar
        self.on_outcome = on_outcome
        self.outcomes: dict[int, RecordOutcome] = {}
        self.requests = self.retries = self.failed_calls = self.splits = 0
        self.retry_budget = max(3, requests // 10)  # retries beyond botocore's own, for the whole run
        self.consecutive_failures = 0
        self.broken: str | None = None  # why the remaining records are not sent
        self.stop, self.finished = threading.Event(), threading.Event()
        self.error: BaseException | None = None
        self.latencies_ms: list[float] = []
        self._lock = threading.Lock()
        self._active = 0

    def start_workers(self, work: queue.Queue[list[int]], count: int) -> None:
        """Daemon threads: they never keep the process alive after Ctrl-C."""
        self._active = count
        for _ in range(count):
            threading.Thread(target=self._worker, args=(work,), daemon=True).start()

    def _worker(self, work: queue.Queue[list[int]]) -> None:
        try:
            while not self.stop.is_set():
                try:
                    group = work.get_nowait()
                except queue.Empty:
                    break
                self.explain(group)
        except BaseException as err:  # noqa: BLE001 - a bug or a setup problem ends the run, reported by the caller
            self.error = err
            self.stop.set()
        finally:
            with self._lock:
                self._active -= 1
                if self._active == 0:
                    self.finished.set()

    def decide(self, outcomes: list[RecordOutcome]) -> None:
        if self.stop.is_set():  # interrupted: the run's summary is taken; these records are redone on --resume
            return
        with self._lock:
            for outcome in outcomes:
                self.outcomes[outcome.index] = outcome
                if self.on_outcome is not None:
                    self.on_outcome(outcome)
        self.bar.advance(outcomes)

    def _endpoint_failure(self, err: InvocationError) -> None:
        with self._lock:
            self.consecutive_failures += 1
            if self.consecutive_failures >= BREAKER_THRESHOLD and self.broken is None:
                self.broken = (
                    f"not sent: the endpoint failed {self.consecutive_failures} requests in a row (last: {err})"
                )

    def call(self, indexes: list[int]) -> InvokeResult:
        """One request for ``indexes``; an endpoint-level failure is retried while the run's budget lasts."""
        body = "\n".join(self.lines[i] for i in indexes).encode("utf-8")
        attempt = 0
        while True:
            with self._lock:
                self.requests += 1
            try:
                result = self.client.invoke(body, content_type=self.content_type, **self.options)
            except InvocationError as err:
                if not err.retryable:
                    raise
                self._endpoint_failure(err)
                if attempt >= self.max_retries or self.broken or self.stop.is_set() or not self._spend_retry():
                    raise
            else:
                with self._lock:
                    self.consecutive_failures = 0
                    if result.latency_ms is not None:
                        self.latencies_ms.append(result.latency_ms)
                return result
            attempt += 1
            time.sleep(self.backoff * (2 ** (attempt - 1)) * (0.5 + random.random()))  # noqa: S311 - jitter

    def _spend_retry(self) -> bool:
        with self._lock:
            if self.retry_budget <= 0:
                return False
            self.retry_budget -= 1
            self.retries += 1
            return True

    def explain(self, indexes: list[int]) -> None:
        """Give every record of ``indexes`` its outcome; a request that fails for good is bisected."""
        if self.stop.is_set():
            return
        if self.broken:
            self.decide([RecordOutcome(i, "failed", self.broken) for i in indexes])
            return
        try:
            result = self.call(indexes)
        except (InvocationError, ResponseParseError) as err:
            with self._lock:
                self.failed_calls += 1
            self._failed(indexes, err)
            return
        if len(result.records) != len(indexes):
            self.decide(
                [
                    RecordOutcome(
                        i, "failed", f"the response has {len(result.records)} records for {len(indexes)} sent"
                    )
                    for i in indexes
                ]
            )
        else:
            self.decide([record_outcome(i, record, result) for i, record in zip(indexes, result.records, strict=True)])

    def _failed(self, indexes: list[int], err: KitError) -> None:
        endpoint_level = isinstance(err, InvocationError) and err.retryable
        if len(indexes) > 1 and not endpoint_level:  # bisect: isolate the record(s) that fail for good
            with self._lock:
                self.splits += 1
            middle = len(indexes) // 2
            self.explain(indexes[:middle])
            self.explain(indexes[middle:])
            return
        self.decide([RecordOutcome(i, "failed", str(err)) for i in indexes])

    def summary(self, wanted: list[int], started: float, *, final: bool) -> BulkSummary:
        with self._lock:
            decided = dict(self.outcomes)
        if final:
            outcomes = [decided.get(i) or RecordOutcome(i, "failed", "no outcome recorded") for i in wanted]
        else:
            outcomes = [decided[i] for i in wanted if i in decided]
        with self._lock:
            latencies = list(self.latencies_ms)
        return BulkSummary(
            outcomes, self.requests, self.retries, time.monotonic() - started, latencies, self.failed_calls, self.splits
        )
