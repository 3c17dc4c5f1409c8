"""serve-container's HTTP server (serve-local has its own, clarify_kit.explainer.threaded_http): a quiet uvicorn
server that stops gracefully, and a deadline for request headers, which uvicorn itself does not have, wrapped
around its HTTP protocol.

A client that opens a connection, or starts a request, and then trickles its headers (slowloris) is disconnected
after HEADER_TIMEOUT_S; an idle kept-alive connection is left to uvicorn's keep-alive timeout, and a stalled body
to the app's own idle timeout.

The wrapper holds uvicorn's protocol and speaks to it only through asyncio's Protocol interface (connection_made,
data_received, eof_received, connection_lost, pause_writing, resume_writing), which is what uvicorn's ``http``
setting accepts a class for: nothing of uvicorn's internals is read or overridden, so an upgrade that changes
them leaves the deadline working. What it needs to know of HTTP it reads on the wire: a request's headers are in
when the bytes since its first byte hold an empty line, and a request is answered when the server writes a status
line other than an interim (1xx) one; the next bytes the client sends then start the next request.

The protocol inside is uvicorn's httptools one (the C parser of uvicorn[standard]), or its h11 one where httptools
is not installed: per request, h11's pure-Python parser cost about a fifth of a millisecond more CPU, as much as a
fast model spends answering a plain prediction.
"""

from __future__ import annotations

import asyncio
import signal
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from clarify_kit.explainer._serving import SHUTDOWN_GRACE_S, bind_socket, notices_to_stderr

try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol as _Inner
except ImportError:  # httptools is not installed: the pure-Python parser
    from uvicorn.protocols.http.h11_impl import H11Protocol as _Inner  # type: ignore[assignment]

__all__ = [
    "HEADER_TIMEOUT_S",
    "SHUTDOWN_GRACE_S",
    "HeaderDeadline",
    "bind_socket",
    "quiet_server",
    "run_in_foreground",
]

# A request's headers must be in this long after the connection opens or the request's first byte (kit).
HEADER_TIMEOUT_S = 10.0
_END_OF_HEADERS = b"\r\n\r\n"


class _Watched:
    """The connection's transport as uvicorn's protocol sees it: everything passes through; a status line written
    tells the deadline that the request it answers is over."""

    def __init__(self, transport: asyncio.Transport, deadline: HeaderDeadline) -> None:
        self._transport = transport
        self._deadline = deadline

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self._deadline.wrote(bytes(data[:10]))
        self._transport.write(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class HeaderDeadline(asyncio.Protocol):
    """uvicorn's HTTP protocol, with a connection closed when a request's headers do not arrive in time.

    uvicorn builds it as it builds its own protocols (the ``http`` setting); the arguments go to the inner one.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._inner = _Inner(*args, **kwargs)
        self._loop: asyncio.AbstractEventLoop = kwargs.get("_loop") or asyncio.get_event_loop()
        self._transport: asyncio.Transport | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._awaiting = True  # the bytes received belong to a request whose headers are not all in
        self._answered = False  # the request in progress has been answered: the next bytes start another
        self._tail = b""  # the last bytes of the headers so far, for an empty line split across reads

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        self._inner.connection_made(_Watched(transport, self))  # type: ignore[arg-type]
        self._arm()

    def data_received(self, data: bytes) -> None:
        if self._answered:  # the first bytes of a new request: its headers are due
            self._answered, self._awaiting, self._tail = False, True, b""
            self._arm()
        if self._awaiting:
            seen = self._tail + data
            if _END_OF_HEADERS in seen:
                self._awaiting = False
                self._disarm()
            else:
                self._tail = seen[-(len(_END_OF_HEADERS) - 1) :]
        self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        inner: asyncio.Protocol = self._inner  # asyncio's interface: True keeps a half-closed connection open
        return inner.eof_received()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        self._inner.connection_lost(exc)

    def pause_writing(self) -> None:
        self._inner.pause_writing()

    def resume_writing(self) -> None:
        self._inner.resume_writing()

    def wrote(self, start: bytes) -> None:
        """The server wrote ``start`` (a write's first bytes): a final status line ends the request."""
        if start.startswith(b"HTTP/") and start[9:10] != b"1":  # "HTTP/1.1 1xx" is an interim answer
            self._answered = True
            if self._awaiting:  # answered before its headers were in (uvicorn refused them): no more deadline
                self._awaiting = False
                self._disarm()

    def _arm(self) -> None:
        self._disarm()
        self._timer = self._loop.call_later(HEADER_TIMEOUT_S, self._expire)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _expire(self) -> None:
        self._timer = None
        if self._awaiting and self._transport is not None and not self._transport.is_closing():
            self._transport.close()


def quiet_server(app: Any, *, grace_s: int = SHUTDOWN_GRACE_S) -> Any:
    """A uvicorn server for ``app``: header deadline, graceful stop within ``grace_s``, and one line on Ctrl-C."""
    import uvicorn

    class Server(uvicorn.Server):
        """Stops gracefully on SIGINT/SIGTERM without re-raising the signal afterwards (uvicorn's default), so that
        Ctrl-C ends ``serve-local`` with one line instead of a KeyboardInterrupt inside the event loop."""

        @contextmanager
        def capture_signals(self) -> Iterator[None]:
            if threading.current_thread() is not threading.main_thread():
                yield
                return
            previous = {sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)}
            try:
                yield
            finally:
                for sig, handler in previous.items():
                    signal.signal(sig, handler)

    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        lifespan="off",
        timeout_keep_alive=30,
        proxy_headers=False,  # no proxy in front: the client's own address stands
        http=HeaderDeadline,
        timeout_graceful_shutdown=grace_s,
    )
    return Server(config)


def run_in_foreground(server: Any, sock: socket.socket, announcement: str) -> None:
    """Serve ``sock`` with a quiet_server until Ctrl-C or SIGTERM, after printing ``announcement``; the socket is
    closed and the previous signal handlers are back afterwards."""
    # Stop handlers before the announcement, so that a Ctrl-C at any moment after it stops the server cleanly.
    previous = {sig: signal.signal(sig, server.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)}
    print(announcement, flush=True)
    try:
        with notices_to_stderr():
            asyncio.run(server.serve(sockets=[sock]))
    finally:
        sock.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
