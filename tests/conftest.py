"""Shared fixtures: the example configs as data, example models, container processes, local endpoints and a
moto server (real SageMaker and S3 HTTP APIs on loopback)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import example_dict, example_path


@pytest.fixture
def binary_dict() -> dict[str, Any]:
    return example_dict("binary")


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every example model, trained once per test run (seconds), shared read-only by the xdist workers: the first
    to get the lock trains, the others wait for it."""
    import fcntl

    from examples.models import KINDS, train

    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # the run's directory, one per worker below it
    models = root / "models"
    with (root / "models.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (models / ".trained").exists():
            for kind in KINDS:
                train(kind, models / kind)
            (models / ".trained").touch()
    return models


@pytest.fixture(scope="session")
def container_url(models_dir: Path) -> Iterator[Any]:
    """A factory: the URL of a running example container process for a kind (one process per kind)."""
    from contextlib import ExitStack

    from tests.helpers import container

    with ExitStack() as stack:
        urls: dict[str, str] = {}

        def get(kind: str) -> str:
            if kind not in urls:
                urls[kind] = stack.enter_context(container(models_dir / kind))
            return urls[kind]

        yield get


@pytest.fixture(scope="session")
def local_endpoint(container_url: Any) -> Iterator[Any]:
    """A factory: (base URL, endpoint name) of a local endpoint in front of the example container of a kind."""
    from contextlib import ExitStack

    from clarify_kit.adapters.files import load_config
    from clarify_kit.explainer.endpoint import running_endpoint

    with ExitStack() as stack:
        made: dict[str, tuple[str, str]] = {}

        def get(kind: str) -> tuple[str, str]:
            if kind not in made:
                url, endpoint = stack.enter_context(
                    running_endpoint(load_config(example_path(kind)), container_url(kind))
                )
                made[kind] = (url, endpoint.name)
            return made[kind]

        yield get


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    """The base URL of a moto server (SageMaker control plane and runtime) on a free loopback port."""
    from moto.server import ThreadedMotoServer

    from tests.helpers import free_port

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()
