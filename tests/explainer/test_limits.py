"""The local endpoint's limits are real limits: the 60 s deadline from arrival, the 6 MiB body while reading,
unfinished bodies, and memory bounded by a few batches however large the request."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

import clarify_kit.explainer._body
import clarify_kit.explainer._http
import clarify_kit.explainer.endpoint
import clarify_kit.explainer.threaded_http
from clarify_kit.adapters.files import load_config
from clarify_kit.core.limits import INVOKE_BODY_MAX_BYTES
from clarify_kit.explainer import ContainerReply
from clarify_kit.explainer.endpoint import LocalEndpoint, running_endpoint
from tests.helpers import container, example_path, runtime_client

GOOD = "17.99,10.38,122.8,1001,0.1184,0.2776,0.3001,0.1471,0.2419,0.07871"


def timed_invoke(url: str, name: str, body: str = GOOD) -> tuple[float, Any]:
    client = runtime_client(url)
    started = time.monotonic()
    try:
        response = client.invoke_endpoint(EndpointName=name, Body=body, ContentType="text/csv", Accept="text/csv")
        outcome: Any = ("ok", json.loads(response["Body"].read()))
    except client.exceptions.ModelError as err:
        outcome = ("ModelError", err.response["Error"]["Message"])
    return time.monotonic() - started, outcome


def test_a_trickling_container_is_cut_off_at_the_deadline(models_dir: Path) -> None:
    # GIVEN a container that answers correctly but one byte every 0.5 s, and a 2 s limit
    with (
        container(models_dir / "binary", fault="trickle", fault_arg=0.5) as url,
        running_endpoint(load_config(example_path("binary")), url, timeout=2) as (base, endpoint),
    ):
        # WHEN a record is explained
        elapsed, (kind, message) = timed_invoke(base, endpoint.name)
    # THEN the service's timeout error comes at the deadline, not a 200 once the last byte arrives
    assert kind == "ModelError" and "timed out while waiting for a response from container primary" in message
    assert elapsed < 3.5


def test_a_request_waiting_for_a_worker_is_answered_at_its_deadline(models_dir: Path) -> None:
    # GIVEN one worker, a container that takes 1.5 s per request and a 2 s limit
    with (
        container(models_dir / "binary", fault="slow", fault_arg=1.5) as url,
        running_endpoint(load_config(example_path("binary")), url, timeout=2, workers=1) as (base, endpoint),
    ):
        results: list[tuple[float, Any]] = []
        threads = [threading.Thread(target=lambda: results.append(timed_invoke(base, endpoint.name))) for _ in range(2)]
        # WHEN two requests arrive together
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    # THEN the one that waited for the worker gets the timeout error at 2 s, not after its own 1.5 s of work
    timeouts = [(elapsed, message) for elapsed, (kind, message) in results if kind == "ModelError"]
    assert len(results) == 2 and len(timeouts) >= 1, results
    assert all("timed out while waiting" in message and elapsed < 2.8 for elapsed, message in timeouts)


class _Scores:
    """An in-process container: a score for every record it is sent (only the endpoint is under test)."""

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
        count = body.count(b"\n") + 1
        return ContainerReply(200, "text/csv", b"0.5\n" * count)


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[str, LocalEndpoint]]:
    with running_endpoint(load_config(example_path("binary")), "http://127.0.0.1:9") as (url, endpoint):
        endpoint.explainer.transport = _Scores()
        yield url, endpoint


def raw_request(url: str, head: bytes, chunks: Iterator[bytes], *, wait: float = 0.0) -> bytes:
    """Send a request by hand (chunked or short bodies boto3 would never send); return what comes back."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        try:
            sock.sendall(head)
            for chunk in chunks:
                sock.sendall(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the endpoint answered and closed before the rest was sent
        time.sleep(wait)
        received = b""
        while b"\r\n\r\n" not in received or not received.rstrip().endswith(b"}"):
            data = sock.recv(65536)
            if not data:
                break
            received += data
        return received


def test_an_oversized_chunked_body_is_refused_while_reading_within_bounded_memory(
    served: tuple[str, LocalEndpoint],
) -> None:
    # GIVEN a chunked body of 64 MiB (no Content-Length to refuse it by)
    url, endpoint = served
    head = (
        f"POST /endpoints/{endpoint.name}/invocations HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\n"
        "Transfer-Encoding: chunked\r\n\r\n"
    ).encode()
    piece = b"1" * (1024 * 1024)
    chunks = (b"%x\r\n%s\r\n" % (len(piece), piece) for _ in range(64))
    tracemalloc.start()
    try:
        # WHEN it is sent
        answer = raw_request(url, head, chunks)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # THEN it is refused past 6 MiB, and the endpoint never held much more than the limit
    assert b" 400 " in answer.split(b"\r\n")[0] and b"ValidationError" in answer
    assert f"more than {INVOKE_BODY_MAX_BYTES} bytes".encode() in answer
    assert peak < 3 * INVOKE_BODY_MAX_BYTES


def test_a_body_that_stops_arriving_is_answered_and_closed(
    served: tuple[str, LocalEndpoint], monkeypatch: pytest.MonkeyPatch
) -> None:

    monkeypatch.setattr(clarify_kit.explainer._body, "BODY_IDLE_TIMEOUT_S", 1.0)
    url, endpoint = served
    head = (
        f"POST /endpoints/{endpoint.name}/invocations HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\n"
        "Content-Length: 100\r\n\r\n"
    ).encode()
    started = time.monotonic()
    answer = raw_request(url, head, iter([b"1,2,3"]))
    assert b" 400 " in answer.split(b"\r\n")[0] and b"stopped arriving" in answer
    assert b"connection: close" in answer.lower()
    assert time.monotonic() - started < 5


def test_a_large_explained_request_is_built_in_chunks_of_bounded_memory(served: tuple[str, LocalEndpoint]) -> None:
    # GIVEN 400 records to explain, 1,024 synthetic rows each (409,600 rows in all)
    _, endpoint = served
    body = "\n".join([GOOD] * 400).encode()
    tracemalloc.start()
    try:
        # WHEN the endpoint explains them all
        status, _, payload = endpoint.handle(endpoint.name, {"content-type": "text/csv"}, body)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # THEN every record is explained, and memory stayed bounded by a few batches, not by the request
    assert status == 200
    assert len(json.loads(payload)["explanations"]["kernel_shap"]) == 400
    assert peak < 40 * 1024 * 1024, f"peak {peak / 2**20:.0f} MiB"


def _trickles_until_closed(sock: socket.socket, first: bytes) -> float | None:
    """Send ``first``, then one header line every 0.3 s: the seconds until the server closed, None if it never did."""
    sock.sendall(first)
    started = time.monotonic()
    for i in range(30):
        try:
            sock.sendall(f"X-Slow-{i}: 1\r\n".encode())
        except (BrokenPipeError, ConnectionResetError):
            return time.monotonic() - started
        sock.settimeout(0.3)
        try:
            if sock.recv(1) == b"":
                return time.monotonic() - started
        except TimeoutError:
            pass
    return None


async def _ok(scope: Any, receive: Any, send: Any) -> None:
    """An ASGI app that answers 200 to everything (the uvicorn server's own deadline is under test)."""
    if scope["type"] == "http":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})


