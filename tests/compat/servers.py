"""Third-party model servers for the compatibility tests, each installed from the package registries into an
environment of its own (never the kit's), from a hashed lock beside this file, and started as a process group."""

from __future__ import annotations

import fcntl
import hashlib
import itertools
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
ENVS = ROOT / ".venv" / "compat"
UV = ROOT / ".venv" / "bin" / "uv"


def interpreter() -> str:
    """Debian's own Python where there is one (another build than the kit's), else the kit's base interpreter."""
    for candidate in ("/usr/bin/python3.11", "/usr/bin/python3"):
        if Path(candidate).exists():
            return candidate
    return getattr(sys, "_base_executable", sys.executable)


def environment(name: str) -> Path:
    """The bin folder of the environment for ``requirements-NAME.txt``, built once per lock (a lock file guards
    two test workers asking at once)."""
    lock_file = HERE / f"requirements-{name}.txt"
    digest = hashlib.sha256(lock_file.read_bytes() + interpreter().encode()).hexdigest()[:12]
    target = ENVS / f"{name}-{digest}"
    ENVS.mkdir(parents=True, exist_ok=True)
    with (ENVS / f"{name}.lock").open("w") as guard:
        fcntl.flock(guard, fcntl.LOCK_EX)
        if not (target / ".installed").exists():
            for old in ENVS.glob(f"{name}-*"):
                shutil.rmtree(old, ignore_errors=True)
            subprocess.run([str(UV), "venv", "-q", "-p", interpreter(), str(target)], check=True)
            subprocess.run(
                [
                    str(UV),
                    "pip",
                    "install",
                    "-q",
                    "--require-hashes",
                    "--python",
                    str(target / "bin" / "python"),
                    "-r",
                    str(lock_file),
                ],
                check=True,
            )
            (target / ".installed").touch()
    return target / "bin"


def clean_env(bin_dir: Path, home: Path | None = None, **extra: str) -> dict[str, str]:
    """A model server's environment: its own bin first, nothing of the kit's (no PYTHONPATH, no VIRTUAL_ENV), and
    its own HOME and TMPDIR (``home``, else a new folder): multi-model-server keeps a PID file in the temporary
    folder, so two servers on one machine, or another one running there, never collide."""
    import tempfile

    own = home if home is not None else Path(tempfile.mkdtemp(prefix="compat-server-"))
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(own), "TMPDIR": str(own), "LANG": "C.UTF-8"}
    env.update(extra)
    return env


def free_port() -> int:
    """A free loopback port below 30000 (multi-model-server refuses some ephemeral ones as 'Invalid port number')."""
    import random

    for _ in range(200):
        candidate = random.randint(18000, 29999)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", candidate))
            except OSError:
                continue
            return candidate
    raise RuntimeError("no free port between 18000 and 29999")


def wait_ready(
    url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 120, ready: str = "/ping"
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url + ready, timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"no answer from {url}{ready} within {timeout} s:\n{log.read_text()[-3000:]}")


@contextmanager
def server(
    command: Sequence[str], url: str, env: dict[str, str], cwd: Path, ready: str = "/ping"
) -> Iterator[subprocess.Popen[bytes]]:
    """Start ``command`` in its own process group, wait for its health path, and stop the whole group afterwards."""
    log = cwd / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            list(command), cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        wait_ready(url, process, log, ready=ready)
        yield process
    finally:
        _stop_group(process)


