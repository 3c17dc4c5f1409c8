"""Bulk explanation of a CSV or JSON Lines file: every record ends up explained, not explained, or failed.

Records are split into requests that stay under the 6 MiB body limit and the latency budget, sent by a bounded
pool of workers, retried when the failure is transient (throttling, timeouts, unreachable or restarting
containers), and bisected when a request fails for good, so that one bad record cannot take its neighbours down.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import queue
import random
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal, TextIO

from clarify_kit.client.invoke import EndpointClient
from clarify_kit.client.result import InvokeResult
from clarify_kit.core.codecs import CSV, JSONLINES, base_content_type, format_csv_row, read_csv_rows
from clarify_kit.core.errors import Interrupted, InvocationError, KitError, ResponseParseError
from clarify_kit.core.limits import INVOKE_BODY_MAX_BYTES, INVOKE_TIMEOUT_S
from clarify_kit.core.synthetic import n_samples

__all__ = ["BulkInterrupted", "BulkSummary", "RecordOutcome", "explain_file", "explain_records", "read_records",
           "record_outcome", "write_outcomes"]

Status = Literal["explained", "not_explained", "failed"]
_BODY_BUDGET = INVOKE_BODY_MAX_BYTES - 4096  # headroom under the 6 MiB limit for the last newline and rounding


@dataclass
class RecordOutcome:
    """The fate of one input record."""

    index: int
    status: Status
    reason: str = ""
    scores: list[float] | None = None
    attributions: dict[str, list[float]] = field(default_factory=dict)
    units: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class BulkSummary:
    outcomes: list[RecordOutcome]
    requests: int
    retries: int
    seconds: float
    latencies_ms: list[float] = field(default_factory=list)  # of every answered request, as the client saw it

    def count(self, status: Status) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    def count_finished(self) -> int:
        return len(self.outcomes)

    def as_dict(self) -> dict[str, Any]:
        return {"records": len(self.outcomes), "explained": self.count("explained"),
                "not_explained": self.count("not_explained"), "failed": self.count("failed"),
                "requests": self.requests, "retries": self.retries, "seconds": round(self.seconds, 3)}


def read_records(path: str | Path, content_type: str | None = None, *, header: bool = False) -> tuple[list[str], str]:
    """The records of a file as request lines, and its content type (from the extension when not given)."""
    path = Path(path)
    kind = base_content_type(content_type) or (JSONLINES if path.suffix.lower() in (".jsonl", ".jsonlines") else CSV)
    text = path.read_text(encoding="utf-8")
    if kind == CSV:
        rows = read_csv_rows(text)
        if header and rows:
            rows = rows[1:]
        return [format_csv_row(r) for r in rows], kind
    lines = [line for line in text.splitlines() if line.strip()]
    for number, line in enumerate(lines, start=1):
        try:
            json.loads(line)
        except ValueError as err:
            raise KitError(f"{path}: line {number} is not valid JSON: {err}") from err
    return lines, kind


def plan_requests(lines: list[str], records_per_request: int) -> list[list[int]]:
    """Group record indexes into requests of at most ``records_per_request`` records and the body budget."""
    groups: list[list[int]] = []
    current: list[int] = []
    size = 0
    for i, line in enumerate(lines):
        n = len(line.encode("utf-8")) + 1
        if current and (len(current) >= records_per_request or size + n > _BODY_BUDGET):
            groups.append(current)
            current, size = [], 0
        current.append(i)
        size += n
    if current:
        groups.append(current)
    return groups


def default_records_per_request(client: EndpointClient, *, share: float = 0.5) -> int:
    """Records per call such that their explanations fit ``share`` of the 60 s limit.

    The time per explained record is the synthetic dataset size times ``ClarifyKit.Latency.ContainerMsPerRecord``;
    without those facts, 10 records per call.
    """
    spec, config = client.spec, client.config
    if spec is None or config is None:
        return 10
    latency = config.ClarifyKit.Latency
    ms_per_record = latency.ContainerMsPerRecord
    if ms_per_record is None:
        return 10
    n_features = spec.n_features()
    try:
        baseline_records = max(1, len(spec.baseline_rows()))
    except KitError:
        return 10
    if n_features is None:
        return 10
    size = n_samples(n_features, spec.number_of_samples) * baseline_records
    per_record_s = (size * ms_per_record + latency.ContainerMsPerRequest) / 1000
    if per_record_s <= 0:
        return 100
    return max(1, min(100, int(INVOKE_TIMEOUT_S * share / per_record_s)))


class _Progress:
    """Progress on stderr: a tqdm bar (percentage, rate, ETA, failures) on a terminal; a plain line every 10 s and
    at the end when stderr is a CI log, where a bar's carriage returns would pile up on one line."""

    PLAIN_EVERY_S = 10.0

    def __init__(self, total: int, stream: TextIO | None) -> None:
        self.total, self.done, self.failed, self.stream = total, 0, 0, stream
        self.tty = bool(stream is not None and getattr(stream, "isatty", lambda: False)())
        self.lock = threading.Lock()
        self.started = self.last = time.monotonic()
        self.bar: Any = None
        if self.tty:
            from tqdm import tqdm

            self.bar = tqdm(total=total, file=stream, desc="explain", unit="rec", dynamic_ncols=True,
                            smoothing=0.1, postfix={"failed": 0})

    def advance(self, outcomes: list[RecordOutcome]) -> None:
        if self.stream is None:
            return
        with self.lock:
            self.done += len(outcomes)
            failed = sum(1 for o in outcomes if o.status == "failed")
            self.failed += failed
            if self.bar is not None:
                if failed:
                    self.bar.set_postfix(failed=self.failed, refresh=False)
                self.bar.update(len(outcomes))
                if self.done >= self.total:
                    self.bar.close()
                return
            self._plain_line()

    def _plain_line(self) -> None:
        assert self.stream is not None
        now = time.monotonic()
        finished = self.done >= self.total
        if not (finished or now - self.last >= self.PLAIN_EVERY_S):
            return
        self.last = now
        rate = self.done / max(1e-9, now - self.started)
        eta = f", ETA {(self.total - self.done) / rate:.0f} s" if rate and not finished else ""
        self.stream.write(f"explain: {self.done}/{self.total} records ({self.done / max(1, self.total):.0%}), "
                          f"{self.failed} failed, {rate:.1f} rec/s{eta}\n")
        self.stream.flush()

    def close(self) -> None:
        """Leave the bar where it stopped (an interrupted run), so the next line starts on a line of its own."""
        if self.bar is not None:
            with self.lock:
                self.bar.close()


