"""The HTTP/1.1 client the explainer reaches the model container with: kept-alive connections, one request written
in one call, the answer read into one buffer, and a deadline over the whole exchange (docs/explainer.md 3.4).

An explained record costs a few container requests of a few hundred kilobytes each, so the client's own work counts:
a general client (urllib3 over http.client) spends several times the CPU of the exchange itself on header objects,
buffered files and the email parser. This one does only what the container contract needs: POST and GET, a
Content-Length body out; Content-Length, chunked or close-delimited answers in (RFC 9112, section 6.3), interim 1xx
answers skipped, a cap on what is read.
"""

from __future__ import annotations

import select
import socket
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    import ssl

__all__ = ["Answer", "Client", "Exchange", "ProtocolError", "Timeout", "TooLarge"]

_RECV = 1 << 16  # what one read takes at most (a larger request of recv costs an mmap of its own)
_HEAD_LIMIT = 64 << 10  # an answer's status line and headers together
_NO_BODY = (204, 304)
_SEPARATE_BODY = 64 << 10  # a body this large is written apart from the head rather than copied onto it
# What is read ahead of a pending answer while another request is written (then that answer waits its turn).
_READ_AHEAD = 64 << 20


class ProtocolError(OSError):
    """The peer broke the HTTP/1.1 framing (or closed the connection before its answer was complete)."""


class TooLarge(Exception):
    """An answer over the caller's cap: ``declared`` says whether Content-Length said so before any body was read."""

    def __init__(self, status: int, size: int, *, declared: bool) -> None:
        super().__init__(status, size, declared)
        self.status, self.size, self.declared = status, size, declared


class Timeout(TimeoutError):
    """The deadline passed; ``answering`` says whether the answer had begun (its status line had arrived)."""

    def __init__(self, *, answering: bool) -> None:
        super().__init__("answer incomplete" if answering else "no answer")
        self.answering = answering


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]  # names in lower case; a repeated header's values joined by ", "
    body: bytes


class _Connection:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.reused = False

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    def stale(self) -> bool:
        """Whether a kept-alive connection has been closed by the peer (or sent something unasked)."""
        try:
            return _readable(self.sock)
        except (OSError, ValueError):
            return True


