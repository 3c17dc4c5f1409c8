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
import random
import re
import threading
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from clarify_kit.core.drift import Partial, read_capture_line
from clarify_kit.core.errors import KitError

__all__ = ["CaptureWriter", "capture_files", "is_capture_file", "read_s3_window", "read_window"]

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
    flushed, so nothing written is lost when the process stops)."""

    root: Path
    endpoint_name: str
    variant_name: str = "AllTraffic"
    sampling_percentage: int = 100
    modes: tuple[str, ...] = ("Input", "Output")
    csv_types: tuple[str, ...] = DEFAULT_CSV_TYPES
    json_types: tuple[str, ...] = DEFAULT_JSON_TYPES

    def __post_init__(self) -> None:
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
        line = json.dumps({"captureData": capture, "eventMetadata": metadata, "eventVersion": "0"}) + "\n"
        hour = when.strftime("%Y/%m/%d/%H")
        with self._lock:
            path = self._files.get(hour)
            if path is None or not path.parent.is_dir():  # a new hour, or its folder moved away (rotated)
                folder = self.root / self.endpoint_name / self.variant_name / hour
                folder.mkdir(parents=True, exist_ok=True)
                stamp = when.strftime("%M-%S-") + f"{when.microsecond // 1000:03d}"
                path = self._files[hour] = folder / f"{stamp}-{uuid.uuid4()}.jsonl"
            with path.open("a", encoding="utf-8") as out:
                out.write(line)
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
    counting frees it), and collections triggered by its many small objects cost a quarter of the reading time."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _read_lines(lines: Iterator[bytes], part: Partial, inputs: list[dict[str, Any]] | None) -> Partial:
    with _no_cycle_collection():
        for line in lines:
            if not line.strip():
                continue
            missing = read_capture_line(line, part)
            if missing is not None and inputs is not None:
                inputs.append(missing)
    return part


def read_window(
    source: str,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    s3_client: Any = None,
    inputs: list[dict[str, Any]] | None = None,
) -> Partial:
    """A window's partial: a capture directory (its files, in the time window), an S3 capture prefix
    (``s3://bucket/prefix``, likewise) or one capture file. ``inputs`` collects the captured inputs whose outputs
    carry no explanation.

    Raises
    ------
    KitError: the source does not exist or holds no capture file in the window.
    """
    if source.startswith("s3://"):
        return read_s3_window(source, since=since, until=until, s3_client=s3_client, inputs=inputs)
    path = Path(source)
    if path.is_file():
        with path.open("rb") as lines:
            return _read_lines(iter(lines), Partial(), inputs)
    if not path.is_dir():
        raise KitError(f"{source}: no such capture directory, S3 prefix (s3://...) or file")
    files = capture_files(path, since, until)
    partials = sorted(path.rglob("*.partial.json"))  # a drift-job's output: one partial per instance
    if not files and not partials:
        raise KitError(f"{source}: no capture file (*.jsonl) or partial result (*.partial.json) in the window")
    total = Partial()
    for file in files:
        with file.open("rb") as lines:
            total = total.merge(_read_lines(iter(lines), Partial(), inputs))
    for file in partials:
        total = total.merge(_partial(file.read_bytes(), str(file)))
    return total


def _partial(data: bytes, where: str) -> Partial:
    try:
        return Partial.from_dict(json.loads(data))
    except (ValueError, KeyError, TypeError, RecursionError) as err:
        raise KitError(f"{where}: not a partial result of clarify-kit drift ({type(err).__name__})") from None


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


def read_s3_window(
    uri: str,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    s3_client: Any = None,
    inputs: list[dict[str, Any]] | None = None,
) -> Partial:
    """The partial of the capture files under an S3 prefix, object by object (streamed, bounded memory)."""
    bucket, _, prefix = uri[len("s3://") :].partition("/")
    if not bucket:
        raise KitError(f"{uri}: name a bucket, e.g. s3://bucket/capture/EndpointName")
    if s3_client is None:
        import boto3

        s3_client = boto3.client("s3")
    total = Partial()
    found = 0
    for page in s3_client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            key = item["Key"]
            if key.endswith(".partial.json"):  # a drift-job's output: merged as it is
                found += 1
                body = s3_client.get_object(Bucket=bucket, Key=key)["Body"].read()
                total = total.merge(_partial(body, f"s3://{bucket}/{key}"))
                continue
            if not key.endswith(".jsonl") or not _in_window(key[len(prefix) :].lstrip("/") + "/", since, until):
                continue
            found += 1
            body = s3_client.get_object(Bucket=bucket, Key=key)["Body"]
            total = total.merge(_read_lines(body.iter_lines(), Partial(), inputs))
    if not found:
        raise KitError(f"{uri}: no capture file (*.jsonl) or partial result (*.partial.json) in the window")
    return total