class BulkInterrupted(Interrupted):
    """Ctrl-C during a bulk run: ``summary`` holds the records finished before it (the others have no outcome)."""

    def __init__(self, summary: BulkSummary, message: str) -> None:
        super().__init__(message)
        self.summary = summary


# Consecutive endpoint-level failures (unreachable, timing out, 5xx) after which the remaining records are not
# sent: the endpoint is down, and sending them would only take minutes to fail the same way.
BREAKER_THRESHOLD = 5


def explain_records(client: EndpointClient, lines: list[str], *, content_type: str,
                    records_per_request: int | None = None, max_workers: int = 4, retries: int = 3,
                    enable_explanations: str | None = None, target_model: str | None = None,
                    progress: TextIO | None = None, backoff: float = 0.5, indexes: list[int] | None = None,
                    on_outcome: Callable[[RecordOutcome], None] | None = None) -> BulkSummary:
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
    run = _BulkRun(client, lines, content_type=content_type, retries=retries, backoff=backoff,
                   options={"enable_explanations": enable_explanations, "target_model": target_model},
                   bar=_Progress(len(wanted), progress), on_outcome=on_outcome, requests=len(groups))
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
        raise BulkInterrupted(summary, f"interrupted: {summary.count_finished()} of {len(wanted)} records "
                              "finished") from None
    run.bar.close()
    if run.error is not None:
        raise run.error
    return run.summary(wanted, started, final=True)


