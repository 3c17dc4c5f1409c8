"""How the explainer reaches the model container: POST /invocations over pooled HTTP, and request batching."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from clarify_kit.core.errors import ContainerError
from clarify_kit.core.limits import AUTO_RECORD_COUNT

__all__ = ["AnswerTooLarge", "ContainerReply", "HttpTransport", "Transport", "answer_cap", "batches_of"]

# The header by which the self-hosted explainer's /ping tells the local endpoint that it explains by itself.
EXPLAINER_HEADER = "x-clarify-kit-explainer"

_READ_CHUNK = 1 << 20  # read1 returns what arrived, up to this; the deadline is checked between reads
# What the explainer reads of a container's answer: 1 MiB, and 64 KiB for each record sent (a generous bound on one
# output line: a score list of a few thousand classes, or a JSON object with several fields). A larger answer is
# refused as it arrives, so that one response cannot take the explainer's memory.
ANSWER_FLOOR_BYTES = 1 << 20
ANSWER_BYTES_PER_RECORD = 64 << 10


def answer_cap(records: int) -> int:
    """The most the explainer reads of a container's answer to ``records`` records."""
    return ANSWER_FLOOR_BYTES + max(1, records) * ANSWER_BYTES_PER_RECORD


class AnswerTooLarge(ContainerError):
    """A container's answer over what the explainer reads for the records it sent; ``status`` is the answer's."""

    def __init__(self, message: str, *, status: int, size: int, cap: int) -> None:
        super().__init__(message)
        self.status, self.size, self.cap = status, size, cap


@dataclass(frozen=True)
class ContainerReply:
    status: int
    content_type: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


class Transport(Protocol):
    """How the explainer reaches the model container (HTTP in practice, in-process in benchmarks)."""

    def post(
        self,
        body: bytes,
        *,
        content_type: str,
        accept: str,
        target_model: str | None,
        timeout: float,
        custom_attributes: str | None = None,
        max_answer_bytes: int | None = None,
    ) -> ContainerReply: ...


