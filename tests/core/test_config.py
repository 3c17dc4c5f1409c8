"""The deployment config: examples load, requests pass botocore's own validation, errors name their fields."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore.validate import ParamValidator

from clarify_kit.adapters.files import load_config
from clarify_kit.core.config import config_from_dict, json_schema
from clarify_kit.core.errors import ConfigError, ConfigFileError
from clarify_kit.core.resources import build_requests, resource_names
from tests.helpers import EXAMPLE_NAMES, ROOT, example_dict, example_path

SAGEMAKER = botocore.session.get_session().get_service_model("sagemaker")


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_every_example_config_loads(name: str) -> None:
    config = load_config(example_path(name))
    assert config.clarify is not None


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_derived_requests_pass_botocore_parameter_validation(name: str) -> None:
    # GIVEN an example config
    config = load_config(example_path(name))
    # WHEN the kit derives the three control-plane requests
    requests = build_requests(config)
    # THEN botocore's own validator accepts each against the SageMaker service model
    for operation, params in requests.items():
        report = ParamValidator().validate(params, SAGEMAKER.operation_model(operation).input_shape)
        assert not report.has_errors(), report.generate_report()


def test_explainer_config_is_sent_exactly_as_written() -> None:
    config = load_config(example_path("binary"))
    written = example_dict("binary")["EndpointConfig"]["ExplainerConfig"]
    assert build_requests(config)["CreateEndpointConfig"]["ExplainerConfig"] == written
    assert config.explainer_config_dict() == written


def test_a_file_with_only_model_and_endpoint_config_is_complete() -> None:
    data = example_dict("binary")
    minimal = {"Model": data["Model"], "EndpointConfig": data["EndpointConfig"]}
    config = config_from_dict(minimal)
    assert config.ClarifyKit.Autoscaling.MinCapacity == 2
    assert resource_names(config).endpoint == "clarifyendpoint"


def test_names_change_with_the_config_and_stay_within_63_characters() -> None:
    a = config_from_dict(example_dict("binary"))
    data = example_dict("binary")
    data["EndpointConfig"]["ExplainerConfig"]["ClarifyExplainerConfig"]["ShapConfig"]["Seed"] = 43
    b = config_from_dict(data)
    assert resource_names(a).endpoint_config != resource_names(b).endpoint_config
    assert resource_names(a) == resource_names(config_from_dict(example_dict("binary")))
    assert all(len(n) <= 63 for n in (resource_names(a).model, resource_names(a).endpoint_config))


def test_json_and_yaml_files_give_the_same_config(tmp_path: Path) -> None:
    path = tmp_path / "binary.json"
    path.write_text(json.dumps(example_dict("binary")))
    assert load_config(path) == load_config(example_path("binary"))


@pytest.mark.parametrize(
    ("text", "suffix", "fragment"),
    [
        pytest.param("Model: [\n", ".yaml", "not valid YAML at line 2", id="broken-yaml"),
        pytest.param("{", ".json", "not valid JSON", id="broken-json"),
        pytest.param("a: b: c", ".yaml", "not valid YAML at line 1", id="mapping-in-scalar"),
    ],
)
def test_unreadable_files_raise_a_file_error(tmp_path: Path, text: str, suffix: str, fragment: str) -> None:
    path = tmp_path / f"bad{suffix}"
    path.write_text(text)
    with pytest.raises(ConfigFileError, match=fragment):
        load_config(path)


def test_missing_file_is_a_file_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigFileError, match="cannot read"):
        load_config(tmp_path / "nope.yaml")


@pytest.mark.parametrize("document", [None, [], "text", 3])
def test_a_document_that_is_not_a_mapping_is_rejected(document: Any) -> None:
    with pytest.raises(ConfigError, match="must be a mapping with Model and EndpointConfig"):
        config_from_dict(document)


def test_every_problem_is_reported_together() -> None:
    data = example_dict("binary")
    data["EndpointConfig"]["ProductionVariants"][0]["InstanceType"] = "ml.nope"
    data["Endpoint"]["EndpointName"] = "bad_name"
    data["ClarifyKit"]["Latancy"] = {}
    with pytest.raises(ConfigError) as info:
        config_from_dict(data)
    paths = {i.path for i in info.value.issues}
    assert paths == {"EndpointConfig.ProductionVariants[0].InstanceType", "Endpoint.EndpointName", "ClarifyKit.Latancy"}


def test_config_models_are_frozen() -> None:
    config = load_config(example_path("binary"))
    with pytest.raises(Exception, match="frozen"):
        config.Model = config.Model  # type: ignore[misc]


def test_json_schema_describes_the_file_for_editors() -> None:
    schema = json_schema()
    assert set(schema["required"]) == {"Model", "EndpointConfig"}
    text = json.dumps(schema)
    assert "ClarifyExplainerConfig" in text and "ShapBaselineConfig" in text
    assert schema["additionalProperties"] is False


def test_generated_api_models_match_the_pinned_botocore() -> None:
    out = subprocess.run([sys.executable, str(ROOT / "tools" / "gen_api_models.py"), "--check"], check=False)
    assert out.returncode == 0, "clarify_kit/core/_api_models.py is stale: run python tools/gen_api_models.py"


def test_a_pasted_boto3_request_with_names_is_accepted_and_the_names_ignored() -> None:
    from clarify_kit.precheck import static_precheck

    data = example_dict("binary")
    data["Model"]["ModelName"] = "my-model"
    data["EndpointConfig"]["EndpointConfigName"] = "my-config"
    data["EndpointConfig"]["ProductionVariants"][0]["ModelName"] = "my-model"
    config = config_from_dict(data)
    warnings = {f.path: f.message for f in static_precheck(config).warnings}
    assert "is ignored: the kit generates this name" in warnings["EndpointConfig.ProductionVariants[0].ModelName"]
    assert {"Model.ModelName", "EndpointConfig.EndpointConfigName"} <= set(warnings)
    requests = build_requests(config)
    assert requests["CreateModel"]["ModelName"] != "my-model"
    variant = requests["CreateEndpointConfig"]["ProductionVariants"][0]
    assert variant["ModelName"] == requests["CreateModel"]["ModelName"]