class _BulkRun:
    """The shared state of one bulk run: every record's outcome, the counters, the retry budget and the breaker."""

    def __init__(self, client: EndpointClient, lines: list[str], *, content_type: str, retries: int,
                 backoff: float, options: dict[str, Any], bar: _Progress,
                 on_outcome: Callable[[RecordOutcome], None] | None, requests: int) -> None:
        self.client, self.lines, self.content_type = client, lines, content_type
        self.max_retries, self.backoff, self.options, self.bar = retries, backoff, options, bar
        self.on_outcome = on_outcome
        self.outcomes: dict[int, RecordOutcome] = {}
        self.requests = self.retries = 0
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
                self.broken = (f"not sent: the endpoint failed {self.consecutive_failures} requests in a row "
                               f"(last: {err})")

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
            self._failed(indexes, err)
            return
        if len(result.records) != len(indexes):
            self.decide([RecordOutcome(i, "failed", f"the response has {len(result.records)} records for "
                                       f"{len(indexes)} sent") for i in indexes])
        else:
            self.decide([record_outcome(i, record, result)
                         for i, record in zip(indexes, result.records, strict=True)])

    def _failed(self, indexes: list[int], err: KitError) -> None:
        endpoint_level = isinstance(err, InvocationError) and err.retryable
        if len(indexes) > 1 and not endpoint_level:  # bisect: isolate the record(s) that fail for good
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
        return BulkSummary(outcomes, self.requests, self.retries, time.monotonic() - started, latencies)


def record_outcome(index: int, record: Any, result: InvokeResult) -> RecordOutcome:
    """The outcome of one record of an explainer response (``index``: its place in the whole input)."""
    scores = list(record.scores) if record.scores is not None else None
    if not record.explained:
        reason = "EnableExplanations evaluated to false for this record"
        return RecordOutcome(index, "not_explained", reason, scores)
    attributions: dict[str, list[float]] = {}
    units: list[dict[str, Any]] = []
    for feature in record.features or ():
        name = str(feature.name)
        totals = [0.0] * len(feature.attributions[0].values) if feature.attributions else []
        for unit in feature.attributions:
            totals = [a + b for a, b in zip(totals, unit.values, strict=False)]
            if unit.partial_text is not None:
                units.append({"feature": name, "partial_text": unit.partial_text, "start_idx": unit.start_idx,
                              "attribution": list(unit.values)})
        attributions[name] = totals
    return RecordOutcome(index, "explained", "", scores, attributions, units)


def write_outcomes(summary: BulkSummary, output: str | Path, labels: tuple[str, ...] | None = None) -> Path:
    """Write one row per input record: CSV (one column per feature and label) or JSON Lines (.jsonl).

    The file appears complete or not at all: it is written beside the output and renamed into place.
    """
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(f".{output.name}.writing")
    if output.suffix.lower() in (".jsonl", ".jsonlines"):
        text = "".join(json.dumps(_as_row(o)) + "\n" for o in summary.outcomes)
    else:
        text = _csv_text(summary.outcomes, labels)
    partial.write_text(text, encoding="utf-8")
    partial.replace(output)
    return output


def _as_row(o: RecordOutcome) -> dict[str, Any]:
    return {"record": o.index, "status": o.status, "reason": o.reason, "scores": o.scores,
            "attributions": o.attributions, "units": o.units or None}


def _csv_text(outcomes: list[RecordOutcome], labels: tuple[str, ...] | None) -> str:
    features: list[str] = []
    width = 0
    for o in outcomes:
        for name, values in o.attributions.items():
            if name not in features:
                features.append(name)
            width = max(width, len(values))
    columns = [f"{f}" if width <= 1 else f"{f}|{labels[k] if labels and k < len(labels) else k}"
               for f in features for k in range(max(width, 1))]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["record", "status", "reason", "scores", *[_safe(c) for c in columns]])
    for o in outcomes:
        cells: list[Any] = []
        for f in features:
            values = o.attributions.get(f, [])
            cells.extend(values[k] if k < len(values) else "" for k in range(max(width, 1)))
        writer.writerow([o.index, o.status, _safe(o.reason), json.dumps(o.scores) if o.scores is not None else "",
                         *[_safe(c) for c in cells]])
    return buffer.getvalue()


