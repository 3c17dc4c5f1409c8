"""Data capture files: written by the local endpoint as SageMaker writes them, read back as drift windows.

Format (AWS guide "Capture data from real-time endpoint"; the Model Monitor analyzer reads it as
``{"sagemakerCaptureJson": {"captureIndexNames": ["endpointInput", "endpointOutput"]}}``): JSON Lines, one line per
invocation::

    {"captureData": {"endpointInput": {"observedContentType": "text/csv", "mode": "INPUT", "data": "...",
                                       "encoding": "CSV"},
                     "endpointOutput": {"observedContentType": "application/json", "mode": "OUTPUT",
                                        "data": "...", "encoding": "JSON"}},
     "eventMetadata": {"eventId": "<uuid>", "inferenceId": "<when given>", "inferenceTime": "2026-12-01T10:00:00Z"},
     "eventVersion": "0"}

``encoding`` is CSV or JSON when the content type is one of CaptureContentTypeHeader's CsvContentTypes or
JsonContentTypes (the data is then the text itself), else BASE64. Files go under
``<destination>/<EndpointName>/<VariantName>/yyyy/mm/dd/hh/<mm-ss-mmm>-<uuid>.jsonl`` by the UTC hour of the
invocation, as in S3. Whether the service's capture of an explainer endpoint holds the explainer's JSON in
``endpointOutput`` is not stated by AWS and no public recording of one was found; it is the endpoint's response, so
the kit assumes it does, and the drift command counts (and can re-explain) captured outputs without explanations.
"""

from __future__ import annotations

import base64
import gc
import json
import logging
import os
import random
import re
import stat
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from clarify_kit.core.drift import DEFAULT_AGGREGATION, Partial, read_capture_line
from clarify_kit.core.errors import DriftError, KitError
from clarify_kit.core.s3_uri import parse_s3_uri
from clarify_kit.core.scores import ScoreSelector

__all__ = [
    "CaptureWriter",
    "capture_files",
    "is_capture_file",
    "iter_lines",
    "list_window",
    "parse_partial",
    "read_partial_file",
    "read_s3_window",
    "read_window",
]

_log = logging.getLogger("clarify_kit.capture")
_HOUR = re.compile(r"(?:^|/)(\d{4})/(\d{2})/(\d{2})/(\d{2})/")
DEFAULT_CSV_TYPES = ("text/csv",)
DEFAULT_JSON_TYPES = ("application/json", "application/jsonlines")


def _encoding(content_type: str, csv_types: Sequence[str], json_types: Sequence[str]) -> str:
    base = content_type.split(";", 1)[0].strip().lower()
    if base in csv_types:
        return "CSV"
    if base in json_types:
        return "JSON"
    return "BASE64"


