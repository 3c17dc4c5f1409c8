"""What the endpoint benchmarks share: a Runtime client for a local endpoint, and the reference they measure
against (the same synthetic rows, in the same batches, posted straight to the container)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from clarify_kit.core.spec import ExplainerSpec
from clarify_kit.explainer import Explainer, HttpTransport, batches_of
from examples.runner import free_port, wait_for_ping

ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def serve_local(config: str | Path, model_url: str) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``clarify-kit serve-local CONFIG`` in a process of its own in front of ``model_url``: its URL (once it
    answers /ping) and the process, stopped afterwards."""
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "clarify_kit",
            "serve-local",
            str(config),
            "--model-url",
            model_url,
            "--port",
            str(port),
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_for_ping(url, process=process)
        yield url, process
    finally:
        process.terminate()
        process.wait(timeout=20)


def runtime_client(endpoint_url: str) -> Any:
    import boto3

    return boto3.client(
        "sagemaker-runtime",
        endpoint_url=endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )


class ContainerAlone:
    """Posts ``body`` and then its synthetic rows, batched as the explainer batches them, to the model container:
    what one explained record costs the container, without the explainer. Call it to time one record."""

    def __init__(self, spec: ExplainerSpec, model_url: str, body: str) -> None:
        self.transport = HttpTransport(model_url)
        self.body = body.encode()
        rows = Explainer(spec, self.transport).synthetic_rows(spec.parse_request(body)[0])
        self.rows = len(rows)
        self.batches = ["\n".join(b).encode() for b in batches_of(rows, spec.max_record_count, spec.max_payload_bytes)]

    def __call__(self) -> None:
        post = self.transport.post
        post(self.body, content_type="text/csv", accept="text/csv", target_model=None, timeout=60)
        for batch in self.batches:
            reply = post(batch, content_type="text/csv", accept="text/csv", target_model=None, timeout=60)
            assert reply.status == 200
