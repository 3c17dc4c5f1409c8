"""Reading a request body as it streams in, for both servers (serve-local and serve-container).

Refused, each with the service's ValidationError: a declared Content-Length over the 6 MiB limit, before a byte of
the body is read; a body that grows past the limit, at its first byte over it (memory stays bounded by the limit,
whatever a client sends, chunked or not); a body that stops arriving for BODY_IDLE_TIMEOUT_S; and a body still
arriving when the request's own deadline, counted from its arrival, has passed (one byte every few seconds cannot
keep a connection open for ever).
"""

from __future__ import annotations

import asyncio
import time

from starlette.requests import Request

from clarify_kit.core.errors import ServiceError
from clarify_kit.core.limits import INVOKE_BODY_MAX_BYTES

__all__ = ["BODY_IDLE_TIMEOUT_S", "read_body", "too_large"]

# A body that sends nothing for this long is given up on (kit).
BODY_IDLE_TIMEOUT_S = 10.0


async def read_body(request: Request, *, arrived: float, deadline_s: float) -> bytes:
    """The whole body, within INVOKE_BODY_MAX_BYTES, the idle timeout and ``deadline_s`` from ``arrived``."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > INVOKE_BODY_MAX_BYTES:
        raise too_large(declared)
    chunks: list[bytes] = []
    size = 0
    stream = request.stream().__aiter__()
    while True:
        left = deadline_s - (time.monotonic() - arrived)
        wait = min(BODY_IDLE_TIMEOUT_S, left)
        try:
            if wait <= 0:
                raise TimeoutError
            chunk = await asyncio.wait_for(stream.__anext__(), timeout=wait)
        except StopAsyncIteration:
            return b"".join(chunks)
        except TimeoutError:
            why = (
                f"nothing for {BODY_IDLE_TIMEOUT_S:.0f} s"
                if left > BODY_IDLE_TIMEOUT_S
                else f"still arriving {deadline_s:.0f} s after the request did"
            )
            raise ServiceError(
                "ValidationError",
                f"the request body stopped arriving ({size} bytes in, {why}); the connection is closed",
            ) from None
        size += len(chunk)
        if size > INVOKE_BODY_MAX_BYTES:
            raise too_large(f"more than {INVOKE_BODY_MAX_BYTES}")
        chunks.append(chunk)


def too_large(size: str) -> ServiceError:
    return ServiceError(
        "ValidationError",
        f"Body of {size} bytes exceeds the {INVOKE_BODY_MAX_BYTES}-byte limit of InvokeEndpoint; split the records "
        "over several calls",
    )