@dataclass
class CaptureWriter:
    """Appends one capture line per sampled invocation to the hour's file under ``root`` (thread-safe; each line is
    written whole, so nothing written is lost when the process stops). Best effort, as SageMaker's capture: a write
    that fails (a full disk) is undone, counted in ``dropped`` and logged, and the invocation is answered as usual."""

    root: Path
    endpoint_name: str
    variant_name: str = "AllTraffic"
    sampling_percentage: int = 100
    modes: tuple[str, ...] = ("Input", "Output")
    csv_types: tuple[str, ...] = DEFAULT_CSV_TYPES
    json_types: tuple[str, ...] = DEFAULT_JSON_TYPES

    def __post_init__(self) -> None:
        self.dropped = 0  # captures lost to a full disk or another write error (logged)
        self._lock = threading.Lock()
        self._files: dict[str, Path] = {}
        self._random = random.Random()

    def write(
        self,
        request: bytes,
        request_type: str,
        response: bytes,
        response_type: str,
        *,
        inference_id: str | None = None,
        when: datetime | None = None,
    ) -> Path | None:
        """Capture one invocation (or not, by the sampling percentage); returns the file written to."""
        if self._random.uniform(0, 100) >= self.sampling_percentage:
            return None
        when = when or datetime.now(UTC)
        capture: dict[str, Any] = {}
        if "Input" in self.modes or "InputAndOutput" in self.modes:
            capture["endpointInput"] = self._part(request, request_type, "INPUT")
        if "Output" in self.modes or "InputAndOutput" in self.modes:
            capture["endpointOutput"] = self._part(response, response_type, "OUTPUT")
        metadata = {"eventId": str(uuid.uuid4())}
        if inference_id:
            metadata["inferenceId"] = inference_id
        metadata["inferenceTime"] = when.strftime("%Y-%m-%dT%H:%M:%SZ")
        line = (json.dumps({"captureData": capture, "eventMetadata": metadata, "eventVersion": "0"}) + "\n").encode()
        hour = when.strftime("%Y/%m/%d/%H")
        try:
            with self._lock:
                return self._append(hour, when, line)
        except OSError as err:  # best effort, as SageMaker's capture: the invocation is answered all the same
            self.dropped += 1
            _log.warning("data capture dropped a record (%d so far): %s", self.dropped, err)
            return None

    def _append(self, hour: str, when: datetime, line: bytes) -> Path:
        path = self._files.get(hour)
        if path is None or not path.parent.is_dir():  # a new hour, or its folder moved away (rotated)
            folder = self.root / self.endpoint_name / self.variant_name / hour
            folder.mkdir(parents=True, exist_ok=True)
            stamp = when.strftime("%M-%S-") + f"{when.microsecond // 1000:03d}"
            path = self._files[hour] = folder / f"{stamp}-{uuid.uuid4()}.jsonl"
        descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            size = os.fstat(descriptor).st_size
            try:
                view = memoryview(line)
                while view:
                    view = view[os.write(descriptor, view) :]
            except OSError:
                os.ftruncate(descriptor, size)  # no truncated line is left behind
                raise
        finally:
            os.close(descriptor)
        return path

    def _part(self, data: bytes, content_type: str, mode: str) -> dict[str, str]:
        encoding = _encoding(content_type, self.csv_types, self.json_types)
        try:
            text = data.decode("utf-8") if encoding != "BASE64" else base64.b64encode(data).decode("ascii")
        except UnicodeDecodeError:
            encoding, text = "BASE64", base64.b64encode(data).decode("ascii")
        return {"observedContentType": content_type, "mode": mode, "data": text, "encoding": encoding}


def _hour_of(key: str) -> datetime | None:
    match = _HOUR.search(key)
    if not match:
        return None
    year, month, day, hour = (int(g) for g in match.groups())
    try:
        return datetime(year, month, day, hour, tzinfo=UTC)
    except ValueError:
        return None


def _in_window(key: str, since: datetime | None, until: datetime | None) -> bool:
    if since is None and until is None:
        return True
    hour = _hour_of(key)
    if hour is None:
        return False
    return (since is None or hour >= since.replace(minute=0, second=0, microsecond=0)) and (
        until is None or hour < until
    )


def capture_files(root: Path, since: datetime | None = None, until: datetime | None = None) -> list[Path]:
    """The capture files under ``root`` (its .jsonl files, in path order), those of the window's hours."""
    files = sorted(p for p in root.rglob("*.jsonl") if p.is_file())
    return [p for p in files if _in_window(p.relative_to(root).as_posix() + "/", since, until)]


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Pause the cyclic garbage collector while capture is read: parsed JSON holds no reference cycles (reference
    counting frees it), and collections triggered by its many small objects cost a large share of the reading."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


# A capture line holds one invocation: at most SageMaker's 6 MiB request and 6 MiB response, base64 (4/3) or
# JSON-escaped text; lines longer than this are not captures of one invocation and are skipped unread.
LINE_CAP_BYTES = 32 * 1024 * 1024
_CHUNK = 1024 * 1024  # bytes read at a time from a file or an S3 body
# A partial result: counts, exact sums and (median only) one number per attribution.
PARTIAL_CAP_BYTES = 256 * 1024 * 1024
_OVERSIZE = f"a line over {LINE_CAP_BYTES // (1024 * 1024)} MiB (not one invocation's capture)"


def iter_lines(stream: Any, cap: int = LINE_CAP_BYTES) -> Iterator[bytes | None]:
    """The lines of a byte stream (a file, botocore's StreamingBody), read in 1 MiB chunks: linear in the bytes
    however long a line is, and bounded in memory (about ``cap`` plus a chunk). A line over ``cap`` bytes is
    yielded as None, unread."""
    pending = bytearray()
    dropping = False  # inside a line over the cap: its bytes are passed over up to its end
    for chunk in iter(lambda: stream.read(_CHUNK), b""):
        lines = chunk.split(b"\n")
        for whole in lines[:-1]:
            if dropping or len(pending) + len(whole) > cap:
                yield None
            elif pending:
                pending += whole
                yield bytes(pending)
            else:
                yield whole
            pending.clear()
            dropping = False
        if not dropping:
            pending += lines[-1]
            dropping = len(pending) > cap
            if dropping:
                pending.clear()
    if dropping:
        yield None
    elif pending:
        yield bytes(pending)


