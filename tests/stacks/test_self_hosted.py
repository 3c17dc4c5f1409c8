"""A self-hosted explainer deployment: the precheck admits serverless and asynchronous variants for it (and still
refuses them for the Clarify explainer); the stack renders the model's image as a CDK asset built FROM the model's
image, with no ExplainerConfig and ECR pull on the asset repository only; the image's Dockerfile is hadolint-clean
and its runtime, installed alone, serves."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from clarify_kit.core.config import config_from_dict
from clarify_kit.explainer.image import build_context, runtime_requirements
from clarify_kit.precheck import static_precheck
from tests.helpers import ROOT, example_dict

SERVERLESS = {"VariantName": "Serverless", "ServerlessConfig": {"MemorySizeInMB": 4096, "MaxConcurrency": 5}}


def _config(explainer: str, *, serverless: bool = False, asynchronous: bool = False) -> Any:
    data = example_dict("binary")
    data["ClarifyKit"]["Explainer"] = explainer
    if serverless:
        data["EndpointConfig"]["ProductionVariants"] = [SERVERLESS]
    if asynchronous:
        data["EndpointConfig"]["AsyncInferenceConfig"] = {"OutputConfig": {"S3OutputPath": "s3://bucket/out/"}}
    return config_from_dict(data)


def _errors(config: Any) -> list[str]:
    return [f"{f.path}: {f.message}" for f in static_precheck(config).errors]


def test_serverless_and_async_pass_the_precheck_only_when_the_explainer_is_self_hosted() -> None:
    assert _errors(_config("SelfHosted", serverless=True)) == []
    clarify = _errors(_config("Clarify", serverless=True))
    assert any("ServerlessConfig: serverless variants are not supported with the Clarify explainer" in e
               for e in clarify)
    # asynchronous output holds the explanations: it must be encrypted
    assert _errors(_config("SelfHosted", asynchronous=True)) == [
        "EndpointConfig.AsyncInferenceConfig.OutputConfig.KmsKeyId: asynchronous responses (with their "
        "explanations) are written to S3: encrypt them with a KMS key (KmsKeyId)"]
    assert any("AsyncInferenceConfig" in e for e in _errors(_config("Clarify", asynchronous=True)))


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    import aws_cdk as cdk

    from clarify_kit.stacks import ClarifyEndpoint

    out = tmp_path_factory.mktemp("self-hosted")
    app = cdk.App(outdir=str(out))
    stack = cdk.Stack(app, "SelfHosted", env=cdk.Environment(account="123456789012", region="us-east-1"))
    ClarifyEndpoint(stack, "Endpoint", config=_config("SelfHosted", serverless=True))
    assembly = app.synth()
    return {"template": assembly.get_stack_by_name("SelfHosted").template, "outdir": out}


def _one(template: dict[str, Any], kind: str) -> dict[str, Any]:
    (found,) = [r for r in template["Resources"].values() if r["Type"] == kind]
    return found


def test_the_stack_renders_the_explainer_image_as_an_asset_without_explainer_config(template: dict[str, Any]
                                                                                   ) -> None:
    body = template["template"]
    image = json.dumps(_one(body, "AWS::SageMaker::Model")["Properties"]["PrimaryContainer"]["Image"])
    assert "container-assets" in image  # the CDK asset repository, not the model's own image
    endpoint_config = _one(body, "AWS::SageMaker::EndpointConfig")["Properties"]
    assert "ExplainerConfig" not in endpoint_config
    assert endpoint_config["ProductionVariants"][0]["ServerlessConfig"]["MemorySizeInMB"] == 4096
    statements = _one(body, "AWS::IAM::ManagedPolicy")["Properties"]["PolicyDocument"]["Statement"]
    (pull,) = [s for s in statements if s["Sid"] == "PullModelImage"]
    assert "container-assets" in json.dumps(pull["Resource"]) and "clarify-kit-examples" not in json.dumps(pull)
    manifest = json.loads(next(Path(template["outdir"]).glob("*.assets.json")).read_text())
    (asset,) = manifest["dockerImages"].values()
    context = Path(template["outdir"]) / asset["source"]["directory"]
    assert (context / "Dockerfile").read_text().splitlines()[2] == (
        "FROM 123456789012.dkr.ecr.us-east-1.amazonaws.com/clarify-kit-examples:binary")


def test_cfn_lint_finds_nothing_in_the_self_hosted_template(template: dict[str, Any], tmp_path: Path) -> None:
    path = tmp_path / "SelfHosted.template.json"
    path.write_text(json.dumps(template["template"]))
    out = subprocess.run([str(Path(sys.executable).parent / "cfn-lint"), str(path)], capture_output=True, text=True,
                         check=False)
    assert out.returncode == 0, out.stdout


def test_the_dockerfile_is_hadolint_clean_and_the_runtime_is_small(tmp_path: Path) -> None:
    config = _config("SelfHosted")
    context = build_context(config, tmp_path / "context")
    out = subprocess.run([str(Path(sys.executable).parent / "hadolint"), str(context / "Dockerfile")],
                         capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stdout + out.stderr
    names = {r.split("==")[0] for r in runtime_requirements(config)}
    assert {"numpy", "starlette", "uvicorn", "pydantic", "boto3"} <= names
    assert not names & {"aws-cdk-lib", "pandas", "matplotlib", "spacy", "scikit-learn", "constructs"}
    data = example_dict("nlp")
    data["ClarifyKit"]["Explainer"] = "SelfHosted"
    assert "spacy" in {r.split("==")[0] for r in runtime_requirements(config_from_dict(data))}


@pytest.mark.slow
def test_the_images_runtime_installed_alone_serves_the_explainer(tmp_path: Path, models_dir: Path) -> None:
    # GIVEN a virtual environment with exactly the image's requirements (--no-deps) and the context's kit copy
    config = config_from_dict({**example_dict("binary"), "ClarifyKit": {
        **example_dict("binary")["ClarifyKit"], "Explainer": "SelfHosted"}})
    context = build_context(config, tmp_path / "context")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    uv = Path(sys.executable).parent / "uv"
    subprocess.run([str(uv), "pip", "install", "-q", "--python", str(venv / "bin" / "python"), "--no-deps", "-r",
                    str(context / "requirements.txt")], check=True, timeout=600)
    # WHEN its entrypoint's command runs with the model server started as its own process
    from examples.runner import free_port, wait_for_ping
    from tests.explainer.test_container_server import GOOD, post

    port, model_port = free_port(), free_port()
    model = (f"/usr/bin/env PYTHONPATH={ROOT} {sys.executable} -m examples.container --model-dir "
             f"{models_dir / 'binary'} --port {model_port}")  # the model server: the examples' own environment
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(context / "kit"), "HOME": str(tmp_path)}
    process = subprocess.Popen([str(venv / "bin" / "python"), "-m", "clarify_kit", "serve-container",
                                str(context / "config.json"), "--host", "127.0.0.1", "--port", str(port),
                                "--model-port", str(model_port), "--model-command", model],
                               cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for_ping(f"http://127.0.0.1:{port}", timeout=60, process=process)  # type: ignore[arg-type]
        status, answer = post(f"http://127.0.0.1:{port}", f"{GOOD}\n", "text/csv", "EnableExplanations=`true`")
    finally:
        process.terminate()
        _, err = process.communicate(timeout=20)
    # THEN it answers with the explainer's envelope
    assert status == 200, err[-2000:]
    assert len(answer["explanations"]["kernel_shap"][0]) == 10


def test_the_build_context_never_replaces_a_directory_it_did_not_write(tmp_path: Path) -> None:
    from clarify_kit.core.errors import KitError

    precious = tmp_path / "project"
    precious.mkdir()
    (precious / "Dockerfile").write_text("FROM python:3.12\n")
    with pytest.raises(KitError, match="not a build context the kit wrote"):
        build_context(_config("SelfHosted"), precious)
    assert (precious / "Dockerfile").read_text() == "FROM python:3.12\n"
    context = build_context(_config("SelfHosted"), tmp_path / "context")
    assert build_context(_config("SelfHosted"), context) == context  # its own: replaced


def test_the_self_hosted_stack_is_in_the_nagged_and_linted_app(synthesized: dict[str, Any]) -> None:
    # cdk-nag's packs and cfn-lint run on it with the examples (tests/stacks/test_templates.py)
    template = synthesized["templates"]["self-hosted"]
    assert "ExplainerConfig" not in json.dumps(template)
    variants = _one(template, "AWS::SageMaker::EndpointConfig")["Properties"]["ProductionVariants"]
    assert [("ServerlessConfig" in v) for v in variants] == [False, True]


def test_a_non_root_user_is_created_and_used_when_the_config_names_one(tmp_path: Path) -> None:
    data = example_dict("binary")
    data["ClarifyKit"].update(Explainer="SelfHosted", SelfHosted={"User": "clarify"})
    context = build_context(config_from_dict(data), tmp_path / "context")
    text = (context / "Dockerfile").read_text()
    assert "useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin clarify" in text
    assert text.splitlines()[-2:] == ["USER 10001", 'ENTRYPOINT ["/bin/sh", "/opt/clarify-kit/entrypoint.sh"]']
    out = subprocess.run([str(Path(sys.executable).parent / "hadolint"), str(context / "Dockerfile")],
                         capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stdout
    assert "USER" not in build_context(_config("SelfHosted"), tmp_path / "root").joinpath("Dockerfile").read_text()
