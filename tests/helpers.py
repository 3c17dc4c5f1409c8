"""The tests' shared helpers, in one place (tests import from here, not from each other or from examples/): the
bundled examples as data, edits by dotted path, scripted and example containers,
boto3 clients for local servers and the CLI run in this process or as a subprocess."""

from __future__ import annotations

import copy
import io
import json
import math
import os
import re
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import yaml
from botocore.config import Config

# The example containers, as the demo runs them: re-exported so that the tests have one place to import from.
from examples.runner import container, free_port, wait_for_ping  # noqa: F401

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
CLARIFY = "EndpointConfig.ExplainerConfig.ClarifyExplainerConfig"
# Two records of the binary example (breast cancer, 10 features), as CSV lines.
GOOD = "17.99,10.38,122.8,1001,0.1184,0.2776,0.3001,0.1471,0.2419,0.07871"
OTHER = "13.54,14.36,87.46,566.3,0.09779,0.08129,0.06664,0.04781,0.1885,0.05766"
EXAMPLE_NAMES = sorted(p.parent.name for p in EXAMPLES.glob("*/config.yaml"))


@contextmanager
def ctrl_c_reaches_children() -> Iterator[None]:
    """Processes started inside get Ctrl-C as from a terminal, even when something earlier in this test process
    left SIGINT ignored: an ignored signal is inherited by children (measured: under the whole suite the test
    process's SIGINT was SIG_IGN now and then, and the explain client then ran all 600 records after Ctrl-C)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def example_path(name: str) -> Path:
    return EXAMPLES / name / "config.yaml"


def example_dict(name: str) -> dict[str, Any]:
    return copy.deepcopy(_load(name))


_CACHE: dict[str, Any] = {}


def _load(name: str) -> Any:
    if name not in _CACHE:
        _CACHE[name] = yaml.safe_load(example_path(name).read_text())
    return _CACHE[name]


def expand(path: str) -> str:
    return CLARIFY + path[1:] if path.startswith("C.") else path


def _steps(path: str) -> list[str | int]:
    steps: list[str | int] = []
    for part in expand(path).split("."):
        name, *indexes = re.split(r"\[", part)
        if name:
            steps.append(name)
        steps.extend(int(i.rstrip("]")) for i in indexes)
    return steps


def materialize(value: Any) -> Any:
    """Expand the generator shorthands of the fixture files ({repeat, times}, {repeat_list, times}...)."""
    if isinstance(value, dict):
        if "repeat" in value:
            return value["repeat"] * value["times"]
        if "repeat_list" in value:
            return [f"{value['repeat_list']}{i}" for i in range(value["times"])]
        if "repeat_list_of" in value:
            return [copy.deepcopy(value["repeat_list_of"]) for _ in range(value["times"])]
        return {k: materialize(v) for k, v in value.items()}
    if isinstance(value, list):
        return [materialize(v) for v in value]
    return value


def set_path(data: Any, path: str, value: Any) -> None:
    *parents, last = _steps(path)
    for step in parents:
        if isinstance(step, str) and step not in data:
            data[step] = {}
        data = data[step]
    data[last] = materialize(value)


def delete_path(data: Any, path: str) -> None:
    *parents, last = _steps(path)
    for step in parents:
        data = data[step]
    del data[last]


def rename_path(data: Any, path: str, new_name: str) -> None:
    *parents, last = _steps(path)
    for step in parents:
        data = data[step]
    data[new_name] = data.pop(last)


def edited(case: dict[str, Any]) -> dict[str, Any]:
    """The base example of a catalogue case with its edits applied."""
    data = example_dict(case.get("base", "binary"))
    for path in case.get("delete", []):
        delete_path(data, path)
    for path, value in (case.get("set") or {}).items():
        set_path(data, path, value)
    for path, new_name in (case.get("rename") or {}).items():
        rename_path(data, path, new_name)
    return data


def runtime_client(url: str, *, region_name: str = "eu-west-1", **config: Any) -> Any:
    """A real boto3 sagemaker-runtime client pointed at a local endpoint (dummy credentials, any region)."""
    return boto3.client(
        "sagemaker-runtime",
        endpoint_url=url,
        region_name=region_name,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"max_attempts": 1, "mode": "standard"}, read_timeout=70, **config),
    )


# Run the CLI with some top-level modules unimportable, as in an install without the extras that bring them.
_HIDING = """
import importlib.abc, runpy, sys
HIDDEN = set(sys.argv[1].split(","))
class Hide(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in HIDDEN:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
sys.meta_path.insert(0, Hide())
sys.argv = ["clarify-kit", *sys.argv[2:]]
runpy.run_module("clarify_kit", run_name="__main__", alter_sys=True)
"""


def explain_argv(name: str, url: str, source: Path, output: Path, *extra: str) -> list[str]:
    """The arguments of ``clarify-kit explain`` for the binary example's config, ``source`` into ``output``."""
    return [
        "explain",
        name,
        "--endpoint-url",
        url,
        "--config",
        str(example_path("binary")),
        "--input",
        str(source),
        "--output",
        str(output),
        *extra,
    ]


def run_cli(
    *args: str,
    env: dict[str, str] | None = None,
    timeout: float = 300,
    input: str | None = None,
    hide: Iterable[str] = (),
    process: bool = False,
) -> subprocess.CompletedProcess[str]:
    """Run ``clarify-kit ARGS`` as a user would and return its exit code, stdout and stderr.

    In this process by default (``main(argv)`` with the standard streams captured, ``env`` as the whole environment
    and the checkout as the working directory, as click's CliRunner does): 0.07 s instead of 0.5 s for a new
    interpreter. In a subprocess of this interpreter (``python -m clarify_kit``) with ``process=True`` (signals,
    ``timeout``, interpreter exit) or ``hide``: top-level modules that cannot be imported there, as in an install
    without their extra.
    """
    hidden = ",".join(hide)
    if process or hidden:
        command = [sys.executable, "-c", _HIDING, hidden] if hidden else [sys.executable, "-m", "clarify_kit"]
        return subprocess.run(
            [*command, *args],
            capture_output=True,
            text=True,
            check=False,
            cwd=ROOT,
            env=env,
            timeout=timeout,
            input=input,
        )
    return _in_process(list(args), env, input)


class _Stream(io.TextIOWrapper):
    """A text stream over bytes, as sys.stdout is (with ``buffer``), that is no terminal."""

    def __init__(self) -> None:
        super().__init__(io.BytesIO(), encoding="utf-8", errors="backslashreplace", write_through=True)

    def text(self) -> str:
        self.flush()
        return self.buffer.getvalue().decode("utf-8", errors="replace")  # type: ignore[attr-defined]


def _in_process(argv: list[str], env: dict[str, str] | None, input: str | None) -> subprocess.CompletedProcess[str]:
    from clarify_kit.cli import main

    saved_env, saved_cwd = dict(os.environ), Path.cwd()
    saved = sys.stdin, sys.stdout, sys.stderr
    out, err = _Stream(), _Stream()
    try:
        if env is not None:
            os.environ.clear()
            os.environ.update(env)
        os.chdir(ROOT)
        sys.stdin = io.StringIO(input or "")
        sys.stdout, sys.stderr = out, err
        try:
            code = main(argv)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
    finally:
        sys.stdin, sys.stdout, sys.stderr = saved
        os.chdir(saved_cwd)
        if env is not None:
            os.environ.clear()
            os.environ.update(saved_env)
    return subprocess.CompletedProcess(["clarify-kit", *argv], code, out.text(), err.text())


@contextmanager
def serving(command: str, config: Path, *args: str) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """``clarify-kit COMMAND CONFIG ARGS`` (serve-local, serve-container) as a process on a free loopback port,
    once it answers /ping; yields its URL and process, and stops it afterwards."""

    port = free_port()
    argv = [sys.executable, "-m", "clarify_kit", command, str(config), "--host", "127.0.0.1", "--port", str(port)]
    process = subprocess.Popen([*argv, *args], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_ping(url, process=process)  # type: ignore[arg-type]
        yield url, process
    finally:
        process.terminate()
        process.communicate(timeout=20)


def serve_container(config: Path, *args: str) -> Any:
    """``serving("serve-container", ...)``: the self-hosted explainer's container server."""
    return serving("serve-container", config, *args)


def post(url: str, body: str, content_type: str, attributes: str | None = None) -> tuple[int, dict[str, Any]]:
    headers = {"Content-Type": content_type, "Accept": content_type}
    if attributes:
        headers["X-Amzn-SageMaker-Custom-Attributes"] = attributes
    request = urllib.request.Request(f"{url}/invocations", data=body.encode(), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


# How the container answers request number n (1-based) holding k records: (status, body).
Behaviour = Callable[[int, int], tuple[int, str]]


def _score(line: str) -> str:
    return f"{1 / (1 + math.exp(-sum(float(v) for v in line.split(',')) / 1000)):.6f}"


@contextmanager
def scripted_container(
    behaviour: Behaviour, attributes: list[str | None] | None = None
) -> Iterator[tuple[str, list[int]]]:
    """A container at the URL yielded; the list holds the record count of every request it was sent, and
    ``attributes`` (when given) the CustomAttributes header of each."""
    sent: list[int] = []
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:  # /ping
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_POST(self) -> None:
            lines = self.rfile.read(int(self.headers["Content-Length"])).decode().splitlines()
            with lock:
                sent.append(len(lines))
                n = len(sent)
                if attributes is not None:
                    attributes.append(self.headers.get("X-Amzn-SageMaker-Custom-Attributes"))
            status, body = behaviour(n, len(lines))
            if status == 200 and not body:
                body = "\n".join(_score(line) for line in lines)
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json" if body.startswith("{") else "text/csv")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", sent
    finally:
        server.shutdown()
        server.server_close()
        server.server_close()