def _read_lines(
    stream: Any,
    part: Partial,
    inputs: list[dict[str, Any]] | None,
    selector: ScoreSelector | None,
    deadline: float | None,
) -> Partial:
    with _no_cycle_collection():
        for line in iter_lines(stream):
            if line is None:
                part.lines += 1
                part.skip(_OVERSIZE)
                continue
            if not line.strip():
                continue
            missing = read_capture_line(line, part, selector)
            if missing is not None and inputs is not None:
                inputs.append(missing)
            if deadline is not None and time.monotonic() > deadline:
                part.truncated = True
                break
    return part


def read_window(
    source: str,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    s3_client: Any = None,
    inputs: list[dict[str, Any]] | None = None,
    selector: ScoreSelector | None = None,
    aggregation: str = DEFAULT_AGGREGATION,
) -> Partial:
    """A window's partial: a capture directory (its files, in the time window), an S3 capture prefix
    (``s3://bucket/prefix``, likewise) or one capture file. ``inputs`` collects the captured inputs whose outputs
    carry no explanation; ``selector`` reads the explained score (``clarify_kit.core.scores``).

    Raises
    ------
    KitError: the source does not exist or holds no capture file in the window.
    DriftError: a partial result in the window is not one.
    """
    if source.startswith("s3://"):
        return read_s3_window(
            source, since=since, until=until, s3_client=s3_client, inputs=inputs, selector=selector,
            aggregation=aggregation,
        )  # fmt: skip
    path = Path(source)
    if _regular(path):
        if source.endswith(".partial.json"):
            return read_partial_file(path)
        with path.open("rb") as stream:
            return _read_lines(stream, Partial(aggregation=aggregation), inputs, selector, None)
    if not path.is_dir():
        raise KitError(f"{source}: no such capture directory, S3 prefix (s3://...) or regular file")
    files = capture_files(path, since, until)
    found = sorted(path.rglob("*.partial.json"))  # a drift-job's output
    partials = [p for p in found if _regular(p)]
    if not files and not partials:
        raise KitError(f"{source}: no capture file (*.jsonl) or partial result (*.partial.json) in the window")
    total = Partial(aggregation=aggregation)
    if len(partials) < len(found):  # a FIFO or a device could block or never end: named, never read
        total.skip("a *.partial.json that is not a regular file (left unread)", len(found) - len(partials))
    for file in files:
        with file.open("rb") as stream:
            total = total.merge(_read_lines(stream, Partial(aggregation=aggregation), inputs, selector, None))
    for file in partials:
        total = total.merge(read_partial_file(file))
    return total


def _regular(path: Path) -> bool:
    """A regular file (links followed): never a FIFO, a device or a socket, which could block or never end."""
    try:
        return stat.S_ISREG(path.stat().st_mode)
    except OSError:
        return False


def read_partial_file(path: Path) -> Partial:
    """A partial result written by ``drift --partial`` or ``drift-partial``: a regular file of at most
    PARTIAL_CAP_BYTES, every field checked.

    Raises
    ------
    DriftError: not a regular file, too large, or not a partial result (the message names the field).
    """
    if not _regular(path):
        raise DriftError(f"{path}: not a regular file; a partial result is a file written by drift --partial")
    with path.open("rb") as stream:
        data = stream.read(PARTIAL_CAP_BYTES + 1)
    return parse_partial(data, str(path))


def parse_partial(data: bytes, where: str) -> Partial:
    """A partial result from its bytes (``where`` names it in errors)."""
    if len(data) > PARTIAL_CAP_BYTES:
        raise DriftError(f"{where}: over {PARTIAL_CAP_BYTES // (1024 * 1024)} MiB; not a partial result")
    try:
        document = json.loads(data)
    except RecursionError:
        raise DriftError(f"{where}: not a partial result (JSON nested too deeply: recursion)") from None
    except ValueError as err:
        raise DriftError(f"{where}: not a partial result (not JSON: {err})") from None
    try:
        return Partial.from_dict(document)
    except DriftError as err:
        raise DriftError(f"{where}: {err}") from None