def _safe(cell: Any) -> Any:
    """Defuse spreadsheet formulas in text cells (CSV injection)."""
    if isinstance(cell, str) and cell[:1] in ("=", "+", "-", "@"):
        return "'" + cell
    return cell


class _Journal:
    """The records finished so far, one JSON line each, flushed as they finish (``.<output>.journal`` beside the
    output); its first line ties it to the input file's content, so that --resume never mixes two inputs."""

    def __init__(self, output: Path, lines: list[str]) -> None:
        self.path = output.with_name(f".{output.name}.journal")
        digest = hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()
        self.header = {"clarify_kit_journal": 1, "input_sha256": digest, "records": len(lines)}
        self._handle: TextIO | None = None

    def load(self) -> dict[int, RecordOutcome]:
        """The outcomes of an interrupted run of the same input (the last one of a record wins)."""
        with self.path.open(encoding="utf-8") as handle:
            head = json.loads(handle.readline() or "{}")
            if head != self.header:
                raise KitError(f"{self.path} belongs to another input (or another version of this one); delete it "
                               "to start afresh")
            done: dict[int, RecordOutcome] = {}
            for line in handle:
                try:
                    row = json.loads(line)
                except ValueError:
                    break  # the last line of a run killed while writing it
                done[row["index"]] = RecordOutcome(**row)
        return done

    def open(self, done: dict[int, RecordOutcome]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("w", encoding="utf-8")
        handle.write(json.dumps(self.header) + "\n")
        for outcome in done.values():
            handle.write(json.dumps(asdict(outcome)) + "\n")
        handle.flush()
        self._handle = handle

    def append(self, outcome: RecordOutcome) -> None:
        assert self._handle is not None
        self._handle.write(json.dumps(asdict(outcome)) + "\n")
        self._handle.flush()

    def close(self, *, remove: bool) -> None:
        if self._handle is not None:
            self._handle.close()
        if remove:
            self.path.unlink(missing_ok=True)


def explain_file(client: EndpointClient, input_path: str | Path, output_path: str | Path, *,
                 content_type: str | None = None, header: bool = False, progress: bool = True,
                 resume: bool = False, **options: Any) -> BulkSummary:
    """Explain every record of a file into ``output_path`` (CSV, or JSON Lines for a .jsonl output).

    Finished records go to a journal beside the output as they finish; the output itself is written, complete
    and in input order, only at the end. After an interruption (Ctrl-C, a crash), ``resume=True`` sends only the
    records the journal does not hold as explained or not explained (failed ones are tried again).

    Raises
    ------
    BulkInterrupted: Ctrl-C; the finished records are kept in the journal for ``resume``.
    KitError: a journal from an interrupted run exists and ``resume`` is False, or it belongs to another input.
    """
    lines, kind = read_records(input_path, content_type or (client.spec.content_type if client.spec else None),
                               header=header)
    output = Path(output_path)
    journal = _Journal(output, lines)
    if journal.path.exists() and not resume:
        raise KitError(f"{output}: an interrupted run left {journal.path}; pass --resume to finish it, or delete "
                       "the journal to start afresh")
    done = journal.load() if resume and journal.path.exists() else {}
    done = {i: o for i, o in done.items() if o.status != "failed" and 0 <= i < len(lines)}
    pending = [i for i in range(len(lines)) if i not in done]
    journal.open(done)
    try:
        fresh = explain_records(client, lines, content_type=kind, progress=sys.stderr if progress else None,
                                indexes=pending, on_outcome=journal.append, **options)
    except BulkInterrupted as stop:
        journal.close(remove=False)
        kept = len(done) + stop.summary.count_finished()
        raise BulkInterrupted(stop.summary, f"interrupted: {kept} of {len(lines)} records finished, kept in "
                              f"{journal.path}; run the same command with --resume to finish") from None
    except BaseException:
        journal.close(remove=False)
        raise
    outcomes = sorted([*done.values(), *fresh.outcomes], key=lambda o: o.index)
    summary = BulkSummary(outcomes, fresh.requests, fresh.retries, fresh.seconds, fresh.latencies_ms)
    write_outcomes(summary, output, client.spec.label_headers if client.spec else None)
    journal.close(remove=True)
    return summary
