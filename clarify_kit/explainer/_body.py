"""Reading a request body as it streams in: the limits both servers keep, and serve-container's reader (serve-local
reads its own in clarify_kit.explainer.threaded_http).

Refused, each with the service's ValidationError: a declared Content-Length over the 6 MiB limit, before a byte of
the body is read; a body that grows past the limit, at its first byte over it (memory stays bounded by the limit,
whatever a client sends, chunked or not); a body that stops arriving for BODY_IDLE_TIMEOUT_S; and a body still
arriving when the request's own deadline, counted from its arrival, has passed (one byte every few seconds cannot
keep a connection open for ever).
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

from clarify_kit.core.limits import INVOKE_BODY_MAX_BYTES
from clarify_kit.explainer.runtime_errors import ServiceError

if TYPE_CHECKING:  # serve-local reads its bodies itself (threaded_http) and never imports starlette
    from starlette.requests import Request

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
    loop = asyncio.get_running_loop()
    deadline = loop.time() + (deadline_s - (time.monotonic() - arrived))  # the request's own, on the loop's clock
    left = deadline - loop.time()
    try:
        # One timer for the whole read, moved on at each chunk (a task and a timer per chunk, as asyncio.wait_for
        # makes them, cost more than reading a small body does)
        async with asyncio.timeout(min(BODY_IDLE_TIMEOUT_S, left) if left > 0 else -1.0) as timer:
            async for chunk in request.stream():
                size += len(chunk)
                if size > INVOKE_BODY_MAX_BYTES:
                    raise too_large(f"more than {INVOKE_BODY_MAX_BYTES}")
                chunks.append(chunk)
                now = loop.time()
                left = deadline - now
                timer.reschedule(now + min(BODY_IDLE_TIMEOUT_S, left) if left > 0 else now - 1.0)
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
    return b"".join(chunks)


def too_large(size: str) -> ServiceError:
    return ServiceError(
        "ValidationError",
        f"Body of {size} bytes exceeds the {INVOKE_BODY_MAX_BYTES}-byte limit of InvokeEndpoint; split the records "
        "over several calls",
    )
