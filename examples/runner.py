"""Start and stop example container processes (used by the demo, the notebooks and the tests)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def wait_for_ping(url: str, timeout: float = 60.0, process: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the process serving {url} exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/ping", timeout=1) as response:  # noqa: S310 - loopback only
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.05)
    raise TimeoutError(f"{url}/ping did not answer 200 within {timeout:.0f} s")


@contextmanager
def container(
    model_dir: str | Path, *, fault: str = "none", fault_arg: float = 0.0, port: int | None = None
) -> Iterator[str]:
    """Run ``python -m examples.container`` on 127.0.0.1; yields its URL and stops it afterwards."""
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    command = [
        sys.executable,
        "-m",
        "examples.container",
        "--model-dir",
        str(model_dir),
        "--port",
        str(port),
        "--fault",
        fault,
        "--fault-arg",
        str(fault_arg),
    ]
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_for_ping(url, process=process)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stderr:
            process.stderr.close()


def main(argv: list[str] | None = None) -> int:
    """``python -m examples.runner wait URL...``: block until every URL answers GET /ping (for shell scripts)."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m examples.runner")
    parser.add_argument("command", choices=["wait"])
    parser.add_argument("urls", nargs="+", metavar="URL")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds for each URL (default 60)")
    args = parser.parse_args(argv)
    for url in args.urls:
        try:
            wait_for_ping(url.rstrip("/"), timeout=args.timeout)
        except TimeoutError as err:
            print(f"examples.runner: {err}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
