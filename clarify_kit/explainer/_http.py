"""uvicorn's h11 protocol with a deadline for request headers, which uvicorn itself does not have.

A client that opens a connection, or starts a request, and then trickles its headers (slowloris) is
disconnected after HEADER_TIMEOUT_S; an idle kept-alive connection is left to uvicorn's keep-alive timeout, and a
stalled body to the app's own idle timeout.
"""

from __future__ import annotations

import asyncio

from uvicorn.protocols.http.h11_impl import H11Protocol

__all__ = ["HEADER_TIMEOUT_S", "HeaderDeadline"]

# A request's headers must be in this long after the connection opens or the request's first byte (kit).
HEADER_TIMEOUT_S = 10.0


class HeaderDeadline(H11Protocol):
    """H11Protocol that closes a connection whose request headers do not arrive in time."""

    _header_task: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        if self._header_task is None and (self.cycle is None or self.cycle.response_complete):
            self._arm()  # the first bytes of a new request: its headers are due
        super().data_received(data)

    def handle_events(self) -> None:
        super().handle_events()
        if self.cycle is not None and not self.cycle.response_complete:
            self._disarm()  # the headers are in

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        self._header_task = self.loop.call_later(HEADER_TIMEOUT_S, self._expire)

    def _disarm(self) -> None:
        if self._header_task is not None:
            self._header_task.cancel()
            self._header_task = None

    def _expire(self) -> None:
        self._header_task = None
        if not self.transport.is_closing():
            self.transport.close()