class HttpTransport:
    """POST /invocations on a container over a pooled urllib3 connection (thread-safe).

    ``generation`` counts the TCP connections it has opened: a container that was restarted (a retrained model on
    the same port) drops its kept-alive connections, so the next call opens a new one, and the explainer scores
    its baseline again instead of keeping the old model's expected value.
    """

    def __init__(self, base_url: str, *, pool_size: int = 16) -> None:
        import urllib3
        from urllib3.connectionpool import connection_from_url

        self.base_url = base_url.rstrip("/")
        self._urllib3 = urllib3
        self._connects = 0
        self._lock = threading.Lock()
        pool = connection_from_url(self.base_url, maxsize=pool_size, block=False, retries=False)
        transport = self

        # named as urllib3 names its own: the name shows in the error a user reads ("HTTPConnection(host=...)")
        class HTTPConnection(pool.ConnectionCls):  # type: ignore[name-defined,misc]  # urllib3's extension point
            def connect(self) -> None:
                super().connect()
                with transport._lock:
                    transport._connects += 1

        pool.ConnectionCls = HTTPConnection
        self._pool = pool
        self._path = urllib3.util.parse_url(self.base_url).path or ""  # a connection pool takes paths, not URLs

    @property
    def generation(self) -> int:
        """How many connections were opened so far (it changes when the container was restarted)."""
        with self._lock:
            return self._connects

    def post(
        self,
        body: bytes,
        *,
        content_type: str,
        accept: str,
        target_model: str | None,
        timeout: float,
        custom_attributes: str | None = None,
        max_answer_bytes: int | None = None,
    ) -> ContainerReply:
        """POST the body (with the caller's CustomAttributes header when given); ``timeout`` bounds the whole
        exchange (a container that trickles its answer byte by byte is cut off at the deadline, not given the read
        timeout again for every byte), and ``max_answer_bytes`` (default: ``answer_cap`` of the body's lines) the
        answer, refused with AnswerTooLarge as soon as it is known to be larger."""
        cap = max_answer_bytes if max_answer_bytes is not None else answer_cap(body.count(b"\n") + 1)
        deadline = time.monotonic() + timeout
        headers = {"Content-Type": content_type, "Accept": accept}
        if target_model:
            headers["X-Amzn-SageMaker-Target-Model"] = target_model
        if custom_attributes:
            headers["X-Amzn-SageMaker-Custom-Attributes"] = custom_attributes
        try:
            response = self._pool.request(
                "POST",
                f"{self._path}/invocations",
                body=body,
                headers=headers,
                timeout=self._urllib3.Timeout(connect=min(5.0, timeout), read=max(0.1, timeout)),
                preload_content=False,
            )
            try:
                data = self._read(response, deadline, timeout, cap)
            finally:
                response.release_conn()
        except self._urllib3.exceptions.ReadTimeoutError as err:
            raise TimeoutError(f"no answer from {self.base_url} within {timeout:.1f} s") from err
        except self._urllib3.exceptions.HTTPError as err:
            raise ContainerError(f"cannot reach the model container at {self.base_url}: {_root(err)}") from err
        return ContainerReply(response.status, response.headers.get("Content-Type", ""), data, dict(response.headers))

    def _read(self, response: Any, deadline: float, timeout: float, cap: int) -> bytes:
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > cap:
            response.close()
            raise self._too_large(response.status, int(declared), cap, "declares")
        chunks: list[bytes] = []
        size = 0
        while True:
            if time.monotonic() > deadline:
                response.close()  # a trickling peer is not read to the end
                raise TimeoutError(f"the answer from {self.base_url} did not complete within {timeout:.1f} s")
            chunk = response.read1(_READ_CHUNK)
            if not chunk:
                return b"".join(chunks)
            size += len(chunk)
            if size > cap:
                response.close()
                raise self._too_large(response.status, size, cap, "sent at least")
            chunks.append(chunk)

    def _too_large(self, status: int, size: int, cap: int, how: str) -> AnswerTooLarge:
        return AnswerTooLarge(
            f"the container's answer is over {cap:,} bytes (it {how} {size:,}); the explainer reads at most "
            f"{ANSWER_FLOOR_BYTES >> 20} MiB plus {ANSWER_BYTES_PER_RECORD >> 10} KiB per record sent",
            status=status,
            size=size,
            cap=cap,
        )

    def ping(self, timeout: float = 2.0) -> bool:
        try:
            response = self._pool.request("GET", f"{self._path}/ping", timeout=timeout)
        except self._urllib3.exceptions.HTTPError:
            return False
        return bool(response.status == 200)

    def explains(self, timeout: float = 2.0) -> bool | None:
        """Whether the container is the kit's self-hosted explainer (its /ping says so in EXPLAINER_HEADER);
        None when /ping does not answer."""
        try:
            response = self._pool.request("GET", f"{self._path}/ping", timeout=timeout)
        except self._urllib3.exceptions.HTTPError:
            return None
        return response.headers.get(EXPLAINER_HEADER) == "self-hosted"


def _root(err: BaseException) -> str:
    reason = getattr(err, "reason", None)
    return str(reason or err)


def batches_of(rows: list[str], max_records: int | None, max_bytes: int) -> list[list[str]]:
    """Consecutive batches of at most ``max_records`` rows and ``max_bytes`` bytes (newlines included)."""
    if not rows:
        return []
    limit = max_records or AUTO_RECORD_COUNT
    if "".join(rows).isascii():
        sizes = np.fromiter(map(len, rows), dtype=np.int64, count=len(rows)) + 1
    else:
        sizes = np.array([len(r.encode("utf-8")) + 1 for r in rows], dtype=np.int64)
    ends = np.cumsum(sizes)
    batches: list[list[str]] = []
    start = 0
    while start < len(rows):
        already = int(ends[start - 1]) if start else 0
        fit = int(np.searchsorted(ends, already + max_bytes, side="right"))
        stop = min(start + limit, max(fit, start + 1))  # a single oversized row still goes alone
        batches.append(rows[start:stop])
        start = stop
    return batches
