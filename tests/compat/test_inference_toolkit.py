"""SageMaker's framework-container stack, for real: the SageMaker inference toolkit on multi-model-server (Java
frontend, Python workers), installed from PyPI into its own environment with Debian's Python, serving a model trained
at test time. The kit's precheck, local endpoint and smoke test run against it unchanged (issue 23, section 4)."""

from __future__ import annotations

import json
import os
import shutil
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest

from clarify_kit.adapters.files import load_config
from clarify_kit.explainer.endpoint import running_endpoint
from clarify_kit.precheck.container import container_precheck
from tests.compat import servers
from tests.helpers import run_cli, runtime_client

pytestmark = [
    pytest.mark.slow,
    pytest.mark.compat,
    pytest.mark.skipif(shutil.which("java") is None and not os.environ.get("CI"), reason="needs a JRE (default-jre)"),
]

# The handler as SageMaker's scikit-learn examples write it; the toolkit's default CSV decoder and encoder do the rest.
HANDLER = """
import os
import joblib
import numpy as np

def model_fn(model_dir):
    return joblib.load(os.path.join(model_dir, "model.joblib"))

def predict_fn(data, model):
    return model.predict_proba(np.atleast_2d(data))[:, 1]
"""

# The framework containers' entrypoint calls start_model_server(); the one change: its properties file goes to the
# working folder instead of /etc (the test runs as root, but leaves the machine as it found it).
LAUNCH = """
import os
from sagemaker_inference import model_server
model_server.MMS_CONFIG_FILE = os.path.join(os.getcwd(), "sagemaker-mms.properties")
model_server.start_model_server()
"""


@pytest.fixture(scope="module")
def toolkit(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    bin_dir = servers.environment("inference-toolkit")
    work = tmp_path_factory.mktemp("toolkit")
    code = work / "ml" / "model" / "code"
    code.mkdir(parents=True)
    (code / "inference.py").write_text(HANDLER)
    (work / "launch.py").write_text(LAUNCH)
    train = servers.TRAIN + "import joblib; joblib.dump(model, 'ml/model/model.joblib')\n"
    env = servers.clean_env(bin_dir)
    import subprocess

    subprocess.run([str(bin_dir / "python"), "-c", train], cwd=work, env=env, check=True)
    port = servers.free_port()
    url = f"http://127.0.0.1:{port}"
    env = servers.clean_env(bin_dir, SAGEMAKER_BASE_DIR=str(work / "ml"), SAGEMAKER_BIND_TO_PORT=str(port))
    with servers.server([str(bin_dir / "python"), "launch.py"], url, env, work):
        yield url


def _config(tmp_path: Path, url: str) -> Path:
    outputs = [servers.post(url, r).strip() for r in servers.RECORDS[:2]]
    return servers.write_config(tmp_path / "toolkit.yaml", sample_outputs=outputs)


def test_the_container_precheck_passes_against_the_inference_toolkit(toolkit: str, tmp_path: Path) -> None:
    report = container_precheck(load_config(_config(tmp_path, toolkit)), toolkit)
    assert report.ok, [f.message for f in report.errors]
    assert not report.warnings, [f.message for f in report.warnings]
    assert report.latency is not None and report.latency.seconds < 60


def test_local_explanations_equal_brute_force_shapley_values_from_the_same_server(toolkit: str, tmp_path: Path) -> None:
    def score(rows: list[list[float]]) -> list[float]:
        body = "\n".join(",".join(repr(v) for v in row) for row in rows)
        return [float(line) for line in servers.post(toolkit, body).splitlines()]

    config = load_config(_config(tmp_path, toolkit))
    with running_endpoint(config, toolkit) as (url, endpoint):
        client = runtime_client(url)
        for record in servers.RECORDS:
            out = client.invoke_endpoint(
                EndpointName=endpoint.name, Body=record, ContentType="text/csv", Accept="text/csv"
            )
            body = json.loads(out["Body"].read())
            got = [f["attributions"][0]["attribution"][0] for f in body["explanations"]["kernel_shap"][0]]
            want = servers.shapley(score, [float(v) for v in record.split(",")], servers.BASELINE)
            assert got == pytest.approx(want, abs=1e-9), record


def test_smoke_with_junit_passes_against_the_inference_toolkit(toolkit: str, tmp_path: Path) -> None:
    config = _config(tmp_path, toolkit)
    records = tmp_path / "records.csv"
    records.write_text("\n".join(servers.RECORDS) + "\n")
    junit = tmp_path / "smoke.xml"
    with running_endpoint(load_config(config), toolkit) as (url, endpoint):
        out = run_cli(
            "smoke", endpoint.name, "--records", str(records), "--config", str(config), "--endpoint-url", url,
            "--region", "us-east-1", "--iterations", "2", "--junit-xml", str(junit),
            env={"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "PATH": "/usr/bin:/bin"},
        )  # fmt: skip
    assert out.returncode == 0, out.stdout + out.stderr
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None and suite.get("failures") == "0" and int(suite.get("tests") or 0) >= 5
