"""A container's answer is read with a cap derived from what was asked: a 64 MiB answer to one record is refused as a
JSON ModelError naming the size, by serve-container and serve-local alike, in bounded memory (peak RSS read from
the serving process)."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from tests.helpers import example_dict, serving

GOOD = "17.99,10.38,122.8,1001,0.1184,0.2776,0.3001,0.1471,0.2419,0.07871"
_ANSWER = 64 * 1024 * 1024


@contextmanager
def bloated_container(declare_length: bool) -> Iterator[str]:
    """A container that answers 64 MiB of digits to every request (with or without Content-Length)."""
    block = b"0" * (1024 * 1024)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(200)
            self.send_header("Content-Type", "text/csv")
            if declare_length:
                self.send_header("Content-Length", str(_ANSWER))
            else:
                self.send_header("Connection", "close")
            self.end_headers()
            try:
                for _ in range(_ANSWER // len(block)):
                    self.wfile.write(block)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the reader stopped at its cap

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        server.server_close()


def _peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


def _post(url: str) -> tuple[int, dict[str, object]]:
    request = urllib.request.Request(url, data=GOOD.encode(), headers={"Content-Type": "text/csv"}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


@pytest.mark.slow
@pytest.mark.parametrize("declare_length", [True, False], ids=["content-length", "close-delimited"])
@pytest.mark.parametrize("command", ["serve-container", "serve-local"])
def test_a_64_mib_answer_to_one_record_is_a_model_error_in_bounded_memory(
    tmp_path: Path, command: str, declare_length: bool
) -> None:
    data = example_dict("binary")
    if command == "serve-container":
        data["ClarifyKit"]["Explainer"] = "SelfHosted"
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(data, sort_keys=False))
    with bloated_container(declare_length) as model, serving(command, config, "--model-url", model) as (url, process):
        path = "/invocations" if command == "serve-container" else "/endpoints/clarify-kit-binary/invocations"
        status, body = _post(url + path)
        peak = _peak_rss_mib(process.pid)
    # serve-local answers as the service does (424); serve-container as a failing container does (500), which the
    # service then reports as a ModelError
    assert status == (424 if command == "serve-local" else 500) and "too large" in str(body["message"]), body
    assert "bytes" in str(body["OriginalMessage"]) and "per record" in str(body["OriginalMessage"])
    assert peak < 300, f"{command} peaked at {peak:.0f} MiB"