def is_capture_file(path: Path) -> bool:
    """Whether ``path`` is read as capture lines: anything but an explain output (a CSV file, or JSON Lines whose
    first line is an explain outcome); lines that are not capture JSON are then counted, not guessed at."""
    if path.suffix.lower() == ".csv":
        return False
    with path.open("rb") as stream:
        for line in stream:
            if line.strip():
                try:
                    first = json.loads(line)
                except (ValueError, RecursionError):
                    return True
                return not (isinstance(first, dict) and "status" in first and "captureData" not in first)
    return True


def list_window(
    s3_client: Any, uri: str, since: datetime | None = None, until: datetime | None = None
) -> tuple[str, list[str], list[str]]:
    """The bucket, the capture objects (``*.jsonl``, in the window's hours) and the partial results
    (``*.partial.json``) under an S3 prefix. With both ``since`` and ``until``, only the hour folders of the window
    are listed (every variant's), so that a prefix holding months of capture costs a run only its window."""
    parsed = parse_s3_uri(uri)
    if parsed is None:
        raise KitError(f"{uri}: not an S3 URI with a valid bucket name, e.g. s3://bucket/capture/EndpointName")
    bucket, prefix = parsed.bucket, parsed.key
    prefixes = [prefix]
    if since is not None and until is not None:
        prefixes = _hour_prefixes(s3_client, bucket, prefix.rstrip("/"), since, until)
    captures: list[str] = []
    partials: list[str] = []
    paginator = s3_client.get_paginator("list_objects_v2")
    for listed in prefixes:
        for page in paginator.paginate(Bucket=bucket, Prefix=listed):
            for item in page.get("Contents", []):
                key = item["Key"]
                if key.endswith(".partial.json"):
                    partials.append(key)
                elif key.endswith(".jsonl") and _in_window(key[len(prefix) :].lstrip("/") + "/", since, until):
                    captures.append(key)
    return bucket, sorted(captures), sorted(partials)


def _hour_prefixes(s3_client: Any, bucket: str, prefix: str, since: datetime, until: datetime) -> list[str]:
    """``<prefix>/<variant>/yyyy/mm/dd/hh/`` for each variant folder under the prefix and each hour of the window."""
    variants = []
    for page in s3_client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix + "/", Delimiter="/"):
        variants += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
    hours = []
    hour = since.replace(minute=0, second=0, microsecond=0)
    while hour < until:
        hours.append(hour.strftime("%Y/%m/%d/%H/"))
        hour += timedelta(hours=1)
    return [variant + h for variant in variants for h in hours]


def read_s3_window(
    uri: str,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    s3_client: Any = None,
    inputs: list[dict[str, Any]] | None = None,
    selector: ScoreSelector | None = None,
    aggregation: str = DEFAULT_AGGREGATION,
    deadline: float | None = None,
    require: bool = True,
) -> Partial:
    """The partial of the capture files under an S3 prefix, object by object, each streamed in chunks (linear in
    its bytes, bounded memory). ``deadline`` (time.monotonic()) stops the reading there, marking the partial
    ``truncated``. With ``require``, a prefix without capture is an error."""
    if s3_client is None:
        import boto3

        s3_client = boto3.client("s3")
    bucket, captures, partials = list_window(s3_client, uri, since, until)
    if require and not captures and not partials:
        raise KitError(f"{uri}: no capture file (*.jsonl) or partial result (*.partial.json) in the window")
    total = Partial(aggregation=aggregation)
    for key in partials:  # a drift-job's output: merged as it is
        body = s3_client.get_object(Bucket=bucket, Key=key)["Body"].read(PARTIAL_CAP_BYTES + 1)
        total = total.merge(parse_partial(body, f"s3://{bucket}/{key}"))
    for key in captures:
        if deadline is not None and time.monotonic() > deadline:
            total.truncated = True
            break
        body = s3_client.get_object(Bucket=bucket, Key=key)["Body"]
        try:
            total = total.merge(_read_lines(body, Partial(aggregation=aggregation), inputs, selector, deadline))
        finally:
            body.close()
    return total
