"""serve-local's own HTTP server speaks HTTP/1.1 as clients expect: pipelined requests answered in order,
``Expect: 100-continue`` honoured, unreadable requests refused, and every connection closed by ``stop``."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from clarify_kit.explainer._serving import bind_socket
from clarify_kit.explainer.runtime_errors import ServiceError
from clarify_kit.explainer.threaded_http import Answer, ThreadedServer, serve_in_thread


class _Echo:
    """Answers each request with its method, path and body; ``slow`` paths take 0.5 s."""

    max_body = 1000
    deadline_s = 5.0

    def answer(self, method: str, path: str, headers: dict[str, str], body: bytes, arrived: float) -> Answer:
        if path == "/slow":
            time.sleep(0.5)
        return 200, {"x-path": path}, f"{method} {path} {len(body)}".encode()

    def refuse(self, err: ServiceError) -> Answer:
        return 400, {}, json.dumps(err.body()).encode()


@pytest.fixture
def server() -> Iterator[tuple[ThreadedServer, int]]:
    sock = bind_socket("127.0.0.1", 0)
    served = ThreadedServer(_Echo(), sock)
    serve_in_thread(served)
    try:
        yield served, sock.getsockname()[1]
    finally:
        served.stop(grace_s=1)
        sock.close()


def _read_all(sock: socket.socket) -> bytes:
    sock.settimeout(5)
    out = b""
    while True:
        data = sock.recv(65536)
        if not data:
            return out
        out += data


def test_pipelined_requests_are_answered_in_order_and_connection_close_is_honoured(
    server: tuple[ThreadedServer, int],
) -> None:
    _, port = server
    with socket.create_connection(("127.0.0.1", port)) as sock:
        # GIVEN three requests in one write, the last asking to close
        sock.sendall(
            b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
            b"GET /b HTTP/1.1\r\nHost: x\r\n\r\n"
            b"POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
            b"2\r\nhi\r\n0\r\n\r\n"
        )
        answers = _read_all(sock)
    # THEN each is answered, in order, and the connection closes after the last
    assert answers.count(b"HTTP/1.1 200 OK") == 3
    assert answers.index(b"POST /a 3") < answers.index(b"GET /b 0") < answers.index(b"POST /c 2")
    assert answers.lower().count(b"connection: close") == 1


def test_expect_100_continue_is_answered_before_the_body_is_sent(server: tuple[ThreadedServer, int]) -> None:
    _, port = server
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"POST /e HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
        assert sock.recv(1024).startswith(b"HTTP/1.1 100 Continue")
        sock.sendall(b"data")
        assert b"POST /e 4" in sock.recv(1024)


def test_unreadable_and_oversized_requests_are_refused_and_closed(server: tuple[ThreadedServer, int]) -> None:
    _, port = server
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(b"NOT HTTP AT ALL\r\n\r\n")
        assert _read_all(sock).startswith(b"HTTP/1.1 400 Bad Request")
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(b"POST /big HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n")
        answer = _read_all(sock)
    assert answer.startswith(b"HTTP/1.1 400") and b"5000 bytes exceeds" in answer and b"connection: close" in answer


def test_stop_answers_the_request_in_flight_then_closes_idle_connections(server: tuple[ThreadedServer, int]) -> None:
    served, port = server
    idle = socket.create_connection(("127.0.0.1", port))
    busy = socket.create_connection(("127.0.0.1", port))
    busy.sendall(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
    time.sleep(0.1)
    # WHEN the server stops while a request is in flight
    stopper = threading.Thread(target=served.stop, args=(2.0,))
    stopper.start()
    # THEN the request in flight is answered (and its connection closed), the idle one is closed, none accepted
    assert b"GET /slow 0" in _read_all(busy)
    assert _read_all(idle) == b""
    stopper.join(timeout=5)
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).sendall(b"GET / HTTP/1.1\r\n\r\n")
    idle.close()
    busy.close()
