"""The example pipelines (GitHub Actions, CodeBuild, GitLab CI) and the pre-commit hook: valid against their
published schemas, calling the kit's one checks script, and their offline commands run here as written."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from tests.helpers import ROOT, example_path

PIPELINES = ROOT / "pipelines"
ACTION = PIPELINES / "github" / "action.yml"
WORKFLOW = PIPELINES / "github" / "workflow.yml"
BUILDSPEC = PIPELINES / "codebuild" / "buildspec.yml"
GITLAB = PIPELINES / "gitlab" / "clarify-kit.gitlab-ci.yml"
INSTALLS = ("python -m pip install", "npm ci")
OFFLINE_STEPS = ("precheck", "synth", "smoke-local")

# CodeBuild publishes no JSON Schema; this one holds what the buildspec reference documents
# (docs.aws.amazon.com/codebuild/latest/userguide/build-spec-ref.html): the top-level keys, version 0.2, the four
# phases with their commands, and the report formats.
BUILDSPEC_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["version", "phases"],
    "additionalProperties": False,
    "properties": {
        "version": {"const": 0.2},
        "run-as": {"type": "string"},
        "env": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "shell": {"type": "string"},
                "variables": {"type": "object", "additionalProperties": {"type": "string"}},
                "parameter-store": {"type": "object"},
                "exported-variables": {"type": "array"},
                "secrets-manager": {"type": "object"},
                "git-credential-helper": {"enum": ["yes", "no"]},
            },
        },
        "proxy": {"type": "object"},
        "batch": {"type": "object"},
        "phases": {
            "type": "object",
            "additionalProperties": False,
            "minProperties": 1,
            "properties": {
                name: {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "run-as": {"type": "string"},
                        "on-failure": {"enum": ["ABORT", "CONTINUE", "RETRY"]},
                        "commands": {"type": "array", "items": {"type": "string"}, "minItems": 1},
                        "finally": {"type": "array", "items": {"type": "string"}},
                        **({"runtime-versions": {"type": "object"}} if name == "install" else {}),
                    },
                }
                for name in ("install", "pre_build", "build", "post_build")
            },
        },
        "reports": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "required": ["files"],
                "additionalProperties": False,
                "properties": {
                    "files": {"type": "array", "items": {"type": "string"}},
                    "base-directory": {"type": "string"},
                    "discard-paths": {"enum": ["yes", "no"]},
                    "file-format": {
                        "enum": [
                            "CUCUMBERJSON",
                            "JUNITXML",
                            "NUNITXML",
                            "NUNIT3XML",
                            "TESTNGXML",
                            "VISUALSTUDIOTRX",
                            "CLOVERXML",
                            "COBERTURAXML",
                            "JACOCOXML",
                            "SIMPLECOV",
                        ]
                    },
                },
            },
        },
        "artifacts": {"type": "object"},
        "cache": {"type": "object"},
    },
}


def _load(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def _action_script(configs: str) -> str:
    """The composite action's precheck step as a script, with the inputs a workflow gives it."""
    (step,) = [s for s in _load(ACTION)["runs"]["steps"] if s.get("id") == "precheck"]
    return f"export CHECKS=pipelines/checks.sh CONFIGS={shlex.quote(configs)} GITHUB_OUTPUT=/dev/null\n" + step["run"]


def _commands(path: Path) -> dict[str, list[str]]:
    """Each job's shell scripts, as the CI system would run them, by job name (the composite action's precheck
    step where a workflow uses the action)."""
    data = _load(path)
    if path == BUILDSPEC:
        return {"build": [c for phase in data["phases"].values() for c in phase["commands"]]}
    if path == GITLAB:
        return {name: job["script"] for name, job in data.items() if isinstance(job, dict) and "script" in job}
    if path == ACTION:
        return {"action": [s["run"] for s in data["runs"]["steps"] if "run" in s]}
    jobs: dict[str, list[str]] = {}
    for name, job in data["jobs"].items():
        for step in job.get("steps", []):
            if step.get("uses") == "./pipelines/github":
                jobs.setdefault(name, []).append(_action_script(step["with"]["configs"]))
            elif "run" in step:
                jobs.setdefault(name, []).append(step["run"])
    return jobs


