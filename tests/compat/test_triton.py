"""NVIDIA Triton Inference Server (from PyPI: nvidia-pytriton bundles the server), in its own environment with
Debian's Python, serving a model written at test time. Its HTTP port speaks KServe v2 JSON, which the explainer's
headerless records are not and which no ContentTemplate can write: the precheck names why and the kit's adaptor;
behind the adaptor (the same standard-library file as MLflow's, --protocol kserve-v2) precheck and explanations
pass, exact against brute force (issue 33)."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from clarify_kit.adapters.files import load_config
from clarify_kit.precheck.container import container_precheck
from tests.compat import servers
from tests.helpers import run_cli

pytestmark = [pytest.mark.slow, pytest.mark.compat]

# A logistic model with an interaction, as a Triton Python model behind pytriton's binding.
SERVE = """
import sys
import numpy as np
from pytriton.decorators import batch
from pytriton.model_config import ModelConfig, Tensor
from pytriton.triton import Triton, TritonConfig

W = np.array([1.5, -2.0, 0.5, 0.0])


@batch
def infer(INPUT__0):
    x = INPUT__0.astype(np.float64)
    z = x @ W + 0.5 * x[:, 0] * x[:, 1] + 0.3
    return {"OUTPUT__0": (1 / (1 + np.exp(-z))).reshape(-1, 1)}


port = int(sys.argv[1])
config = TritonConfig(http_address="127.0.0.1", http_port=port, grpc_address="127.0.0.1", grpc_port=port + 1,
                      metrics_port=port + 2)
with Triton(config=config) as triton:
    triton.bind(model_name="scorer", infer_func=infer,
                inputs=[Tensor(name="INPUT__0", dtype=np.float64, shape=(-1,))],
                outputs=[Tensor(name="OUTPUT__0", dtype=np.float64, shape=(1,))],
                config=ModelConfig(max_batch_size=8192))
    triton.serve()
"""


@pytest.fixture(scope="module")
def triton(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, Path]]:
    """Triton; yields its URL, the environment's bin folder and the work folder (its HOME: nothing is shared)."""
    bin_dir = servers.environment("triton")
    work = tmp_path_factory.mktemp("triton")
    (work / "serve.py").write_text(SERVE)
    port = servers.free_port()
    url = f"http://127.0.0.1:{port}"
    env = servers.clean_env(bin_dir, home=work)
    command = [str(bin_dir / "python"), "serve.py", str(port)]
    with servers.server(command, url, env, work, ready="/v2/models/scorer/ready"):
        yield url, bin_dir, work


@pytest.fixture(scope="module")
def adaptor(triton: tuple[str, Path, Path]) -> Iterator[str]:
    """The adaptor as an image would run it: its source printed by the kit, run by Triton's own interpreter."""
    upstream, bin_dir, work = triton
    source = run_cli("kserve-adaptor", "--source")
    assert source.returncode == 0
    (work / "adaptor.py").write_text(source.stdout)
    port = servers.free_port()
    url = f"http://127.0.0.1:{port}"
    command = [str(bin_dir / "python"), "-I", "adaptor.py", "--protocol", "kserve-v2", "--upstream", upstream,
               "--model", "scorer", "--datatype", "FP64", "--host", "127.0.0.1", "--port", str(port)]  # fmt: skip
    with servers.server(command, url, servers.clean_env(bin_dir, home=work), work):
        yield url


def _config(tmp_path: Path, url: str) -> Path:
    outputs = [servers.post(url, r).strip() for r in servers.RECORDS[:2]]
    return servers.write_config(tmp_path / "triton.yaml", sample_outputs=outputs)


def test_triton_speaks_kserve_v2(triton: tuple[str, Path, Path]) -> None:
    body = {"inputs": [{"name": "INPUT__0", "shape": [1, 4], "datatype": "FP64", "data": [[1.2, -0.7, 0.4, 2.0]]}]}
    request = urllib.request.Request(triton[0] + "/v2/models/scorer/infer", data=json.dumps(body).encode())
    with urllib.request.urlopen(request, timeout=30) as answer:
        assert json.loads(answer.read())["outputs"][0]["shape"] == [1, 1]


def test_the_precheck_names_kserve_v2_and_the_adaptor(triton: tuple[str, Path, Path], tmp_path: Path) -> None:
    config = servers.write_config(tmp_path / "raw.yaml", sample_outputs=["0.5", "0.5"])
    report = container_precheck(load_config(config), triton[0])
    assert not report.ok
    fix = " ".join(f.message for f in report.errors)
    assert "KServe v2" in fix and "no ContentTemplate can write that body" in fix and "kserve-adaptor" in fix, fix


def test_behind_the_adaptor_the_precheck_passes(adaptor: str, tmp_path: Path) -> None:
    report = container_precheck(load_config(_config(tmp_path, adaptor)), adaptor)
    assert report.ok, [f.message for f in report.errors]
    assert not report.warnings, [f.message for f in report.warnings]


def test_behind_the_adaptor_explanations_equal_brute_force_shapley_values(adaptor: str, tmp_path: Path) -> None:
    servers.check_exact_explanations(adaptor, _config(tmp_path, adaptor))