@pytest.fixture(params=["serve-local", "uvicorn-httptools", "uvicorn-h11"])
def headers_due_in_a_second(
    request: pytest.FixtureRequest, served: tuple[str, LocalEndpoint], monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[str, str]]:
    """A server whose request headers are due within 1 s: serve-local's own (its URL and endpoint name), or
    serve-container's uvicorn with either of its parsers (h11 where httptools is not installed)."""
    if request.param == "serve-local":
        monkeypatch.setattr(clarify_kit.explainer.threaded_http, "HEADER_TIMEOUT_S", 1.0)
        url, endpoint = served
        yield url, endpoint.name
        return
    monkeypatch.setattr(clarify_kit.explainer._http, "HEADER_TIMEOUT_S", 1.0)
    inner = HttpToolsProtocol if request.param == "uvicorn-httptools" else H11Protocol
    monkeypatch.setattr(clarify_kit.explainer._http, "_Inner", inner)
    sock = clarify_kit.explainer._http.bind_socket("127.0.0.1", 0)
    server = clarify_kit.explainer._http.quiet_server(_ok, grace_s=1)
    thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[sock])), daemon=True)
    thread.start()
    while not server.started and thread.is_alive():
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}", "any"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def test_a_client_trickling_its_headers_is_disconnected(headers_due_in_a_second: tuple[str, str]) -> None:
    url, name = headers_due_in_a_second
    host, port = url.removeprefix("http://").split(":")
    start = f"POST /endpoints/{name}/invocations HTTP/1.1\r\nHost: x\r\n".encode()
    # GIVEN a client that starts a request and sends one header line every 0.3 s (slowloris)
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        closed_after = _trickles_until_closed(sock, start)
    # THEN the server closes the connection once the header deadline passes, not when the client stops
    assert closed_after is not None and closed_after < 3
    # GIVEN a kept-alive connection whose first request was answered, trickling its second request's headers
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(b"GET /ping HTTP/1.1\r\nHost: x\r\n\r\n")
        answer = sock.recv(1024)
        assert answer.startswith(b"HTTP/1.1 200"), answer
        time.sleep(1.2)  # longer than the deadline: an idle kept-alive connection is not a late request
        closed_after = _trickles_until_closed(sock, start)
    # THEN the second request has the same deadline
    assert closed_after is not None and closed_after < 3
    # and a well-behaved client is served as before
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(b"GET /ping HTTP/1.1\r\nHost: x\r\n\r\n")
        assert sock.recv(1024).startswith(b"HTTP/1.1 200")
    if name != "any":
        elapsed, (kind, _) = timed_invoke(url, name)
        assert kind == "ok"
