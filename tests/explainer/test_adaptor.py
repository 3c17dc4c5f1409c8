"""The MLflow adaptor's translation, its refusals and its one-file promise (standard library, Python 3.8 syntax);
against MLflow's real server it runs in tests/compat/test_mlflow.py."""

from __future__ import annotations

import ast
import json
import socket
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Thread
from typing import Any

import pytest

from clarify_kit.explainer import adaptor as mlflow_adaptor
from clarify_kit.explainer.adaptor import AdaptorError, from_predictions, to_dataframe_split


def test_headerless_csv_becomes_dataframe_split_with_the_named_columns() -> None:
    split = to_dataframe_split(b"1,2.5,x\n-3,1e-3,y\n", "text/csv", ["a", "b", "c"])
    assert split == {"dataframe_split": {"data": [[1, 2.5, "x"], [-3, 0.001, "y"]], "columns": ["a", "b", "c"]}}


def test_json_lines_records_become_rows() -> None:
    body = b'{"features":[1,2]}\n[3,4]\n\n'
    assert to_dataframe_split(body, "application/jsonlines", None) == {"dataframe_split": {"data": [[1, 2], [3, 4]]}}


@pytest.mark.parametrize(
    ("body", "columns", "message"),
    [
        (b"1,2\n3\n", None, "record 2 has 1 values, record 1 has 2"),
        (b"1,2\n", ["a", "b", "c"], "--columns names 3"),
        (b"", None, "no record"),
    ],
)
def test_requests_it_cannot_translate_are_named(body: bytes, columns: list[str] | None, message: str) -> None:
    with pytest.raises(AdaptorError, match=message):
        to_dataframe_split(body, "text/csv", columns)


def test_predictions_become_one_csv_line_per_record() -> None:
    body, content_type = from_predictions(b'{"predictions": [[0.25, 0.75], [0.5, 0.5]]}', 2, "text/csv")
    assert (body, content_type) == (b"0.25,0.75\n0.5,0.5\n", "text/csv")
    body, _ = from_predictions(b'{"predictions": [1, 0]}', 2, "text/csv")
    assert body == b"1\n0\n"
    body, _ = from_predictions(b'{"predictions": {"p": [0.1, 0.2], "label": [0, 1]}}', 2, "text/csv")
    assert body == b"0.1,0\n0.2,1\n"


def test_predictions_become_json_lines_when_asked() -> None:
    body, content_type = from_predictions(b'{"predictions": [{"p": 0.9}, {"p": 0.1}]}', 2, "application/jsonlines")
    assert content_type == "application/jsonlines" and body.splitlines() == [b'{"p":0.9}', b'{"p":0.1}']


def test_an_answer_with_another_count_is_refused_not_padded() -> None:
    with pytest.raises(AdaptorError, match="1 predictions for 2 records"):
        from_predictions(b'{"predictions": [0.5]}', 2, "text/csv")


def test_the_file_is_standard_library_python_38() -> None:
    source = Path(mlflow_adaptor.__file__).read_text()
    tree = ast.parse(source, feature_version=(3, 8))
    imported = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert imported <= set(sys.stdlib_module_names) | {"__future__"}, imported


