"""What both servers share (serve-local's clarify_kit.explainer.threaded_http and serve-container's uvicorn in
clarify_kit.explainer._http): the listening socket, the grace period of a stop, and the explainer's notices on
stderr. Standard library only, so that either server imports it without the other's parser.
"""

from __future__ import annotations

import logging
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from clarify_kit.core.errors import SetupError

__all__ = ["SHUTDOWN_GRACE_S", "bind_socket", "notices_to_stderr"]

# On Ctrl-C or SIGTERM, requests in flight get this long to be answered before their connections are closed (kit).
SHUTDOWN_GRACE_S = 5


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening-ready socket on host:port, or the SetupError that names the port."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # accepted sockets inherit it on Linux
    try:
        sock.bind((host, port))
    except OSError as err:
        sock.close()
        raise SetupError(
            f"cannot listen on {host}:{port}: {err.strerror or err}; choose another --port (or stop what holds it)"
        ) from err
    return sock


@contextmanager
def notices_to_stderr() -> Iterator[None]:
    """The explainer's notices (a fallback to single records) on stderr while a server runs in the foreground."""
    log = logging.getLogger("clarify_kit")
    notices = logging.StreamHandler(sys.stderr)
    notices.setFormatter(logging.Formatter("clarify-kit: %(message)s"))
    log.addHandler(notices)
    log.setLevel(logging.INFO)
    try:
        yield
    finally:
        log.removeHandler(notices)
