"""MLflow's scoring server (`mlflow models serve`), installed from PyPI into its own environment with Debian's
Python, serving a scikit-learn model trained and saved at test time. As it is, the precheck names why the explainer
cannot use it (a header row, one JSON object out) and the fix; behind the kit's adaptor (one standard-library file
run by MLflow's own interpreter) precheck, explanations and smoke pass (issue 23, section 4)."""

from __future__ import annotations

import json
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest

from clarify_kit.adapters.files import load_config
from clarify_kit.explainer.endpoint import running_endpoint
from clarify_kit.precheck.container import container_precheck
from tests.compat import servers
from tests.helpers import run_cli, runtime_client

pytestmark = [pytest.mark.slow, pytest.mark.compat]

# Saved as MLflow users save a classifier: its probabilities as the pyfunc's output, a signature from an example.
SAVE = """
import pandas as pd, mlflow.sklearn
frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
mlflow.sklearn.save_model(
    model, "model", pyfunc_predict_fn="predict_proba", input_example=frame.head(2), pip_requirements=["scikit-learn"]
)
"""


@pytest.fixture(scope="module")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, Path]]:
    """MLflow's server; yields its URL, the environment's bin folder and the work folder."""
    bin_dir = servers.environment("mlflow")
    work = tmp_path_factory.mktemp("mlflow")
    env = servers.clean_env(bin_dir, MLFLOW_TRACKING_URI=f"file://{work}/mlruns")
    subprocess.run([str(bin_dir / "python"), "-c", servers.TRAIN + SAVE], cwd=work, env=env, check=True)
    port = servers.free_port()
    url = f"http://127.0.0.1:{port}"
    command = [str(bin_dir / "mlflow"), "models", "serve", "-m", "model", "--env-manager", "local"]
    with servers.server([*command, "-h", "127.0.0.1", "-p", str(port)], url, env, work):
        yield url, bin_dir, work


@pytest.fixture(scope="module")
def adaptor(mlflow_server: tuple[str, Path, Path]) -> Iterator[str]:
    """The adaptor as the README puts it in an MLflow image: its source printed by the kit into one file, run by the
    model's interpreter in isolated mode (no kit on its path)."""
    upstream, bin_dir, work = mlflow_server
    source = run_cli("mlflow-adaptor", "--source")
    assert source.returncode == 0
    (work / "mlflow_adaptor.py").write_text(source.stdout)
    port = servers.free_port()
    url = f"http://127.0.0.1:{port}"
    command = [str(bin_dir / "python"), "-I", "mlflow_adaptor.py", "--upstream", upstream]
    command += ["--host", "127.0.0.1", "--port", str(port), "--columns", "a,b,c,d"]
    with servers.server(command, url, servers.clean_env(bin_dir), work):
        yield url


def _config(tmp_path: Path, url: str) -> Path:
    outputs = [servers.post(url, r).strip() for r in servers.RECORDS[:2]]
    return servers.write_config(tmp_path / "mlflow.yaml", sample_outputs=outputs, probability_index=1)


def test_the_precheck_names_mlflows_header_row_and_the_adaptor(
    mlflow_server: tuple[str, Path, Path], tmp_path: Path
) -> None:
    url = mlflow_server[0]
    config = servers.write_config(tmp_path / "raw.yaml", sample_outputs=["0.5,0.5"] * 2, probability_index=1)
    report = container_precheck(load_config(config), url)
    assert not report.ok
    failed = [c for c in report.checks if not c["ok"]]
    assert failed[0]["name"] == "single record" and "HTTP 400" in failed[0]["summary"], failed
    fix = " ".join(f.message for f in report.errors)
    assert "header" in fix and "clarify-kit mlflow-adaptor" in fix, fix


def test_behind_the_adaptor_the_precheck_passes(adaptor: str, tmp_path: Path) -> None:
    report = container_precheck(load_config(_config(tmp_path, adaptor)), adaptor)
    assert report.ok, [f.message for f in report.errors]
    assert not report.warnings, [f.message for f in report.warnings]


def test_behind_the_adaptor_explanations_equal_brute_force_shapley_values(adaptor: str, tmp_path: Path) -> None:
    def score(rows: list[list[float]]) -> list[float]:
        body = "\n".join(",".join(repr(v) for v in row) for row in rows)
        return [float(line.split(",")[1]) for line in servers.post(adaptor, body).splitlines()]

    config = load_config(_config(tmp_path, adaptor))
    with running_endpoint(config, adaptor) as (url, endpoint):
        client = runtime_client(url)
        for record in servers.RECORDS:
            out = client.invoke_endpoint(EndpointName=endpoint.name, Body=record, ContentType="text/csv")
            body = json.loads(out["Body"].read())
            got = [f["attributions"][0]["attribution"][0] for f in body["explanations"]["kernel_shap"][0]]
            want = servers.shapley(score, [float(v) for v in record.split(",")], servers.BASELINE)
            assert got == pytest.approx(want, abs=1e-9), record


def test_behind_the_adaptor_smoke_with_junit_passes(adaptor: str, tmp_path: Path) -> None:
    config = _config(tmp_path, adaptor)
    records = tmp_path / "records.csv"
    records.write_text("\n".join(servers.RECORDS) + "\n")
    junit = tmp_path / "smoke.xml"
    with running_endpoint(load_config(config), adaptor) as (url, endpoint):
        out = run_cli(
            "smoke", endpoint.name, "--records", str(records), "--config", str(config), "--endpoint-url", url,
            "--region", "us-east-1", "--iterations", "2", "--junit-xml", str(junit),
            env={"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "PATH": "/usr/bin:/bin"},
        )  # fmt: skip
    assert out.returncode == 0, out.stdout + out.stderr
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None and suite.get("failures") == "0"
