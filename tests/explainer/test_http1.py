"""The explainer's HTTP/1.1 client against a peer that writes exactly the bytes a test gives: every framing the
protocol allows (Content-Length, chunked with extensions and trailers, close-delimited, interim 1xx answers),
kept-alive connections and their replacement, and what it must refuse."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any

import pytest

from clarify_kit.explainer.http1 import Client, ProtocolError, Timeout, TooLarge

Reply = Callable[[bytes], list[bytes | float | None]]  # request -> what to write (bytes), pause (float), close (None)


def _read_request(conn: socket.socket, buffer: bytearray) -> bytes | None:
    while b"\r\n\r\n" not in buffer:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        buffer += chunk
    end = buffer.index(b"\r\n\r\n") + 4
    head = bytes(buffer[:end]).decode("latin-1")
    lengths = [int(line.split(":")[1]) for line in head.split("\r\n") if line.lower().startswith("content-length")]
    length = lengths[0] if lengths else 0
    while len(buffer) < end + length:
        buffer += conn.recv(65536)
    request = bytes(buffer[: end + length])
    del buffer[: end + length]
    return request


@contextmanager
def peer(reply: Reply) -> Iterator[tuple[str, list[bytes]]]:
    """A server on a free port answering each request with ``reply(request)``; the requests it saw."""
    listener = socket.create_server(("127.0.0.1", 0))
    seen: list[bytes] = []

    def serve(conn: socket.socket) -> None:
        buffer = bytearray()
        with conn, suppress(OSError):  # the client may hang up first: that is what some tests ask of it
            while (request := _read_request(conn, buffer)) is not None:
                seen.append(request)
                for step in reply(request):
                    if step is None:
                        return
                    if isinstance(step, float):
                        time.sleep(step)
                    else:
                        conn.sendall(step)

    def accept() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}", seen
    finally:
        listener.close()


def _post(url: str, body: bytes = b"1,2\n3,4", *, timeout: float = 5.0, cap: int | None = None) -> tuple[int, bytes]:
    answer = Client(url).request("POST", "/invocations", body=body, deadline=time.monotonic() + timeout, cap=cap)
    return answer.status, answer.body


def test_a_content_length_answer_is_read_whole_and_the_request_is_sent_as_written() -> None:
    ok = b"HTTP/1.1 200 OK\r\nContent-Type: text/csv\r\nContent-Length: 7\r\n\r\n0.1\n0.2"
    with peer(lambda r: [ok]) as (url, seen):
        client = Client(url + "/prefix/")
        answer = client.request(
            "POST", "/invocations", body=b"1,2\n3,4", headers={"Accept": "text/csv"}, deadline=time.monotonic() + 5
        )
    assert (answer.status, answer.body, answer.headers["content-type"]) == (200, b"0.1\n0.2", "text/csv")
    head, _, body = seen[0].partition(b"\r\n\r\n")
    assert head.split(b"\r\n")[0] == b"POST /prefix/invocations HTTP/1.1"
    assert b"Content-Length: 7" in head and b"Accept: text/csv" in head and b"Host: 127.0.0.1:" in head
    assert b"Accept-Encoding: identity" in head  # no compressed answer: this client does not decode one
    assert body == b"1,2\n3,4"


def test_a_chunked_answer_with_extensions_and_trailers_is_joined() -> None:
    answer = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"4;name=value\r\n0.1\n\r\n3\r\n0.2\r\n0\r\nX-Trailer: yes\r\n\r\n"
    )
    with peer(lambda r: [answer[:30], 0.01, answer[30:]]) as (url, _):
        assert _post(url) == (200, b"0.1\n0.2")


def test_a_close_delimited_answer_is_read_to_the_close_and_the_connection_is_not_kept() -> None:
    with peer(lambda r: [b"HTTP/1.0 200 OK\r\n\r\n0.1\n", 0.01, b"0.2", None]) as (url, seen):
        client = Client(url)
        for _ in range(2):
            assert client.request("POST", "/x", body=b"1", deadline=time.monotonic() + 5).body == b"0.1\n0.2"
    assert client.connects == 2


def test_interim_answers_are_skipped_and_bare_line_feeds_are_accepted() -> None:
    with peer(lambda r: [b"HTTP/1.1 100 Continue\r\n\r\n", b"HTTP/1.1 200 OK\nContent-Length: 1\n\n7"]) as (url, _):
        assert _post(url) == (200, b"7")


def test_kept_alive_connections_are_reused_and_a_closed_one_is_replaced() -> None:
    count = iter(range(100))

    def reply(request: bytes) -> list[bytes | float | None]:
        n = next(count)
        ok = b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n" + str(n % 10).encode()
        return [ok, None] if n == 2 else [ok]  # the third answer closes its connection after answering

    with peer(reply) as (url, seen):
        client = Client(url)
        bodies = [client.request("GET", "/ping", deadline=time.monotonic() + 5).body for _ in range(5)]
    assert bodies == [b"0", b"1", b"2", b"3", b"4"]
    assert client.connects == 2 and len(seen) == 5


def test_a_kept_alive_connection_dropped_silently_is_retried_once_on_a_new_one() -> None:
    served = iter(range(100))

    def reply(request: bytes) -> list[bytes | float | None]:
        # the second request arrives on the kept connection, which the server then drops unanswered
        return [None] if next(served) == 1 else [b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"]

    with peer(reply) as (url, seen):
        client = Client(url)
        assert client.request("POST", "/x", body=b"a", deadline=time.monotonic() + 5).body == b"ok"
        assert client.request("POST", "/x", body=b"b", deadline=time.monotonic() + 5).body == b"ok"
    assert client.connects == 2 and len(seen) == 3


def test_a_new_connection_closed_unanswered_is_an_error_not_a_retry() -> None:
    with peer(lambda r: [None]) as (url, seen), pytest.raises(ProtocolError, match="closed before the answer"):
        _post(url)
    assert len(seen) == 1


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n12", "closed after 2 of 5 bytes"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n12", "invalid Content-Length"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "invalid Content-Length"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "not a chunk size"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n123\r\n0\r\n\r\n", "does not end"),
        (b"ICY 200 OK\r\n\r\n", "not an HTTP/1.x status line"),
        (b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", "not a header line"),
        (b"HTTP/1.1 200 OK\r\nX: " + b"y" * (70 << 10), "over 64 KiB"),
    ],
)
def test_broken_framing_is_a_protocol_error_that_says_what_broke(answer: bytes, message: str) -> None:
    with peer(lambda r: [answer, None]) as (url, _), pytest.raises(ProtocolError, match=message):
        _post(url)


def test_a_repeated_content_length_with_one_value_is_accepted() -> None:
    with peer(lambda r: [b"HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\nok"]) as (url, _):
        assert _post(url) == (200, b"ok")


@pytest.mark.parametrize(
    ("answer", "declared"),
    [
        (b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n", True),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + b"400\r\n" + b"x" * 1024 + b"\r\n", False),
        (b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + b"x" * 5000, False),
    ],
)
def test_an_answer_over_the_cap_is_refused_as_it_arrives(answer: bytes, declared: bool) -> None:
    with peer(lambda r: [answer, 0.5, None]) as (url, _), pytest.raises(TooLarge) as caught:
        _post(url, cap=1000)
    assert caught.value.declared is declared and caught.value.size > 1000


def test_the_deadline_bounds_the_whole_exchange_not_each_read() -> None:
    trickle: list[bytes | float | None] = [b"HTTP/1.1 200 OK\r\nContent-Length: 40\r\n\r\n"]
    trickle += [step for _ in range(40) for step in (b"x", 0.05)]
    with peer(lambda r: trickle) as (url, _):
        started = time.monotonic()
        with pytest.raises(Timeout) as caught:
            _post(url, timeout=0.5)
    assert caught.value.answering and time.monotonic() - started < 1.5
    with peer(lambda r: [2.0]) as (url, _), pytest.raises(Timeout) as silent:
        _post(url, timeout=0.3)
    assert not silent.value.answering


def test_an_early_answer_to_a_request_the_peer_stopped_reading_is_read() -> None:
    listener = socket.create_server(("127.0.0.1", 0))

    def refuse() -> None:
        conn, _ = listener.accept()
        conn.recv(1024)
        conn.sendall(b"HTTP/1.1 413 Payload Too Large\r\nContent-Length: 8\r\nConnection: close\r\n\r\ntoo big!")
        conn.shutdown(socket.SHUT_WR)
        time.sleep(0.5)
        conn.close()

    threading.Thread(target=refuse, daemon=True).start()
    try:
        assert _post(f"http://127.0.0.1:{listener.getsockname()[1]}", body=b"x" * (8 << 20)) == (413, b"too big!")
    finally:
        listener.close()


def test_a_header_value_with_a_line_break_is_refused_before_anything_is_sent() -> None:
    ok = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
    with peer(lambda r: [ok]) as (url, seen), pytest.raises(ValueError, match="line break"):
        Client(url).request("GET", "/", headers={"X": "a\r\nInjected: 1"}, deadline=time.monotonic() + 5)
    assert seen == []


@contextmanager
def uvicorn_app(stream: bool) -> Iterator[str]:
    """A real third-party server: uvicorn (h11) serving a Starlette app that answers every POST with the lines
    it was sent, upper-cased, streamed in pieces (chunked) or whole (Content-Length)."""
    import asyncio

    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response, StreamingResponse
    from starlette.routing import Route

    async def echo(request: Request) -> Response:
        body = (await request.body()).upper()

        async def pieces() -> Any:
            for start in range(0, len(body), 7):
                yield body[start : start + 7]
                await asyncio.sleep(0)

        return StreamingResponse(pieces(), media_type="text/csv") if stream else Response(body, media_type="text/csv")

    listener = socket.create_server(("127.0.0.1", 0))
    server = uvicorn.Server(
        uvicorn.Config(
            Starlette(routes=[Route("/invocations", echo, methods=["POST"])]), log_level="error", lifespan="off"
        )
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(5)


@pytest.mark.parametrize("stream", [True, False], ids=["chunked", "content-length"])
def test_a_real_server_answers_over_one_kept_connection(stream: bool) -> None:
    with uvicorn_app(stream) as url:
        client = Client(url)
        for n in (1, 50, 3000):
            body = "\n".join(f"a,{i}" for i in range(n)).encode()
            answer = client.request("POST", "/invocations", body=body, deadline=time.monotonic() + 10)
            assert (answer.status, answer.body) == (200, body.upper())
            assert ("transfer-encoding" in answer.headers) is stream
    assert client.connects == 1


def _serial_server(answer_size: int) -> tuple[str, socket.socket, threading.Thread]:
    """A peer that serves two connections strictly in turn: it reads the first request, writes its large answer
    (blocking until the client reads it), and only then reads the second connection's request."""
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        first, _ = listener.accept()
        second, _ = listener.accept()
        with first, second, suppress(OSError):
            _read_request(first, bytearray())
            first.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % answer_size + b"a" * answer_size)
            request = _read_request(second, bytearray())
            size = str(len(request or b"")).encode()
            second.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(size) + size)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return f"http://127.0.0.1:{listener.getsockname()[1]}", listener, thread


