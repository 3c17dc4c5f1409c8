"""MLflow's scoring server (`mlflow models serve`), installed from PyPI into its own environment with Debian's
Python, serving a scikit-learn model trained and saved at test time. As it is, the precheck names why the explainer
cannot use it (a header row, one JSON object out) and the fix; behind the kit's adaptor (one standard-library file
run by MLflow's own interpreter) precheck, explanations and smoke pass (issue 23, section 4)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from clarify_kit.adapters.files import load_config
from clarify_kit.precheck.container import container_precheck
from tests.compat import servers
from tests.helpers import run_cli

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
    (work / "adaptor.py").write_text(source.stdout)
    port = servers.free_port()
    url = f"http://127.0.0.1:{port}"
    command = [str(bin_dir / "python"), "-I", "adaptor.py", "--protocol", "mlflow", "--upstream", upstream]
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
    servers.check_exact_explanations(adaptor, _config(tmp_path, adaptor), score_column=1)


def test_the_self_hosted_explainer_to_a_target_error_explains_mlflow_exactly(adaptor: str, tmp_path: Path) -> None:
    # GIVEN a self-hosted config with a target error: serve-local runs the self-hosted explainer in front of MLflow
    import yaml

    config = _config(tmp_path, adaptor)
    data = yaml.safe_load(config.read_text())
    data["ClarifyKit"]["Explainer"] = "SelfHosted"
    data["ClarifyKit"]["SelfHosted"] = {"TargetError": 0.05}
    config.write_text(yaml.safe_dump(data, sort_keys=False))
    # THEN its rounds reach every pair of the four features: exact values, with zero standard errors
    servers.check_exact_explanations(adaptor, config, score_column=1, standard_errors=True)


def test_behind_the_adaptor_smoke_with_junit_passes(adaptor: str, tmp_path: Path) -> None:
    suite = servers.smoke_with_junit(adaptor, _config(tmp_path, adaptor), tmp_path)
    assert suite is not None and suite.get("failures") == "0"
