"""Fixtures of the client tests: a moto server speaking the real SageMaker HTTP APIs on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from examples.runner import free_port


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    """The base URL of a moto server (SageMaker control plane and runtime) on a free loopback port."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()
