"""How the explainer reaches the model container: POST /invocations over pooled HTTP, and request batching."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from clarify_kit.core.errors import ContainerError
from clarify_kit.core.limits import AUTO_RECORD_COUNT

__all__ = ["ContainerReply", "HttpTransport", "Transport", "batches_of"]

_READ_CHUNK = 1 << 20  # read1 returns what arrived, up to this; the deadline is checked between reads


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
    ) -> ContainerReply: ...


class HttpTransport:
    """POST /invocations on a container over a pooled urllib3 connection (thread-safe)."""

    def __init__(self, base_url: str, *, pool_size: int = 16) -> None:
        import urllib3

        self.base_url = base_url.rstrip("/")
        self._urllib3 = urllib3
        self._pool = urllib3.PoolManager(maxsize=pool_size, block=False, retries=False)

    def post(
        self,
        body: bytes,
        *,
        content_type: str,
        accept: str,
        target_model: str | None,
        timeout: float,
        custom_attributes: str | None = None,
    ) -> ContainerReply:
        """POST the body (with the caller's CustomAttributes header when given); ``timeout`` bounds the whole
        exchange (a container that trickles its answer byte by byte is cut off at the deadline, not given the read
        timeout again for every byte)."""
        deadline = time.monotonic() + timeout
        headers = {"Content-Type": content_type, "Accept": accept}
        if target_model:
            headers["X-Amzn-SageMaker-Target-Model"] = target_model
        if custom_attributes:
            headers["X-Amzn-SageMaker-Custom-Attributes"] = custom_attributes
        try:
            response = self._pool.request(
                "POST",
                f"{self.base_url}/invocations",
                body=body,
                headers=headers,
                timeout=self._urllib3.Timeout(connect=min(5.0, timeout), read=max(0.1, timeout)),
                preload_content=False,
            )
            try:
                data = self._read(response, deadline, timeout)
            finally:
                response.release_conn()
        except self._urllib3.exceptions.ReadTimeoutError as err:
            raise TimeoutError(f"no answer from {self.base_url} within {timeout:.1f} s") from err
        except self._urllib3.exceptions.HTTPError as err:
            raise ContainerError(f"cannot reach the model container at {self.base_url}: {_root(err)}") from err
        return ContainerReply(response.status, response.headers.get("Content-Type", ""), data, dict(response.headers))

    def _read(self, response: Any, deadline: float, timeout: float) -> bytes:
        chunks: list[bytes] = []
        while True:
            if time.monotonic() > deadline:
                response.close()  # a trickling peer is not read to the end
                raise TimeoutError(f"the answer from {self.base_url} did not complete within {timeout:.1f} s")
            chunk = response.read1(_READ_CHUNK)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)

    def ping(self, timeout: float = 2.0) -> bool:
        try:
            response = self._pool.request("GET", f"{self.base_url}/ping", timeout=timeout)
        except self._urllib3.exceptions.HTTPError:
            return False
        return bool(response.status == 200)


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