def _variables(path: Path) -> dict[str, str]:
    data = _load(path)
    if path == BUILDSPEC:
        return dict(data["env"]["variables"])
    if path == GITLAB:
        return dict(data["variables"])
    return dict(data.get("env", {}))


@pytest.mark.parametrize(
    ("path", "schema"),
    [(ACTION, "vendor.github-actions"), (WORKFLOW, "vendor.github-workflows"), (GITLAB, "vendor.gitlab-ci")],
)
def test_each_pipeline_is_valid_against_its_published_schema(path: Path, schema: str) -> None:
    checker = Path(sys.executable).parent / "check-jsonschema"
    out = subprocess.run(
        [str(checker), "--builtin-schema", schema, str(path)], capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_the_buildspec_is_valid_against_the_documented_shape() -> None:
    data = _load(BUILDSPEC)
    jsonschema.validate(data, BUILDSPEC_SCHEMA)
    # a failed check must stop the build before the deploy command (commands after a failure do not run)
    assert data["phases"]["build"]["on-failure"] == "ABORT"
    assert data["phases"]["build"]["commands"][-1].startswith('if [ "$DEPLOY" = "true" ]')


def test_the_workflow_uses_the_composite_action_and_deploys_only_after_every_check() -> None:
    workflow = _load(WORKFLOW)
    jobs = workflow["jobs"]
    assert {"uses": "./pipelines/github", "with": {"configs": jobs["precheck"]["steps"][1]["with"]["configs"]}} == jobs[
        "precheck"
    ]["steps"][1]
    assert jobs["precheck"]["permissions"]["security-events"] == "write"  # SARIF upload
    assert set(jobs["deploy"]["needs"]) == {"precheck", "synth", "smoke-local"}
    assert jobs["deploy"]["permissions"]["id-token"] == "write" and "default_branch" in jobs["deploy"]["if"]
    # inputs reach shell scripts through the environment, never spliced into the script (script injection)
    for step in _load(ACTION)["runs"]["steps"]:
        assert "${{" not in step.get("run", ""), step


@pytest.mark.parametrize("path", [ACTION, WORKFLOW, BUILDSPEC, GITLAB], ids=lambda p: p.name)
def test_every_pipeline_runs_the_same_checks_script_steps(path: Path) -> None:
    steps = set()
    for commands in _commands(path).values():
        for command in commands:
            steps.update(re.findall(r'bash (?:pipelines/checks\.sh|"\$CHECKS") (\S+)', command))
    expected = {"precheck"} if path == ACTION else {*OFFLINE_STEPS, "deploy"}
    assert steps == expected, steps


def _offline_commands() -> list[tuple[str, str]]:
    """(pipeline, command) for every command of every offline job, installs left out (make setup did them)."""
    found = []
    for path in (WORKFLOW, BUILDSPEC, GITLAB):
        for job, commands in _commands(path).items():
            if job == "deploy":
                continue
            for command in commands:
                script = "\n".join(line for line in command.splitlines() if not line.strip().startswith(INSTALLS))
                if script.strip():
                    found.append((path.name, script))
    return found


@pytest.mark.slow
def test_the_offline_commands_of_every_pipeline_run_here_as_written(tmp_path: Path) -> None:
    # GIVEN each pipeline's offline commands with its own variables (the same commands run once)
    runs: dict[str, list[str]] = {}
    for pipeline, command in _offline_commands():
        variables = {k: v for k, v in _variables(PIPELINES / _where(pipeline)).items()}
        expanded = command
        for key, value in variables.items():
            expanded = expanded.replace(f'"${key}"', shlex.quote(value)).replace(f"${key}", value)
        runs.setdefault(expanded, []).append(pipeline)
    assert len(runs) >= 4, runs  # precheck, synth, smoke-local and the gated deploy line
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        "OUT": str(tmp_path),
        "PYTHON": sys.executable,
        "CDK_DISABLE_VERSION_CHECK": "1",
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
        "DEPLOY": "false",
    }
    for command in runs:
        out = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", command],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert out.returncode == 0, f"{command} ({runs[command]}):\n{out.stdout[-2000:]}\n{out.stderr[-2000:]}"
    # THEN every report a CI system picks up is there and says what happened
    sarif = json.loads((tmp_path / "precheck.sarif").read_text())
    assert sarif["version"] == "2.1.0" and not [r for r in sarif["runs"][0]["results"] if r["level"] == "error"]
    smoke = ET.parse(tmp_path / "smoke-junit.xml").getroot()
    assert smoke.find("testsuite").get("failures") == "0" and len(smoke.findall("testsuite/testcase")) >= 4
    for name in ("precheck-junit.xml", "container-precheck-junit.xml"):
        assert ET.parse(tmp_path / name).getroot().tag == "testsuites"
    assert (tmp_path / "cdk.out" / "ClarifyKitBinary.template.json").exists()


