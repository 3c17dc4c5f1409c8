"""How the explainer reaches the model container: POST /invocations over kept-alive HTTP/1.1, and request batching."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from clarify_kit.core.errors import ContainerError
from clarify_kit.core.limits import AUTO_RECORD_COUNT
from clarify_kit.explainer.http1 import Answer, Client, Exchange, Timeout, TooLarge

__all__ = [
    "AnswerTooLarge",
    "ContainerReply",
    "HttpTransport",
    "PendingReply",
    "Transport",
    "answer_cap",
    "batches_of",
]

# The header by which the self-hosted explainer's /ping tells the local endpoint that it explains by itself.
EXPLAINER_HEADER = "x-clarify-kit-explainer"

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
    """POST /invocations on a container over kept-alive connections (thread-safe; clarify_kit.explainer.http1).

    ``generation`` counts the TCP connections it has opened: a container that was restarted (a retrained model on
    the same port) drops its kept-alive connections, so the next call opens a new one, and the explainer scores
    its baseline again instead of keeping the old model's expected value.
    """

    def __init__(self, base_url: str, *, pool_size: int = 16) -> None:
        self.base_url = base_url.rstrip("/")
        try:
            self._client = Client(self.base_url, pool_size=pool_size)
        except ValueError as err:
            raise ContainerError(f"the model container's URL: {err}") from None

    @property
    def generation(self) -> int:
        """How many connections were opened so far (it changes when the container was restarted)."""
        return self._client.connects

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
        return self.start(
            body,
            content_type=content_type,
            accept=accept,
            target_model=target_model,
            timeout=timeout,
            custom_attributes=custom_attributes,
            max_answer_bytes=max_answer_bytes,
        ).finish()

    def start(
        self,
        body: bytes,
        *,
        content_type: str,
        accept: str,
        target_model: str | None,
        timeout: float,
        custom_attributes: str | None = None,
        max_answer_bytes: int | None = None,
        pending: Sequence[PendingReply] = (),
    ) -> PendingReply:
        """``post``, returning once the body is written: ``finish()`` reads the answer. The answers of ``pending``
        posts are read ahead while it is written (several posts in flight from one thread)."""
        cap = max_answer_bytes if max_answer_bytes is not None else answer_cap(body.count(b"\n") + 1)
        headers = {"Content-Type": content_type, "Accept": accept}
        if target_model:
            headers["X-Amzn-SageMaker-Target-Model"] = target_model
        if custom_attributes:
            headers["X-Amzn-SageMaker-Custom-Attributes"] = custom_attributes
        reply = PendingReply(self, timeout, cap)
        with reply.translated():
            reply.exchange = self._client.start(
                "POST",
                "/invocations",
                body=body,
                headers=headers,
                deadline=time.monotonic() + timeout,
                connect_timeout=min(5.0, timeout),
                cap=cap,
                pending=[p.exchange for p in pending if p.exchange is not None],
            )
        return reply

    def _too_large(self, status: int, size: int, cap: int, how: str) -> AnswerTooLarge:
        return AnswerTooLarge(
            f"the container's answer is over {cap:,} bytes (it {how} {size:,}); the explainer reads at most "
            f"{ANSWER_FLOOR_BYTES >> 20} MiB plus {ANSWER_BYTES_PER_RECORD >> 10} KiB per record sent",
            status=status,
            size=size,
            cap=cap,
        )

    def _ping(self, timeout: float) -> Answer | None:
        """/ping's answer, or None when it does not answer."""
        try:
            return self._client.request("GET", "/ping", deadline=time.monotonic() + timeout, cap=1 << 20)
        except (OSError, ValueError, TooLarge):
            return None

    def ping(self, timeout: float = 2.0) -> bool:
        answer = self._ping(timeout)
        return answer is not None and answer.status == 200

    def explains(self, timeout: float = 2.0) -> bool | None:
        """Whether the container is the kit's self-hosted explainer (its /ping says so in EXPLAINER_HEADER);
        None when /ping does not answer."""
        answer = self._ping(timeout)
        return None if answer is None else answer.headers.get(EXPLAINER_HEADER) == "self-hosted"


class PendingReply:
    """A post under way (HttpTransport.start): ``finish()`` gives its ContainerReply or raises what ``post`` does;
    ``abandon()`` gives it up."""

    def __init__(self, transport: HttpTransport, timeout: float, cap: int) -> None:
        self.transport, self.timeout, self.cap = transport, timeout, cap
        self.exchange: Exchange | None = None

    def finish(self) -> ContainerReply:
        assert self.exchange is not None, "finish() of a post that was not started"
        with self.translated():
            answer = self.exchange.finish()
        self.exchange = None
        return ContainerReply(answer.status, answer.headers.get("content-type", ""), answer.body, answer.headers)

    def refused(self) -> bool:
        """Whether the answer, as far as it has arrived, already says the post failed (see Exchange.refused)."""
        return self.exchange is not None and self.exchange.refused()

    def abandon(self) -> None:
        if self.exchange is not None:
            self.exchange.abandon()
            self.exchange = None

    @contextmanager
    def translated(self) -> Iterator[None]:
        """The client's errors as the transport's: TimeoutError, AnswerTooLarge, ContainerError."""
        url, timeout, cap = self.transport.base_url, self.timeout, self.cap
        try:
            yield
        except Timeout as err:
            if err.answering:  # a trickling peer is not read to the end
                raise TimeoutError(f"the answer from {url} did not complete within {timeout:.1f} s") from None
            raise TimeoutError(f"no answer from {url} within {timeout:.1f} s") from None
        except TooLarge as err:
            how = "declares" if err.declared else "sent at least"
            raise self.transport._too_large(err.status, err.size, cap, how) from None
        except (OSError, ValueError) as err:
            raise ContainerError(f"cannot reach the model container at {url}: {_reason(err)}") from err


def _reason(err: BaseException) -> str:
    return str(err) or type(err).__name__  # an OSError's own text: "[Errno 111] Connection refused"


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
