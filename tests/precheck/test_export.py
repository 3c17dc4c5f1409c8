"""Precheck findings where CI shows them: SARIF 2.1.0 on the config's line and column, JUnit XML, file:line:column
in text and JSON."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from tests.helpers import ROOT, example_dict, example_path, run_cli

SARIF_SCHEMA = ROOT / "node_modules" / "@microsoft" / "jest-sarif" / "lib" / "schemas" / "sarif-2.1.0-rtm.5.json"


def _where(path: Path, needle: str) -> tuple[int, int]:
    """The 1-based line and column where ``needle`` (a key as written) first appears in ``path``."""
    for number, text in enumerate(path.read_text().splitlines(), 1):
        if needle in text:
            return number, text.index(needle) + 1
    raise AssertionError(f"{needle!r} not in {path}")


def _bad_configs(tmp_path: Path) -> dict[str, Path]:
    """The same two mistakes in YAML (block style) and JSON: one instance, and a 5 KB inline baseline."""
    data = example_dict("binary")
    data["EndpointConfig"]["ProductionVariants"][0]["InitialInstanceCount"] = 1
    yaml_path, json_path = tmp_path / "bad.yaml", tmp_path / "bad.json"
    yaml_path.write_text(yaml.safe_dump(data, sort_keys=False))
    json_path.write_text(json.dumps(data, indent=2))
    return {"yaml": yaml_path, "json": json_path}


def _validator() -> Any:
    schema = json.loads(SARIF_SCHEMA.read_text())
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema)


@pytest.mark.parametrize("kind", ["yaml", "json"])
def test_sarif_is_valid_and_puts_each_finding_on_its_line(kind: str, tmp_path: Path) -> None:
    path = _bad_configs(tmp_path)[kind]
    out = run_cli("precheck", str(path), "--format", "sarif")
    assert out.returncode == 1, out.stderr
    log = json.loads(out.stdout)
    errors = sorted(_validator().iter_errors(log), key=str)
    assert not errors, errors[0]
    (run,) = log["runs"]
    rule_ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert len(rule_ids) == len(set(rule_ids)) and "multi-az" in rule_ids
    (result,) = [r for r in run["results"] if r["level"] == "error"]
    assert result["ruleId"] == "multi-az" and rule_ids[result["ruleIndex"]] == "multi-az"
    location = result["locations"][0]["physicalLocation"]
    key = '"InitialInstanceCount"' if kind == "json" else "InitialInstanceCount:"
    assert (location["region"]["startLine"], location["region"]["startColumn"]) == _where(path, key)
    assert location["artifactLocation"]["uri"].endswith(path.name)
    assert "1 instance is one Availability Zone" in result["message"]["text"]


def test_a_missing_field_is_reported_where_it_would_go_and_an_unreadable_file_is_a_result(tmp_path: Path) -> None:
    # GIVEN a config without EnableExplanations' sibling... a Model without ExecutionRoleArn, and a broken file
    data = example_dict("binary")
    del data["EndpointConfig"]["ExplainerConfig"]["ClarifyExplainerConfig"]["ShapConfig"]["ShapBaselineConfig"]
    missing = tmp_path / "missing.yaml"
    missing.write_text(yaml.safe_dump(data, sort_keys=False))
    broken = tmp_path / "broken.yaml"
    broken.write_text("Model: [\n")
    out = run_cli("precheck", str(missing), str(broken), "--format", "sarif")
    assert out.returncode == 2
    log = json.loads(out.stdout)
    assert not list(_validator().iter_errors(log))
    results = log["runs"][0]["results"]
    on_missing = [
        r
        for r in results
        if r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].endswith("missing.yaml")
        and r["level"] == "error"
    ]
    assert on_missing, results
    line = on_missing[0]["locations"][0]["physicalLocation"]["region"]["startLine"]
    assert line == _where(missing, "ShapConfig:")[0]  # the nearest ancestor that is in the file
    on_broken = [
        r for r in results if r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].endswith("broken.yaml")
    ]
    assert len(on_broken) == 1 and "not valid YAML" in on_broken[0]["message"]["text"]


def test_text_and_json_findings_carry_file_line_and_column(tmp_path: Path) -> None:
    path = _bad_configs(tmp_path)["yaml"]
    line, column = _where(path, "InitialInstanceCount:")
    text = run_cli("precheck", str(path)).stdout
    assert f"({path}:{line}:{column})" in text
    (error,) = json.loads(run_cli("precheck", str(path), "--json").stdout)["errors"]
    assert error["location"] == f"{path}:{line}:{column}" and (error["line"], error["column"]) == (line, column)
    assert error["rule"] == "multi-az"


def test_junit_has_a_suite_per_config_and_a_failure_with_its_location(tmp_path: Path) -> None:
    bad = _bad_configs(tmp_path)["yaml"]
    junit = tmp_path / "precheck.xml"
    out = run_cli("precheck", str(bad), str(example_path("binary")), "--junit-xml", str(junit))
    assert out.returncode == 1
    root = ET.parse(junit).getroot()
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    # (the copy collides with the example it was made from: a warning in the suite of configs checked together)
    assert set(suites) == {str(bad), str(example_path("binary")), "configs checked together"}
    assert suites["configs checked together"].get("failures") == "0"
    assert "both give" in (suites["configs checked together"].findtext("testcase/system-out") or "")
    assert suites[str(example_path("binary"))].get("failures") == "0"
    failures = list(suites[str(bad)].iter("failure"))
    assert len(failures) == 1 and failures[0].get("type") == "multi-az"
    line, column = _where(bad, "InitialInstanceCount:")
    assert (failures[0].text or "").startswith(f"{bad}:{line}:{column}: 1 instance")
    cases = [c.get("name") for c in suites[str(bad)].iter("testcase")]
    assert "multi-az" in cases and len(cases) == len(set(cases))


def test_every_example_gives_a_valid_sarif_log_with_no_error() -> None:
    paths = [str(example_path(kind)) for kind in ("binary", "multiclass", "nlp", "regression", "mme")]
    out = run_cli("precheck", *paths, "--format", "sarif")
    assert out.returncode == 0, out.stdout
    log = json.loads(out.stdout)
    assert not list(_validator().iter_errors(log))
    assert all(r["level"] != "error" for r in log["runs"][0]["results"])
