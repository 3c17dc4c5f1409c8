"""serve-local's HTTP/1.1 server: a thread per connection, httptools' parser, and each request answered on the
thread that read it.

The explainer's work is blocking (numpy, and its own HTTP calls to the container), so an event loop in front of it
only hands every request to a worker thread and the answer back: measured with bench/bench_explainer_cpu.py, the
loop (uvicorn, Starlette's request and response, the hand-over and its wake-up) cost a fifth of the CPU of an
explained record, 1.1-1.4 ms of 5.1-7.2 here. Here the thread that reads a request explains it and writes the
answer. serve-container keeps uvicorn (clarify_kit.explainer._http): it answers mostly at the container's pace.

What the server guarantees (tests/explainer/test_limits.py, test_endpoint.py):

- a request's headers are in within HEADER_TIMEOUT_S of the connection's opening or the request's first byte, or
  the connection is closed (slowloris); a kept-alive connection idle for KEEP_ALIVE_S is closed;
- a body is read as it arrives, within ``app.max_body`` (refused at its first byte over it, or at once from its
  Content-Length: memory stays bounded whatever a client sends, chunked or not), BODY_IDLE_TIMEOUT_S between
  chunks and the request's deadline; a refused or stalled body is answered (``app.refuse``) and the connection
  closed;
- ``Expect: 100-continue`` is answered before the body is read; a request the parser cannot read gets 400 and the
  connection is closed; requests pipelined on one connection are answered in order;
- ``stop`` stops accepting, gives the requests in flight ``grace_s`` to be answered, then closes every connection.
"""

from __future__ import annotations

import logging
import signal
import socket
import threading
import time
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Protocol

import httptools

from clarify_kit.explainer import _body
from clarify_kit.explainer._serving import notices_to_stderr
from clarify_kit.explainer.runtime_errors import ServiceError

__all__ = [
    "HEADER_TIMEOUT_S",
    "KEEP_ALIVE_S",
    "Answer",
    "App",
    "ThreadedServer",
    "serve_in_thread",
    "serve_until_signalled",
]

# A request's headers must be in this long after the connection opens or the request's first byte (kit).
HEADER_TIMEOUT_S = 10.0
# An idle kept-alive connection is closed after this long (kit; uvicorn's default is 5 s, the kit's was 30 s).
KEEP_ALIVE_S = 30.0
_RECV = 1 << 16
_LINGER_BYTES = 4 << 20

Answer = tuple[int, dict[str, str], bytes]


class App(Protocol):
    """What the server serves: ``answer`` a whole request, ``refuse`` one whose body cannot be read."""

    max_body: int
    deadline_s: float  # a request's body must be in this long after its headers are

    def answer(self, method: str, path: str, headers: dict[str, str], body: bytes, arrived: float) -> Answer: ...

    def refuse(self, err: ServiceError) -> Answer:
        """The answer to a request whose body is refused (the connection is closed after it)."""
        ...


@dataclass
class _Request:
    """A request being read: what the parser has delivered so far."""

    arrived: float = 0.0
    url: bytearray = field(default_factory=bytearray)
    headers: dict[str, str] = field(default_factory=dict)
    body: list[bytes] = field(default_factory=list)
    size: int = 0
    headers_in: bool = False
    method: str = ""
    keep_alive: bool = True
    refused: ServiceError | None = None  # why the body is refused, once it is


