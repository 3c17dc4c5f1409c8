"""Bulk explanation of a CSV or JSON Lines file: every record ends up explained, not explained, or failed.

Records are split into requests that stay under the 6 MiB body limit and the latency budget, sent by a bounded
pool of workers, retried when the failure is transient (throttling, timeouts, unreachable or restarting
containers), and bisected when a request fails for good, so that one bad record cannot take its neighbours down.
"""

from __future__ import annotations

import csv
import io
import json
import random
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TextIO

from clarify_kit.codecs import CSV, JSONLINES, base_content_type, format_csv_row, read_csv_rows
from clarify_kit.errors import InvocationError, KitError, ResponseParseError
from clarify_kit.limits import INVOKE_BODY_MAX_BYTES, INVOKE_TIMEOUT_S
from clarify_kit.synthetic import n_samples
from client.invoke import EndpointClient
from client.result import InvokeResult

__all__ = ["BulkSummary", "RecordOutcome", "explain_file", "explain_records", "read_records"]

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

    def count(self, status: Status) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

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
    def __init__(self, total: int, stream: TextIO | None) -> None:
        self.total, self.done, self.stream = total, 0, stream
        self.lock = threading.Lock()
        self.started = time.monotonic()

    def advance(self, n: int, outcomes: list[RecordOutcome]) -> None:
        if self.stream is None:
            return
        with self.lock:
            self.done += n
            failed = sum(1 for o in outcomes if o.status == "failed")
            rate = self.done / max(1e-9, time.monotonic() - self.started)
            self.stream.write(f"\rexplain: {self.done}/{self.total} records, {failed} failed, {rate:.1f} rec/s ")
            if self.done >= self.total:
                self.stream.write("\n")
            self.stream.flush()


def explain_records(client: EndpointClient, lines: list[str], *, content_type: str,
                    records_per_request: int | None = None, max_workers: int = 4, retries: int = 3,
                    enable_explanations: str | None = None, target_model: str | None = None,
                    progress: TextIO | None = None, backoff: float = 0.5) -> BulkSummary:
    """Explain every record line; the result has exactly one outcome per line, in input order."""
    started = time.monotonic()
    groups = plan_requests(lines, records_per_request or default_records_per_request(client))
    run = _BulkRun(client, lines, content_type=content_type, retries=retries, backoff=backoff,
                   options={"enable_explanations": enable_explanations, "target_model": target_model},
                   bar=_Progress(len(lines), progress))
    with ThreadPoolExecutor(max_workers=max(1, max_workers)) as pool:
        for future in [pool.submit(run.explain, g) for g in groups]:
            future.result()
    final = [o or RecordOutcome(i, "failed", "no outcome recorded") for i, o in enumerate(run.outcomes)]
    return BulkSummary(final, run.requests, run.retries, time.monotonic() - started)


class _BulkRun:
    """The shared state of one bulk run: the outcome of every record, and the request and retry counters."""

    def __init__(self, client: EndpointClient, lines: list[str], *, content_type: str, retries: int,
                 backoff: float, options: dict[str, Any], bar: _Progress) -> None:
        self.client, self.lines, self.content_type = client, lines, content_type
        self.max_retries, self.backoff, self.options, self.bar = retries, backoff, options, bar
        self.outcomes: list[RecordOutcome | None] = [None] * len(lines)
        self.requests = self.retries = 0
        self._lock = threading.Lock()

    def call(self, indexes: list[int]) -> InvokeResult:
        """One request for ``indexes``, retried with jittered backoff while the failure is transient."""
        body = "\n".join(self.lines[i] for i in indexes).encode("utf-8")
        attempt = 0
        while True:
            with self._lock:
                self.requests += 1
            try:
                return self.client.invoke(body, content_type=self.content_type, **self.options)
            except InvocationError as err:
                if not err.retryable or attempt >= self.max_retries:
                    raise
            attempt += 1
            with self._lock:
                self.retries += 1
            time.sleep(self.backoff * (2 ** (attempt - 1)) * (0.5 + random.random()))  # noqa: S311 - jitter

    def explain(self, indexes: list[int]) -> None:
        """Give every record of ``indexes`` its outcome; a request that fails for good is bisected."""
        try:
            result = self.call(indexes)
        except (InvocationError, ResponseParseError) as err:
            if len(indexes) > 1:  # bisect: isolate the record(s) that fail for good
                middle = len(indexes) // 2
                self.explain(indexes[:middle])
                self.explain(indexes[middle:])
                return
            self.outcomes[indexes[0]] = RecordOutcome(indexes[0], "failed", str(err))
            self.bar.advance(1, [o for o in self.outcomes if o])
            return
        if len(result.records) != len(indexes):
            for i in indexes:
                self.outcomes[i] = RecordOutcome(i, "failed", f"the response has {len(result.records)} records "
                                                 f"for {len(indexes)} sent")
        else:
            for i, record in zip(indexes, result.records, strict=True):
                self.outcomes[i] = _outcome(i, record, result)
        self.bar.advance(len(indexes), [o for o in self.outcomes if o])


def _outcome(index: int, record: Any, result: InvokeResult) -> RecordOutcome:
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
    """Write one row per input record: CSV (one column per feature and label) or JSON Lines (.jsonl)."""
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    if output.suffix.lower() in (".jsonl", ".jsonlines"):
        with output.open("w", encoding="utf-8") as fh:
            for o in summary.outcomes:
                fh.write(json.dumps({"record": o.index, "status": o.status, "reason": o.reason, "scores": o.scores,
                                     "attributions": o.attributions, "units": o.units or None}) + "\n")
        return output
    features: list[str] = []
    width = 0
    for o in summary.outcomes:
        for name, values in o.attributions.items():
            if name not in features:
                features.append(name)
            width = max(width, len(values))
    columns = [f"{f}" if width <= 1 else f"{f}|{labels[k] if labels and k < len(labels) else k}"
               for f in features for k in range(max(width, 1))]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["record", "status", "reason", "scores", *[_safe(c) for c in columns]])
    for o in summary.outcomes:
        cells: list[Any] = []
        for f in features:
            values = o.attributions.get(f, [])
            cells.extend(values[k] if k < len(values) else "" for k in range(max(width, 1)))
        writer.writerow([o.index, o.status, _safe(o.reason), json.dumps(o.scores) if o.scores is not None else "",
                         *[_safe(c) for c in cells]])
    output.write_text(buffer.getvalue(), encoding="utf-8")
    return output


def _safe(cell: Any) -> Any:
    """Defuse spreadsheet formulas in text cells (CSV injection)."""
    if isinstance(cell, str) and cell[:1] in ("=", "+", "-", "@"):
        return "'" + cell
    return cell


def explain_file(client: EndpointClient, input_path: str | Path, output_path: str | Path, *,
                 content_type: str | None = None, header: bool = False, progress: bool = True,
                 **options: Any) -> BulkSummary:
    """Explain every record of a file into ``output_path`` (CSV, or JSON Lines for a .jsonl output)."""
    lines, kind = read_records(input_path, content_type or (client.spec.content_type if client.spec else None),
                               header=header)
    stream = sys.stderr if progress else None
    summary = explain_records(client, lines, content_type=kind, progress=stream, **options)
    labels = client.spec.label_headers if client.spec else None
    write_outcomes(summary, output_path, labels)
    return summary