class _Upstream(BaseHTTPRequestHandler):
    """A stand-in for MLflow's server (what the adaptor calls), to see what it sends and how it passes refusals."""

    seen: list[dict[str, object]] = []

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802
        self._send(200, b"\n")

    def do_POST(self) -> None:  # noqa: N802
        request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.seen.append(request)
        rows = request["dataframe_split"]["data"]
        if rows[0][0] == 666:
            self._send(400, b'{"error_code": "INVALID_PARAMETER_VALUE", "message": "bad input"}')
        else:
            self._send(200, json.dumps({"predictions": [sum(r) for r in rows]}).encode())

    def _send(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def test_the_adaptor_serves_the_container_contract_and_passes_refusals_on() -> None:
    upstream = ThreadingHTTPServer(("127.0.0.1", 0), _Upstream)
    Thread(target=upstream.serve_forever, daemon=True).start()
    adaptor = mlflow_adaptor.serve(f"http://127.0.0.1:{upstream.server_address[1]}", "127.0.0.1", 0, ["a", "b"])
    url = f"http://127.0.0.1:{adaptor.server_address[1]}"
    try:
        with urllib.request.urlopen(url + "/ping", timeout=5) as answer:
            assert answer.status == 200
        request = urllib.request.Request(url + "/invocations", data=b"1,2\n3,4\n", headers={"Content-Type": "text/csv"})
        with urllib.request.urlopen(request, timeout=5) as answer:
            assert answer.read() == b"3\n7\n" and answer.headers["Content-Type"] == "text/csv"
        assert _Upstream.seen[-1] == {"dataframe_split": {"data": [[1, 2], [3, 4]], "columns": ["a", "b"]}}
        refused = urllib.request.Request(url + "/invocations", data=b"666,1\n", headers={"Content-Type": "text/csv"})
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(refused, timeout=5)
        assert caught.value.code == 400 and b"bad input" in caught.value.read()
    finally:
        for server in (adaptor, upstream):
            server.shutdown()
            server.server_close()


@contextmanager
def _adaptor(**options: Any) -> Iterator[tuple[str, int]]:
    upstream = ThreadingHTTPServer(("127.0.0.1", 0), _Upstream)
    Thread(target=upstream.serve_forever, daemon=True).start()
    adaptor = mlflow_adaptor.serve(f"http://127.0.0.1:{upstream.server_address[1]}", "127.0.0.1", 0, **options)
    try:
        yield "127.0.0.1", adaptor.server_address[1]
    finally:
        for server in (adaptor, upstream):
            server.shutdown()
            server.server_close()


def _raw(address: tuple[str, int], head: bytes, body: bytes = b"", timeout: float = 10) -> tuple[int, dict[str, Any]]:
    """One request as bytes on a socket; the status and JSON body of the answer."""
    with socket.create_connection(address, timeout=timeout) as conn:
        conn.sendall(head + body)
        data = b""
        while b"\r\n\r\n" not in data or len(data.split(b"\r\n\r\n", 1)[1]) < _length(data):
            chunk = conn.recv(65536)
            if not chunk:
                break
            data += chunk
    status = int(data.split(b" ", 2)[1])
    return status, json.loads(data.split(b"\r\n\r\n", 1)[1] or b"{}")


def _length(data: bytes) -> int:
    for line in data.split(b"\r\n\r\n", 1)[0].split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return int(line.split(b":")[1])
    return 0


def _post_head(length: str, content_type: str = "text/csv") -> bytes:
    return (
        f"POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: {content_type}\r\nContent-Length: {length}\r\n\r\n"
    ).encode()


@pytest.mark.parametrize(
    ("length", "body", "content_type", "status", "fragment"),
    [
        pytest.param("-1", b"1,2\n" * 1000, "text/csv", 400, "is not a byte count", id="content-length-minus-one"),
        pytest.param("abc", b"1,2\n", "text/csv", 400, "is not a byte count", id="content-length-abc"),
        pytest.param(str(7 << 20), b"", "text/csv", 413, "at most", id="over-6-mib"),
        pytest.param(None, "9" * 5000 + ",1\n", "text/csv", 400, "5000 digits", id="a-5000-digit-cell"),
        pytest.param(
            None,
            "[" * 100_000 + "]" * 100_000 + "\n",
            "application/jsonlines",
            400,
            "nested too deeply",
            id="json-lines-100000-deep",
        ),  # fmt: skip
    ],
)
def test_bad_requests_get_a_json_error_naming_the_problem_and_no_traceback(
    capfd: pytest.CaptureFixture[str],
    length: str | None,
    body: bytes | str,
    content_type: str,
    status: int,
    fragment: str,
) -> None:
    data = body.encode() if isinstance(body, str) else body
    with _adaptor() as address:
        answer = _raw(address, _post_head(length or str(len(data)), content_type), data)
    assert answer[0] == status and fragment in str(answer[1]["message"]), answer
    assert "Traceback" not in capfd.readouterr().err


def test_a_trickled_body_meets_one_deadline_and_connections_are_bounded() -> None:
    with _adaptor(body_seconds=1.0, connections=2) as address:
        # GIVEN a client that sends one byte of its body every 0.3 s
        started = time.monotonic()
        with socket.create_connection(address, timeout=10) as conn:
            conn.sendall(_post_head("100"))
            answer = b""
            for _ in range(20):
                try:
                    conn.sendall(b"1")
                except OSError:
                    break
                time.sleep(0.3)
                conn.settimeout(0.01)
                try:
                    answer += conn.recv(4096)
                except (TimeoutError, OSError):
                    pass
                if answer:
                    break
        # THEN it is answered 408 at the deadline, not held for ever
        assert answer.startswith(b"HTTP/1.1 408") and time.monotonic() - started < 4, answer
        # AND with both connection slots held, a third connection is answered 503 at once
        held = [socket.create_connection(address, timeout=5) for _ in range(2)]
        try:
            time.sleep(0.2)
            with socket.create_connection(address, timeout=5) as third:
                assert third.recv(4096).startswith(b"HTTP/1.1 503")
        finally:
            for conn in held:
                conn.close()


def test_kserve_v2_requests_are_one_tensor_and_answers_one_line_per_record() -> None:
    from clarify_kit.explainer.adaptor import from_v2_response, to_v2_request

    request = to_v2_request(b"1,2\n3,4\n", "text/csv", "INPUT__0", "FP32")
    tensor = {"name": "INPUT__0", "shape": [2, 2], "datatype": "FP32", "data": [[1.0, 2.0], [3.0, 4.0]]}
    assert request == {"inputs": [tensor]}
    logits = {"name": "LOGITS", "shape": [2, 2], "datatype": "FP32", "data": [0, 1, 2, 3]}  # flat, row-major
    probs = {"name": "PROBS", "shape": [2, 1], "datatype": "FP32", "data": [[0.25], [0.75]]}  # nested
    answer = json.dumps({"outputs": [logits, probs]})
    assert from_v2_response(answer.encode(), 2, "text/csv", "PROBS") == (b"0.25\n0.75\n", "text/csv")
    assert from_v2_response(answer.encode(), 2, "application/jsonlines", None)[0] == b"[0,1]\n[2,3]\n"
    with pytest.raises(AdaptorError, match="3 values for 2 records"):
        from_v2_response(b'{"outputs": [{"name": "x", "data": [1, 2, 3]}]}', 2, "text/csv", None)
    with pytest.raises(AdaptorError, match="not a number for a FP32 tensor"):
        to_v2_request(b"1,abc\n", "text/csv", "INPUT__0", "FP32")