class Client:
    """HTTP/1.1 requests to one origin over kept-alive connections (thread-safe: a connection serves one request at
    a time; up to ``pool_size`` idle ones are kept). ``connects`` counts the connections opened."""

    def __init__(self, base_url: str, *, pool_size: int = 16) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {base_url!r}")
        self.host = parts.hostname
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.tls = _tls_context() if parts.scheme == "https" else None
        self.prefix = parts.path.rstrip("/")
        default = 443 if self.tls else 80
        host = f"[{self.host}]" if ":" in self.host else self.host
        self.authority = host if self.port == default else f"{host}:{self.port}"
        self.pool_size = pool_size
        self.connects = 0
        self._idle: list[_Connection] = []
        self._lock = threading.Lock()

    def request(
        self,
        method: str,
        path: str,
        *,
        body: bytes = b"",
        headers: dict[str, str] | None = None,
        deadline: float,
        connect_timeout: float = 5.0,
        cap: int | None = None,
    ) -> Answer:
        """One exchange, complete by ``deadline`` (time.monotonic()) or Timeout. A kept-alive connection the peer
        closed before answering (its idle timeout) is replaced once: nothing of the request was taken."""
        return self.start(
            method, path, body=body, headers=headers, deadline=deadline, connect_timeout=connect_timeout, cap=cap
        ).finish()

    def start(
        self,
        method: str,
        path: str,
        *,
        body: bytes = b"",
        headers: dict[str, str] | None = None,
        deadline: float,
        connect_timeout: float = 5.0,
        cap: int | None = None,
        pending: Sequence[Exchange] = (),
    ) -> Exchange:
        """Write a request and return before its answer: ``finish()`` reads it. Several exchanges can be under
        way from one thread, each on a connection of its own; while this request is written, the answers of
        ``pending`` ones are read as they arrive (a peer busy writing an answer nobody reads would otherwise never
        read this request)."""
        head = self._head(method, path, body, headers or {})
        # a small body in the head's write: no delayed-ACK stall between the two
        parts = (head + body,) if len(body) < _SEPARATE_BODY else (head, body)
        exchange = Exchange(self, method, parts, deadline=deadline, connect_timeout=connect_timeout, cap=cap)
        exchange.send(pending)
        return exchange

    # --- connections -------------------------------------------------------------------------------------------

    def _take(self, deadline: float, connect_timeout: float) -> _Connection:
        while True:
            with self._lock:
                conn = self._idle.pop() if self._idle else None
            if conn is None:
                break
            if not conn.stale():
                conn.reused = True
                return conn
            conn.close()
        left = deadline - time.monotonic()
        if left <= 0:
            raise Timeout(answering=False)
        wait = min(connect_timeout, left)
        try:
            sock = socket.create_connection((self.host, self.port), timeout=wait)
        except TimeoutError:
            raise ConnectionError(f"no connection within {wait:.1f} s") from None
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self.tls is not None:
                sock = self.tls.wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise
        with self._lock:
            self.connects += 1
        return _Connection(sock)

    def _give(self, conn: _Connection) -> None:
        with self._lock:
            if len(self._idle) < self.pool_size:
                self._idle.append(conn)
                return
        conn.close()

    # --- one exchange --------------------------------------------------------------------------------------------

    def _head(self, method: str, path: str, body: bytes, headers: dict[str, str]) -> bytes:
        # identity: without the header any content coding is acceptable (RFC 9110), and a server's compression
        # middleware could answer gzip, which this client does not decode
        lines = [f"{method} {self.prefix}{path} HTTP/1.1", f"Host: {self.authority}", "Accept-Encoding: identity"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        if body or method not in ("GET", "HEAD"):
            lines.append(f"Content-Length: {len(body)}")
        for line in lines:
            if "\r" in line or "\n" in line:
                raise ValueError(f"a header may not hold a line break: {line[:80]!r}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


@dataclass(eq=False)
class Exchange:
    """One request written and its answer still to read (Client.start)."""

    client: Client
    method: str
    parts: tuple[bytes, ...]  # what is written: the head and the body, or both in one
    deadline: float
    connect_timeout: float
    cap: int | None
    conn: _Connection | None = None
    reader: _Reader | None = None

    def send(self, pending: Sequence[Exchange] = ()) -> None:
        conn = self.client._take(self.deadline, self.connect_timeout)
        self.conn, self.reader = conn, _Reader(conn.sock, self.deadline)
        try:
            self.reader.send(*self.parts, others=[e.reader for e in pending if e.reader is not None])
        except BaseException:
            self.abandon()
            raise

    def finish(self) -> Answer:
        """The answer; a kept-alive connection the peer closed before answering (its idle timeout) is replaced
        once, the request written again: nothing of it was taken."""
        while True:
            conn, reader = self.conn, self.reader
            assert conn is not None and reader is not None, "finish() after abandon()"
            try:
                answer, keep = self._answer(reader)
            except _Unanswered:
                self.abandon()
                if conn.reused:
                    self.send()
                    continue
                raise ProtocolError("the connection closed before the answer began") from None
            except BaseException:
                self.abandon()
                raise
            self.conn = self.reader = None
            self.client._give(conn) if keep else conn.close()
            return answer

    def _answer(self, reader: _Reader) -> tuple[Answer, bool]:
        """The final answer (interim 1xx ones skipped) and whether the connection can be kept."""
        while True:
            status, version, headers = reader.head()
            if status >= 200 or status < 100:
                break
        if self.method == "HEAD" or status in _NO_BODY:
            body_out, framed = b"", True
        else:
            body_out, framed = reader.body(status, headers, self.cap)
        keep = framed and not reader.extra() and _keep_alive(version, headers.get("connection", ""))
        return Answer(status, headers, body_out), keep

    def refused(self) -> bool:
        """Whether what has arrived of the answer (read now, without waiting) already says the request failed: a
        final status other than 2xx, or the connection's end before any answer."""
        reader = self.reader
        if reader is None:
            return False
        if reader.ended is None:
            try:
                if _readable(reader.sock):
                    reader.pump()
            except (OSError, ValueError):
                return True
        if reader.ended is not None and not reader.received:
            return True
        end = reader.buffer.find(b"\n")
        status = bytes(reader.buffer[:end]).split()[1:2] if end >= 0 else []
        return bool(status) and status[0].isdigit() and not status[0].startswith((b"1", b"2"))

    def abandon(self) -> None:
        """Give the exchange up: its connection is closed (an answer may still be on its way)."""
        if self.conn is not None:
            self.conn.close()
        self.conn = self.reader = None


class _Unanswered(Exception):
    """The connection closed (or was reset) before a byte of the answer arrived."""


class _Reader:
    def __init__(self, sock: socket.socket, deadline: float) -> None:
        self.sock, self.deadline = sock, deadline
        self.buffer = bytearray()  # what arrived and is not read yet (a connection with bytes left over is not kept)
        self.received = False  # a byte of the answer arrived
        self.ended: str | None = None  # read ahead (pump): "closed" or "reset", the stream's end after the buffer

    def _wait(self) -> None:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise Timeout(answering=self.received)
        self.sock.settimeout(left)

    def send(self, *parts: bytes, others: Sequence[_Reader] = ()) -> None:
        """Write the request (reading ahead what arrives for ``others`` meanwhile). A peer that closes while it is
        written may have answered first (a refusal before reading the body): that answer is read next, and a
        connection closed without one is _Unanswered."""
        try:
            for data in parts:
                self._wait()
                if others:
                    self._send_reading(data, others)
                else:
                    self.sock.sendall(data)
        except TimeoutError:
            raise Timeout(answering=False) from None
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _send_reading(self, data: bytes, others: Sequence[_Reader]) -> None:
        """sendall, reading the answers of ``others`` into their buffers whenever they arrive (up to _READ_AHEAD
        each) until the socket takes more."""
        view = memoryview(data)
        # poll, not select: select cannot watch a descriptor numbered 1024 or more
        poller = select.poll()
        poller.register(self.sock, select.POLLOUT)
        readers = {r.sock.fileno(): r for r in others if r.ended is None and len(r.buffer) <= _READ_AHEAD}
        for fd in readers:
            poller.register(fd, select.POLLIN)
        mine = self.sock.fileno()
        while view:
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            for fd, _ in poller.poll(left * 1000):
                if fd == mine:
                    view = view[self.sock.send(view) :]
                    continue
                reader = readers[fd]
                reader.pump()
                if reader.ended is not None or len(reader.buffer) > _READ_AHEAD:
                    poller.unregister(fd)

    def pump(self) -> None:
        """Read what has arrived (the socket is readable: this does not wait)."""
        try:
            chunk = self.sock.recv(_RECV, socket.MSG_DONTWAIT)
        except (BlockingIOError, InterruptedError):
            return
        except ConnectionResetError:
            self.ended = "reset"
            return
        if not chunk:
            self.ended = "closed"
            return
        self.received = True
        self.buffer += chunk

    def _more(self) -> bool:
        """Read what has arrived into the buffer; False at the end of the stream."""
        if self.ended is not None:  # read ahead to the end already
            if not self.received:
                raise _Unanswered
            if self.ended == "reset":
                raise ConnectionResetError("the connection was reset")
            return False
        self._wait()
        try:
            chunk = self.sock.recv(_RECV)
        except TimeoutError:
            raise Timeout(answering=self.received) from None
        except ConnectionResetError:
            if not self.received:
                raise _Unanswered from None
            raise
        if not chunk:
            if not self.received:
                raise _Unanswered
            return False
        self.received = True
        self.buffer += chunk
        return True

    def head(self) -> tuple[int, str, dict[str, str]]:
        """The next answer's status, HTTP version and headers; the buffer keeps what follows them."""
        while True:
            end, gap = _head_end(self.buffer)
            if end >= 0:
                break
            if len(self.buffer) > _HEAD_LIMIT:
                raise ProtocolError(f"the answer's headers are over {_HEAD_LIMIT >> 10} KiB")
            if not self._more():
                raise ProtocolError("the connection closed in the middle of the answer's headers")
        text = bytes(self.buffer[:end]).decode("latin-1")
        del self.buffer[: end + gap]
        first, *lines = text.replace("\r\n", "\n").split("\n")
        version, _, rest = first.partition(" ")
        code = rest[:3]
        if not version.startswith("HTTP/1.") or not code.isdigit() or rest[3:4] not in ("", " "):
            raise ProtocolError(f"not an HTTP/1.x status line: {first[:80]!r}")
        headers: dict[str, str] = {}
        key = ""
        for line in lines:
            if line[:1] in (" ", "\t") and key:  # an obsolete folded continuation of the previous header
                headers[key] = f"{headers[key]} {line.strip()}"
                continue
            name, colon, value = line.partition(":")
            key, value = name.strip().lower(), value.strip()
            if not colon or not key:
                raise ProtocolError(f"not a header line: {line[:80]!r}")
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        return int(code), version, headers

    def body(self, status: int, headers: dict[str, str], cap: int | None) -> tuple[bytes, bool]:
        """The body and whether it was framed (not delimited by the connection's close)."""
        coding = headers.get("transfer-encoding", "")
        if coding:
            if coding.lower().rsplit(",", 1)[-1].strip() != "chunked":
                return self._until_close(status, cap), False
            return self._chunked(status, cap), True
        if "content-length" in headers:
            lengths = {v.strip() for v in headers["content-length"].split(",")}
            length = lengths.pop() if len(lengths) == 1 else ""
            if not length.isdigit():
                raise ProtocolError(f"an invalid Content-Length: {headers['content-length'][:40]!r}")
            size = int(length)
            if cap is not None and size > cap:
                raise TooLarge(status, size, declared=True)
            return self._exactly(size), True
        return self._until_close(status, cap), False

    def _exactly(self, size: int) -> bytes:
        while len(self.buffer) < size:
            if not self._more():
                raise ProtocolError(f"the connection closed after {len(self.buffer):,} of {size:,} bytes")
        data = bytes(self.buffer[:size])
        del self.buffer[:size]
        return data

    def _until_close(self, status: int, cap: int | None) -> bytes:
        while True:
            if cap is not None and len(self.buffer) > cap:
                raise TooLarge(status, len(self.buffer), declared=False)
            if not self._more():
                break
        data = bytes(self.buffer)
        self.buffer.clear()
        return data

    def _line(self) -> bytes:
        while (end := self.buffer.find(b"\n")) < 0:
            if len(self.buffer) > _HEAD_LIMIT or not self._more():
                raise ProtocolError("a chunk's size line is missing")
        line = bytes(self.buffer[:end]).rstrip(b"\r")
        del self.buffer[: end + 1]
        return line

    def _chunked(self, status: int, cap: int | None) -> bytes:
        parts: list[bytes] = []
        size = 0
        while True:
            field = self._line().split(b";", 1)[0].strip()
            try:
                length = int(field, 16)
            except ValueError:
                raise ProtocolError(f"not a chunk size: {field[:40]!r}") from None
            if length == 0:
                break
            size += length
            if cap is not None and size > cap:
                raise TooLarge(status, size, declared=False)
            parts.append(self._exactly(length))
            if self._line():
                raise ProtocolError("a chunk does not end where its size says")
        while self._line():  # trailers, up to the empty line
            pass
        return b"".join(parts)

    def extra(self) -> bool:
        """Whether bytes arrived past the answer (then the connection is not reused)."""
        return bool(self.buffer)


def _readable(sock: socket.socket) -> bool:
    """Whether the socket has something to read (or its end) now, without waiting."""
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    return bool(poller.poll(0))


def _head_end(buffer: bytearray) -> tuple[int, int]:
    """Where the headers end (before their empty line) and that empty line's length; (-1, 0) while incomplete. The
    search for a bare-LF empty line stops at the CRLF one: the body that follows is not scanned."""
    crlf = buffer.find(b"\r\n\r\n", 0, _HEAD_LIMIT + 4)
    lf = buffer.find(b"\n\n", 0, crlf if crlf >= 0 else _HEAD_LIMIT + 2)
    if lf >= 0:
        return lf, 2
    return (crlf, 4) if crlf >= 0 else (-1, 0)


def _tls_context() -> ssl.SSLContext:
    import ssl  # here: a model container is plain HTTP nearly always, and ssl costs an import

    return ssl.create_default_context()


def _keep_alive(version: str, connection: str) -> bool:
    tokens = {t.strip().lower() for t in connection.split(",")}
    return "keep-alive" in tokens if version == "HTTP/1.0" else "close" not in tokens
