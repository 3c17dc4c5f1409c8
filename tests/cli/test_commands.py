"""The clarify-kit console script: exit codes, the JSON report shape and readable terminal output."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.helpers import EXAMPLE_NAMES, ROOT, example_dict, example_path, run_cli


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(*args)


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_every_example_passes_precheck(name: str) -> None:
    out = run("precheck", str(example_path(name)), "--json")
    report = json.loads(out.stdout)
    assert out.returncode == 0, report["errors"]
    assert report["ok"] is True
    assert set(report) >= {"ok", "errors", "warnings", "synthetic_dataset"}
    assert set(report["synthetic_dataset"]) == {"n_features", "n_samples", "baseline_records", "size"}


def test_binary_precheck_reports_the_synthetic_dataset() -> None:
    report = json.loads(run("precheck", str(example_path("binary")), "--json").stdout)
    assert report["synthetic_dataset"] == {"n_features": 10, "n_samples": 1022, "baseline_records": 1, "size": 1022}


def test_errors_exit_1_and_read_well_in_a_terminal(tmp_path: Path) -> None:
    data = example_dict("binary")
    data["EndpointConfig"]["ProductionVariants"][0]["InitialInstanceCount"] = 1
    path = tmp_path / "one.json"
    path.write_text(json.dumps(data, indent=2))
    out = run("precheck", str(path))
    assert out.returncode == 1
    line, column = next(
        (i, text.index('"Init') + 1)
        for i, text in enumerate(path.read_text().splitlines(), 1)
        if '"InitialInstanceCount"' in text
    )
    assert (
        f"✗ error EndpointConfig.ProductionVariants[0].InitialInstanceCount ({path}:{line}:{column}): 1 "
        "instance" in out.stdout
    )
    assert "precheck failed: 1 error(s)" in out.stdout


def test_opt_out_turns_the_multi_az_error_into_a_warning(tmp_path: Path) -> None:
    data = example_dict("binary")
    data["EndpointConfig"]["ProductionVariants"][0]["InitialInstanceCount"] = 1
    data["ClarifyKit"]["Autoscaling"] = {"Enabled": False}
    data["ClarifyKit"]["OptOuts"] = [{"Rule": "multi-az", "Reason": "a dev endpoint, torn down nightly"}]
    path = tmp_path / "dev.json"
    path.write_text(json.dumps(data))
    report = json.loads(run("precheck", str(path), "--json").stdout)
    assert report["ok"] is True
    assert any("a dev endpoint, torn down nightly" in w["message"] for w in report["warnings"])


def test_unreadable_file_exits_2(tmp_path: Path) -> None:
    out = run("precheck", str(tmp_path / "missing.yaml"))
    assert out.returncode == 2
    assert "cannot read the config file" in out.stderr
    assert "Traceback" not in out.stderr


def test_usage_error_exits_2() -> None:
    assert run("precheck").returncode == 2
    assert run("nope").returncode == 2


def test_expression_command_tests_an_expression_offline() -> None:
    ok = run("expression", "[1]>`0.5`", "--output", "1,0.6")
    assert ok.returncode == 0
    assert "true (a boolean: the record is explained)" in ok.stdout
    bad = run("expression", "true", "--output", "1,0.6", "--json")
    assert bad.returncode == 1
    assert json.loads(bad.stdout)["value"] is None
    syntax = run("expression", "[1]>0.5", "--output", "1,0.6")
    assert syntax.returncode == 1
    assert "write number literals with backticks" in syntax.stderr


def test_schema_command_prints_the_json_schema() -> None:
    schema = json.loads(run("schema").stdout)
    assert schema["title"] == "clarify-kit deployment config"


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["parse", "/nonexistent/response.json"], id="parse"),
        pytest.param(
            [
                "invoke",
                "ep",
                "--body",
                "@/nonexistent/body.csv",
                "--endpoint-url",
                "http://127.0.0.1:9",
                "--region",
                "us-east-1",
            ],
            id="invoke-body-file",
        ),
        pytest.param(["serve-local", "/nonexistent/config.yaml", "--model-url", "http://127.0.0.1:9"], id="serve"),
    ],
)
def test_missing_input_files_exit_2_with_a_message_not_a_traceback(args: list[str]) -> None:
    out = run(*args)
    assert out.returncode == 2
    assert "nonexistent" in out.stderr and "Traceback" not in out.stderr


def test_the_example_server_image_is_pinned_like_the_lock_file() -> None:
    dockerfile = (ROOT / "examples" / "Dockerfile").read_text()
    lock = {line.split("==")[0].lower(): line.strip() for line in (ROOT / "requirements-lock.txt").read_text().split()}
    pins = [p for p in dockerfile.split() if "==" in p]
    assert pins and all(lock.get(p.split("==")[0].lower()) == p for p in pins), pins
    assert 'ENTRYPOINT ["python", "-m", "examples.container"]' in dockerfile and 'CMD ["serve"]' in dockerfile


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_every_example_has_a_dockerfile_tagging_the_server_as_its_image(name: str) -> None:
    dockerfile = (ROOT / "examples" / name / "Dockerfile").read_text()
    image = yaml.safe_load(example_path(name).read_text())["Model"]["PrimaryContainer"]["Image"]
    assert "FROM clarify-kit-examples:server" in dockerfile and image in dockerfile


def test_precheck_of_several_configs_warns_when_they_would_collide(tmp_path: Path) -> None:
    copy = tmp_path / "mme-copy.yaml"
    copy.write_text(example_path("mme").read_text())
    out = run("precheck", str(example_path("mme")), str(copy), str(example_path("binary")), "--json")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert set(report["configs"]) == {str(example_path("mme")), str(copy), str(example_path("binary"))}
    paths = [c["path"] for c in report["collisions"]]
    assert paths == ["ClarifyKit.StackName", "Endpoint.EndpointName"]
    assert all("mme-copy.yaml" in c["message"] and "binary" not in c["message"] for c in report["collisions"])