def _stop_group(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the whole group (multi-model-server's Java frontend and Python workers too), then SIGKILL."""
    for signum in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, signum)
        except ProcessLookupError:
            return
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            pass
        time.sleep(0.2 if signum == signal.SIGTERM else 0)


def post(url: str, body: str, content_type: str = "text/csv", accept: str = "text/csv") -> str:
    request = urllib.request.Request(
        url + "/invocations", data=body.encode(), headers={"Content-Type": content_type, "Accept": accept}
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        return str(answer.read().decode())


def shapley(score: Callable[[list[list[float]]], list[float]], x: list[float], baseline: list[float]) -> list[float]:
    """Exact Shapley values of f(x_S, baseline_rest) by enumerating every coalition, scored in one call."""
    n = len(x)
    subsets = list(itertools.product((0, 1), repeat=n))
    rows = [[x[i] if s[i] else baseline[i] for i in range(n)] for s in subsets]
    values = dict(zip(subsets, score(rows), strict=True))
    phi = []
    for i in range(n):
        total = 0.0
        for s in subsets:
            if s[i]:
                continue
            k = sum(s)
            weight = math.factorial(k) * math.factorial(n - k - 1) / math.factorial(n)
            total += weight * (values[s[:i] + (1,) + s[i + 1 :]] - values[s])
        phi.append(total)
    return phi


FEATURES = ["a", "b", "c", "d"]
BASELINE = [0.0, 0.0, 0.0, 0.0]
RECORDS = ["1.2,-0.7,0.4,2.0", "-0.3,0.9,-1.1,0.5", "0.8,0.1,0.6,-1.4"]

# A logistic regression on four features, trained by the server's own interpreter (the kit's numpy never meets it).
TRAIN = """
import numpy as np
from sklearn.linear_model import LogisticRegression
rng = np.random.default_rng(0)
X = rng.normal(size=(400, 4))
y = (X @ [1.5, -2.0, 0.5, 0.0] + 0.3 > 0).astype(int)
model = LogisticRegression().fit(X, y)
"""


def write_config(path: Path, *, sample_outputs: list[str], probability_index: int | None = None) -> Path:
    """A deployment config for the four-feature model: the bundled binary example with this model's shape."""
    import yaml

    from tests.helpers import example_dict

    data = example_dict("binary")
    clarify = data["EndpointConfig"]["ExplainerConfig"]["ClarifyExplainerConfig"]
    clarify["InferenceConfig"] = {"FeatureHeaders": FEATURES}
    if probability_index is not None:
        clarify["InferenceConfig"]["ProbabilityIndex"] = probability_index
    clarify["ShapConfig"]["ShapBaselineConfig"]["ShapBaseline"] = ",".join(str(v) for v in BASELINE)
    data["ClarifyKit"]["Container"] = {"SampleRecords": RECORDS[:2], "SampleOutputs": sample_outputs}
    data["ClarifyKit"].pop("Latency", None)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def check_exact_explanations(
    url: str, config_path: Path, score_column: int | None = None, *, standard_errors: bool = False
) -> None:
    """Every sample record explained through the local endpoint in front of ``url`` equals brute-force Shapley
    values computed from the same server's scores (``score_column`` of a multi-score line); with
    ``standard_errors`` (a self-hosted config) each attribution also carries one, zero: the values are exact."""
    import json

    import pytest

    from clarify_kit.adapters.files import load_config
    from clarify_kit.explainer.endpoint import running_endpoint
    from tests.helpers import runtime_client

    def score(rows: list[list[float]]) -> list[float]:
        body = "\n".join(",".join(repr(v) for v in row) for row in rows)
        lines = post(url, body).splitlines()
        return [float(line.split(",")[score_column or 0]) for line in lines]

    with running_endpoint(load_config(config_path), url) as (base, endpoint):
        client = runtime_client(base)
        for record in RECORDS:
            out = client.invoke_endpoint(EndpointName=endpoint.name, Body=record, ContentType="text/csv")
            body = json.loads(out["Body"].read())
            units = [f["attributions"][0] for f in body["explanations"]["kernel_shap"][0]]
            want = shapley(score, [float(v) for v in record.split(",")], BASELINE)
            assert [u["attribution"][0] for u in units] == pytest.approx(want, abs=1e-9), record
            if standard_errors:
                assert [u["standard_error"] for u in units] == [[0.0]] * len(units), record
            else:
                assert not any("standard_error" in u for u in units), record


def smoke_with_junit(url: str, config_path: Path, folder: Path) -> Any:
    """`clarify-kit smoke --junit-xml` against the local endpoint in front of ``url``: its result and JUnit suite."""
    import xml.etree.ElementTree as ET

    from clarify_kit.adapters.files import load_config
    from clarify_kit.explainer.endpoint import running_endpoint
    from tests.helpers import run_cli

    records = folder / "records.csv"
    records.write_text("\n".join(RECORDS) + "\n")
    junit = folder / "smoke.xml"
    with running_endpoint(load_config(config_path), url) as (base, endpoint):
        out = run_cli(
            "smoke", endpoint.name, "--records", str(records), "--config", str(config_path), "--endpoint-url", base,
            "--region", "us-east-1", "--iterations", "2", "--junit-xml", str(junit),
            env={"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "PATH": "/usr/bin:/bin"},
        )  # fmt: skip
    assert out.returncode == 0, out.stdout + out.stderr
    return ET.parse(junit).getroot().find("testsuite")
