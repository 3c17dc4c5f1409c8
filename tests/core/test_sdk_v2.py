"""The SDK conversions and framework images work with SDK v2 (sagemaker<3) as with v3, with the same results.

SDK v2 conflicts with the kit's v3 pin, so it lives in its own environment, built once under build/sdk2-venv
(a few seconds with uv and 300 MB from the package index) and reused; `rm -r build/sdk2-venv` rebuilds it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
from pathlib import Path
from typing import Any

import pytest

from clarify_kit.adapters.files import load_config
from clarify_kit.adapters.sdk import SDK_DEFAULTS
from tests.helpers import EXAMPLE_NAMES, ROOT

SDK_V2 = "sagemaker==2.257.7"
ENV = ROOT / "build" / "sdk2-venv"
CHECK = """
import json, sys
from clarify_kit.core.config import FrameworkImage
from clarify_kit.adapters.files import load_config
from clarify_kit.adapters.images import retrieve
from clarify_kit.adapters.sdk import explainer_module, from_sdk, to_sdk
out = {"module": explainer_module().__name__, "examples": {}}
for name in sys.argv[1:]:
    written = load_config(f"examples/{name}/config.yaml").explainer_config_dict()
    obj, injected = to_sdk(written)
    back = from_sdk(obj)
    out["examples"][name] = {"injected": sorted(injected), "request": back.explainer_config,
                             "defaults": sorted(back.sdk_defaults), "user": back.without_sdk_defaults()}
out["images"] = [retrieve(FrameworkImage(Framework=f, Version=v), r, "ml.m5.xlarge")
                 for f, v, r in (("xgboost", "1.7-1", "eu-west-1"), ("sklearn", "1.2-1", "us-east-1"))]
print(json.dumps(out))
"""


@pytest.fixture(scope="session")
def sdk2_python() -> Path:
    python = ENV / "bin" / "python"
    marker = ENV / f".{SDK_V2}"
    if not marker.exists():
        venv.create(ENV, with_pip=False, clear=True)
        uv = Path(sys.executable).parent / "uv"  # make setup installs it beside the interpreter
        subprocess.run([str(uv), "pip", "install", "-q", "--python", str(python), SDK_V2], check=True, timeout=600)
        marker.touch()
    return python


def conversions(python: Path | str) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SAGEMAKER_SUPPRESS_V2_WARNING": "1"}
    out = subprocess.run(
        [str(python), "-c", CHECK, *EXAMPLE_NAMES],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


@pytest.mark.slow
def test_sdk_v2_objects_and_images_match_v3(sdk2_python: Path) -> None:
    # GIVEN the same conversions run with SDK v2 (its own environment) and SDK v3 (the project's)
    v2, v3 = conversions(sdk2_python), conversions(sys.executable)
    # THEN each used its own generation's classes, and every result is the same
    assert (v2.pop("module"), v3.pop("module")) == ("sagemaker.explainer", "sagemaker.core.explainer")
    assert v2 == v3
    assert v2["images"][0] == "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-xgboost:1.7-1"
    for name, converted in v2["examples"].items():  # the v2 objects round-trip, less what the SDK injects
        trimmed = converted["request"]
        for path in converted["injected"]:
            node = trimmed
            *parents, last = path.split(".")
            for key in parents:
                node = node[key]
            del node[last]
        assert trimmed == load_config(ROOT / "examples" / name / "config.yaml").explainer_config_dict()
        assert set(converted["injected"]) <= set(SDK_DEFAULTS)