def _where(name: str) -> Path:
    return next(p.relative_to(PIPELINES) for p in PIPELINES.rglob(name))


def test_the_checks_script_fails_on_an_error_finding_and_keeps_the_reports(tmp_path: Path) -> None:
    data = yaml.safe_load(example_path("binary").read_text())
    data["EndpointConfig"]["ProductionVariants"][0]["InitialInstanceCount"] = 1
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(data, sort_keys=False))
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}", "OUT": str(tmp_path)}
    out = subprocess.run(
        ["bash", str(PIPELINES / "checks.sh"), "precheck", str(bad)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 1
    assert "1 instance is one Availability Zone" in out.stdout  # readable in the log
    results = json.loads((tmp_path / "precheck.sarif").read_text())["runs"][0]["results"]
    assert [r["ruleId"] for r in results if r["level"] == "error"] == ["multi-az"]
    unknown = subprocess.run(
        ["bash", str(PIPELINES / "checks.sh"), "lint"], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    assert unknown.returncode == 2 and "unknown step 'lint'" in unknown.stderr


def test_the_pre_commit_hook_is_a_valid_manifest_matching_config_files_only() -> None:
    from pre_commit.clientlib import load_manifest

    (hook,) = load_manifest(ROOT / ".pre-commit-hooks.yaml")
    assert hook["entry"] == "clarify-kit precheck" and hook["language"] == "python"
    pattern = re.compile(hook["files"])
    assert pattern.search("deploy/clarify-prod.yaml") and pattern.search("clarify.json")
    assert not pattern.search("docker-compose.yaml") and not pattern.search("clarify/values.txt")


@pytest.mark.slow
def test_the_pre_commit_hook_runs_in_a_users_repository(tmp_path: Path) -> None:
    # GIVEN a user's repository with a good config, a bad one and an unrelated YAML file
    repo = tmp_path / "repo"
    repo.mkdir()
    text = example_path("binary").read_text()
    (repo / "clarify-good.yaml").write_text(text)
    (repo / "clarify-bad.yaml").write_text(text.replace("InitialInstanceCount: 2", "InitialInstanceCount: 1"))
    (repo / "other.yaml").write_text("a: 1\n")
    git = ["git", "-c", "user.email=ci@example.com", "-c", "user.name=ci"]
    for command in (["init", "-q"], ["add", "."], ["commit", "-qm", "configs"]):
        subprocess.run([*git, *command], cwd=repo, check=True)
    # WHEN pre-commit installs the hook from this repository (its own virtualenv, from the package index) and runs
    pre_commit = Path(sys.executable).parent / "pre-commit"
    out = subprocess.run(
        [str(pre_commit), "try-repo", str(ROOT), "clarify-kit-precheck", "--all-files"],
        cwd=repo,
        env={**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "home")},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    # THEN it fails on the bad config, at its line, and leaves the unrelated file alone
    assert out.returncode == 1, out.stdout + out.stderr
    assert "(clarify-bad.yaml:" in out.stdout and "1 instance is one Availability Zone" in out.stdout
    assert "other.yaml" not in out.stdout
