"""SageMaker's framework-container stack, for real: the SageMaker inference toolkit on multi-model-server (Java
frontend, Python workers), installed from PyPI into its own environment with Debian's Python, serving a model trained
at test time. The kit's precheck, local endpoint and smoke test run against it unchanged (issue 23, section 4)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from clarify_kit.adapters.files import load_config
from clarify_kit.precheck.container import container_precheck
from tests.compat import servers

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
    servers.check_exact_explanations(toolkit, _config(tmp_path, toolkit))


def test_smoke_with_junit_passes_against_the_inference_toolkit(toolkit: str, tmp_path: Path) -> None:
    suite = servers.smoke_with_junit(toolkit, _config(tmp_path, toolkit), tmp_path)
    assert suite is not None and suite.get("failures") == "0" and int(suite.get("tests") or 0) >= 5