def _two_in_flight(size: int) -> None:
    url, listener, thread = _serial_server(size)
    client = Client(url)
    deadline = time.monotonic() + 20
    try:
        first = client.start("POST", "/invocations", body=b"1", deadline=deadline)
        second = client.start("POST", "/invocations", body=b"2" * size, deadline=deadline, pending=[first])
        assert not first.refused()
        assert first.finish().body == b"a" * size
        assert int(second.finish().body) > size  # the whole request arrived
    finally:
        listener.close()
        thread.join(timeout=5)


def test_requests_in_flight_from_one_thread_read_earlier_answers_while_writing() -> None:
    """Two requests written before either answer is read, to a peer that answers the first (more than the socket
    buffers hold) before it reads the second: the client reads the first answer while it writes the second body
    (else each side would wait on the other until the deadline)."""
    _two_in_flight(32 << 20)


def test_requests_in_flight_on_descriptors_numbered_past_1024() -> None:
    """A process with many files open (a busy endpoint's connections): select() cannot watch a descriptor numbered
    1024 or more, the client's waits can."""
    import os
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 1400
    if hard != resource.RLIM_INFINITY and hard < wanted:
        pytest.skip(f"the hard limit on open files is {hard}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, wanted), hard))
    fillers = [os.open(os.devnull, os.O_RDONLY) for _ in range(1100)]
    try:
        _two_in_flight(8 << 20)
    finally:
        for fd in fillers:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


@pytest.mark.parametrize(("status", "refused"), [(400, True), (503, True), (200, False)])
def test_an_answer_under_way_tells_a_refusal_before_it_is_read(status: int, refused: bool) -> None:
    answer = b"HTTP/1.1 %d X\r\nContent-Length: 2\r\n\r\nok" % status
    with peer(lambda r: [answer]) as (url, _):
        exchange = Client(url).start("POST", "/invocations", body=b"1", deadline=time.monotonic() + 5)
        time.sleep(0.2)  # the answer has arrived, nobody has read it
        assert exchange.refused() is refused
        got = exchange.finish()  # what was read ahead is the answer's start
        assert (got.status, got.body) == (status, b"ok")