class _Connection:
    """One client connection: the parser's callbacks collect requests, ``run`` answers them in order."""

    def __init__(self, server: ThreadedServer, sock: socket.socket) -> None:
        self.server, self.sock = server, sock
        self.parser = httptools.HttpRequestParser(self)
        self.current: _Request | None = None
        self.complete: list[_Request] = []
        self.header_deadline: float | None = time.monotonic() + HEADER_TIMEOUT_S  # a new connection's first request

    # --- httptools' callbacks ---------------------------------------------------------------------------------

    def on_message_begin(self) -> None:
        self.current = _Request(arrived=time.monotonic())
        self.header_deadline = self.current.arrived + HEADER_TIMEOUT_S

    def on_url(self, url: bytes) -> None:
        assert self.current is not None
        self.current.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        assert self.current is not None
        self.current.headers[name.decode("latin-1").lower()] = value.decode("latin-1")

    def on_headers_complete(self) -> None:
        request = self.current
        assert request is not None
        request.headers_in, request.method = True, self.parser.get_method().decode("ascii")
        self.header_deadline = None
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.server.app.max_body:
            request.refused = _body.too_large(declared)
        elif request.headers.get("expect", "").lower() == "100-continue":
            self.sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")

    def on_body(self, chunk: bytes) -> None:
        request = self.current
        assert request is not None
        request.size += len(chunk)
        if request.refused:
            return
        if request.size > self.server.app.max_body:
            request.refused, request.body = _body.too_large(f"more than {self.server.app.max_body}"), []
            return
        request.body.append(chunk)

    def on_message_complete(self) -> None:
        request = self.current
        assert request is not None
        request.keep_alive = self.parser.should_keep_alive()
        self.complete.append(request)
        self.current = None

    # --- the connection's thread ------------------------------------------------------------------------------

    def run(self) -> None:
        try:
            self._serve()
        except OSError:
            pass  # the client went away, or the server is stopping
        except Exception:  # a fault of the app's: this connection ends, the server and the others go on
            logging.getLogger("clarify_kit").exception("local endpoint: a connection failed")
        finally:
            self.server.forget(self)
            self.sock.close()

    def _serve(self) -> None:
        app = self.server.app
        while True:
            wait, on_timeout = self._next_wait()
            self.sock.settimeout(max(wait, 0.0))
            try:
                data = self.sock.recv(_RECV)
            except TimeoutError:
                if on_timeout is not None and self.current is not None:
                    self._write(app.refuse(_stalled(self.current.size, on_timeout)), close=True)
                    self._linger()
                return
            if not data:
                return
            try:
                self.parser.feed_data(data)
            except httptools.HttpParserError:
                self._write((400, {"content-type": "text/plain"}, b"Invalid HTTP request received."), close=True)
                self._linger()
                return
            request = self.current
            if request is not None and request.refused:  # refused while it arrives: answered now, then closed
                self._write(app.refuse(request.refused), close=True)
                self._linger()
                return
            while self.complete:
                request = self.complete.pop(0)
                if request.refused:
                    self._write(app.refuse(request.refused), close=True)
                    self._linger()
                    return
                with self.server.busy():
                    answer = app.answer(
                        request.method,
                        request.url.decode("latin-1"),
                        request.headers,
                        b"".join(request.body),
                        request.arrived,
                    )
                self._write(answer, close=not request.keep_alive or self.server.stopping)
                if not request.keep_alive or self.server.stopping:
                    return

    def _next_wait(self) -> tuple[float, str | None]:
        """How long the next read may wait, and what a timeout then means (None: close without an answer)."""
        now = time.monotonic()
        request = self.current
        if request is not None and request.headers_in:  # a body arriving: its idle time and the request's deadline
            left = request.arrived + self.server.app.deadline_s - now
            idle = _body.BODY_IDLE_TIMEOUT_S
            if left <= idle:
                return left, f"still arriving {self.server.app.deadline_s:.0f} s after the request did"
            return idle, f"nothing for {idle:.0f} s"
        if self.header_deadline is not None:  # a request's headers (or a new connection's first bytes) are due
            return self.header_deadline - now, None
        return KEEP_ALIVE_S, None

    def _linger(self) -> None:
        """Before closing on a request not read to its end: stop writing, then read and drop what the client
        still sends, for a second and 4 MiB at most. Closing with unread bytes would reset the connection, and a
        reset can destroy the answer before the client reads it."""
        try:
            self.sock.shutdown(socket.SHUT_WR)
            self.sock.settimeout(1.0)
            dropped = 0
            while dropped < _LINGER_BYTES and (data := self.sock.recv(_RECV)):
                dropped += len(data)
        except OSError:
            pass

    def _write(self, answer: Answer, *, close: bool) -> None:
        status, headers, body = answer
        reason = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else ""
        lines = [f"HTTP/1.1 {status} {reason}"]
        lines.extend(f"{name}: {value}" for name, value in headers.items())
        lines.append(f"content-length: {len(body)}")
        if close:
            lines.append("connection: close")
        self.sock.settimeout(self.server.app.deadline_s)
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)


class ThreadedServer:
    """Serves ``app`` on a listening socket, a thread per connection, until ``stop``."""

    def __init__(self, app: App, sock: socket.socket) -> None:
        self.app, self.sock = app, sock
        self.stopping = False
        self.started = threading.Event()
        self._lock = threading.Condition()
        self._connections: set[_Connection] = set()
        self._in_flight = 0

    def serve(self) -> None:
        """Accept connections until ``stop`` (or until the listening socket is closed)."""
        self.sock.listen(2048)  # a burst of new connections is not dropped (the standard library's default is 5)
        self.started.set()
        while not self.stopping:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            connection = _Connection(self, client)
            with self._lock:
                self._connections.add(connection)
            threading.Thread(target=connection.run, name="local-endpoint", daemon=True).start()

    def stop(self, grace_s: float) -> None:
        """Stop accepting; the requests in flight get ``grace_s`` to be answered; then every connection closes."""
        self.stopping = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)  # wakes ``serve`` out of accept
        except OSError:
            pass
        deadline = time.monotonic() + grace_s
        with self._lock:
            while self._in_flight and time.monotonic() < deadline:
                self._lock.wait(deadline - time.monotonic())
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def busy(self) -> _Busy:
        return _Busy(self)

    def forget(self, connection: _Connection) -> None:
        with self._lock:
            self._connections.discard(connection)


class _Busy:
    """A request in flight, for ``stop``'s grace period."""

    def __init__(self, server: ThreadedServer) -> None:
        self.server = server

    def __enter__(self) -> None:
        with self.server._lock:
            self.server._in_flight += 1

    def __exit__(self, *exc: object) -> None:
        with self.server._lock:
            self.server._in_flight -= 1
            self.server._lock.notify_all()


def _stalled(size: int, why: str) -> ServiceError:
    return ServiceError(
        "ValidationError", f"the request body stopped arriving ({size} bytes in, {why}); the connection is closed"
    )


def serve_until_signalled(server: ThreadedServer, announcement: str, grace_s: float) -> None:
    """Serve until Ctrl-C or SIGTERM, after printing ``announcement``; then stop within ``grace_s``. The previous
    signal handlers are back afterwards."""
    stop = threading.Event()
    # handlers before the announcement, so that a Ctrl-C at any moment after it stops the server cleanly
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        print(announcement, flush=True)
        with notices_to_stderr():
            serve_in_thread(server)
            while not stop.wait(3600):
                pass
            server.stop(grace_s)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def serve_in_thread(server: ThreadedServer) -> threading.Thread:
    thread = threading.Thread(target=server.serve, name="local-endpoint-accept", daemon=True)
    thread.start()
    server.started.wait(10)
    return thread
