"""SageMaker SDK interop: framework images by name, explainer objects both ways, and the SDK kept off fast paths."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from clarify_kit.adapters.files import load_config
from clarify_kit.adapters.sdk import SDK_DEFAULTS, from_sdk, from_sdk_shape, to_sdk, to_sdk_shape
from clarify_kit.precheck import load_checked, precheck_file
from tests.helpers import EXAMPLE_NAMES, ROOT, example_dict, example_path


def config_with_image(tmp_path: Path, image: dict[str, Any]) -> Path:
    data = example_dict("binary")
    data["Model"]["PrimaryContainer"]["Image"] = image
    path = tmp_path / "framework.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.mark.parametrize(
    ("image", "repository"),
    [
        pytest.param({"Framework": "xgboost", "Version": "1.7-1"}, "sagemaker-xgboost:1.7-1", id="xgboost"),
        pytest.param(
            {"Framework": "sklearn", "Version": "1.2-1"}, "sagemaker-scikit-learn:1.2-1-cpu-py3", id="sklearn"
        ),
        pytest.param(
            {"Framework": "pytorch", "Version": "2.1", "PyVersion": "py310"},
            "pytorch-inference:2.1-cpu-py310",
            id="pytorch",
        ),
    ],
)
@pytest.mark.parametrize("region", ["us-east-1", "eu-west-1"])
def test_framework_images_resolve_per_region(
    tmp_path: Path, image: dict[str, Any], repository: str, region: str
) -> None:
    report, config = precheck_file(config_with_image(tmp_path, image), region=region)
    assert report.ok, report.errors
    assert config is not None
    uri = config.Model.PrimaryContainer.Image
    assert isinstance(uri, str) and uri.endswith(repository) and f".dkr.ecr.{region}.amazonaws.com/" in uri
    note = next(f for f in report.findings if f.path == "Model.PrimaryContainer.Image")
    assert uri in note.message and region in note.message


def test_an_unknown_version_is_an_error_that_lists_the_known_ones(tmp_path: Path) -> None:
    report, _ = precheck_file(config_with_image(tmp_path, {"Framework": "xgboost", "Version": "9.9"}))
    error = next(f for f in report.errors if f.path == "Model.PrimaryContainer.Image.Version")
    assert "9.9" in error.message and "1.7-1" in error.message


def test_an_unknown_framework_is_an_error_that_lists_the_known_ones(tmp_path: Path) -> None:
    report, _ = precheck_file(config_with_image(tmp_path, {"Framework": "xgbost", "Version": "1.7-1"}))
    error = next(f for f in report.errors if f.path == "Model.PrimaryContainer.Image.Framework")
    assert "'xgbost' is not a framework" in error.message and "xgboost" in error.message


def test_synthesis_settings_render_the_resolved_uri(tmp_path: Path) -> None:
    settings = load_checked(
        config_with_image(tmp_path, {"Framework": "sklearn", "Version": "1.2-1"}), region="eu-west-1"
    )
    assert settings.config.Model.PrimaryContainer.Image == (
        "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
    )


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_legacy_sdk_objects_round_trip_and_name_the_defaults_they_inject(name: str) -> None:
    written = load_config(example_path(name)).explainer_config_dict()
    assert written is not None
    obj, injected = to_sdk(written)
    back = from_sdk(obj)
    assert set(injected) <= set(SDK_DEFAULTS)
    trimmed = back.explainer_config
    for path in injected:  # what the SDK added on its own
        node = trimmed
        *parents, last = path.split(".")
        for key in parents:
            node = node[key]
        del node[last]
    assert trimmed == written
    assert set(injected) <= set(back.sdk_defaults)


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_sdk_shapes_round_trip_exactly(name: str) -> None:
    written = load_config(example_path(name)).explainer_config_dict()
    assert written is not None
    conversion = from_sdk_shape(to_sdk_shape(written))
    assert conversion.explainer_config == written and conversion.sdk_defaults == []


def test_falsy_values_survive_the_shape_conversion() -> None:
    written = {
        "ClarifyExplainerConfig": {
            "InferenceConfig": {"ProbabilityIndex": 0},
            "ShapConfig": {"ShapBaselineConfig": {"ShapBaseline": "1"}, "UseLogit": False},
        }
    }
    assert from_sdk_shape(to_sdk_shape(written)).explainer_config == written


def loaded_modules(code: str) -> list[str]:
    script = code + "\nimport sys, json\nprint(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))\n"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=ROOT)
    return list(json.loads(out.stdout.strip().splitlines()[-1]))


def test_the_sdk_stays_out_of_precheck_for_uri_configs_and_out_of_the_client() -> None:
    precheck = loaded_modules(
        "from clarify_kit.cli import main\nmain(['precheck', 'examples/binary/config.yaml', '--json'])"
    )
    assert "sagemaker" not in precheck
    client = loaded_modules(
        "import clarify_kit.client, clarify_kit.client.bulk, clarify_kit.client.smoke, "
        "clarify_kit.client.verify, clarify_kit.client.plots"
    )
    assert "sagemaker" not in client
