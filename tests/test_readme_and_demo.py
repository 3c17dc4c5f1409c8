"""Every command the README shows runs as written, and `make demo` runs the whole flow and cleans up."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.helpers import ROOT, free_port

README = (ROOT / "README.md").read_text()
BLOCKS = re.findall(r"```(bash|python)\n(.*?)```", README, flags=re.S)
AWS_ONLY = "# needs an AWS account"


def shell_blocks() -> list[str]:
    # The make targets are CI itself and the demo test; the tools are checked by their own --check tests.
    return [body for kind, body in BLOCKS if kind == "bash" and AWS_ONLY not in body and "make " not in body]


def env(tag: str = "") -> dict[str, str]:
    """The environment of a README block or the demo; ``tag`` marks every process it starts (they inherit it)."""
    return {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_DEFAULT_REGION": "us-east-1",
        "MPLBACKEND": "Agg",
        "PYTHONPATH": str(ROOT),
        "CLARIFY_KIT_TAG": tag,
    }


def tagged_processes(tag: str) -> list[int]:
    """The live processes started under ``tag`` (found by their environment, so tests running in parallel with
    their own containers do not count)."""
    marker = f"CLARIFY_KIT_TAG={tag}".encode()
    found = []
    for environ in Path("/proc").glob("[0-9]*/environ"):
        try:
            if marker in environ.read_bytes().split(b"\0"):
                found.append(int(environ.parent.name))
        except OSError:  # gone meanwhile, or not ours to read
            continue
    return found


def left_behind(tag: str, timeout: float = 10.0) -> list[int]:
    """The processes started under ``tag`` still alive once they had ``timeout`` seconds to stop."""
    import time

    deadline = time.monotonic() + timeout
    alive = tagged_processes(tag)
    while alive and time.monotonic() < deadline:
        time.sleep(0.2)
        alive = tagged_processes(tag)
    return alive


def test_the_readme_shows_the_two_commands_first() -> None:
    first = BLOCKS[0][1]
    assert "make demo" in first and "make test" in first


def test_the_config_reference_in_the_readme_is_generated_from_the_schema() -> None:
    out = subprocess.run([sys.executable, str(ROOT / "tools" / "gen_config_reference.py"), "--check"], check=False)
    assert out.returncode == 0, "run python tools/gen_config_reference.py"


def test_the_rule_catalogue_in_the_readme_is_generated_from_the_registry() -> None:
    out = subprocess.run([sys.executable, str(ROOT / "tools" / "gen_rule_catalogue.py"), "--check"], check=False)
    assert out.returncode == 0, "run python tools/gen_rule_catalogue.py"


def test_the_readme_pictures_were_drawn_by_the_current_drawing_code() -> None:
    out = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "gen_readme_images.py"), "--check"], capture_output=True, text=True
    )
    assert out.returncode == 0, out.stdout


@pytest.mark.slow
@pytest.mark.parametrize("block", shell_blocks(), ids=lambda b: b.strip().splitlines()[-1][:60])
def test_every_readme_shell_block_runs_as_written(block: str, tmp_path: Path) -> None:
    tag = uuid.uuid4().hex
    # The README's ports, moved to free ones so that the test never collides with anything on the machine; its
    # outputs written to a temporary directory, never into a user's demo-output/.
    block = block.replace("8090", str(free_port())).replace("8091", str(free_port()))
    block = block.replace("demo-output/", f"{tmp_path}/")
    out = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", block],
        cwd=ROOT,
        env=env(tag),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert "Traceback" not in out.stderr
    assert not left_behind(tag)


@pytest.mark.slow
def test_the_readme_python_snippet_runs_against_a_local_endpoint(models_dir: Path) -> None:
    from clarify_kit.adapters.files import load_config
    from clarify_kit.explainer.endpoint import running_endpoint
    from tests.helpers import container

    snippet = next(body for kind, body in BLOCKS if kind == "python" and "EndpointClient" in body)
    with (
        container(models_dir / "binary") as url,
        running_endpoint(load_config(ROOT / "examples/binary/config.yaml"), url) as (endpoint_url, _),
    ):
        snippet = snippet.replace("http://127.0.0.1:8091", endpoint_url)
        namespace: dict[str, object] = {}
        os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
        os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")
        os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
        exec(compile(snippet, "README.md", "exec"), namespace)  # noqa: S102 - the README's own code
    assert namespace["result"].explained_indexes == [0]  # type: ignore[attr-defined]


@pytest.mark.slow
def test_the_readme_construct_snippet_synthesizes_in_a_users_app_with_its_own_stacks_folder(tmp_path: Path) -> None:
    # GIVEN a user's CDK project with a stacks/ package of its own, and the README's app as its app.py
    snippet = next(body for kind, body in BLOCKS if kind == "python" and "ClarifyEndpoint" in body)
    (tmp_path / "stacks").mkdir()
    (tmp_path / "stacks" / "__init__.py").write_text("OWNER = 'the user'\n")
    (tmp_path / "examples" / "binary").mkdir(parents=True)
    (tmp_path / "examples" / "binary" / "config.yaml").write_text((ROOT / "examples/binary/config.yaml").read_text())
    assert "add_plugins(AwsSolutionsChecks(app), HIPAASecurityChecks(app), NIST80053R5Checks(app))" in snippet
    app = snippet.replace("cdk.App()", "cdk.App(outdir='cdk.out')")
    (tmp_path / "app.py").write_text(app + "\nimport stacks\nassert stacks.OWNER == 'the user'\n")
    # WHEN it runs as it is, with cdk-nag's three packs THEN it synthesizes: the construct acknowledged its own
    # findings, and the README's own role, policy and alarm raise none
    out = subprocess.run(
        [sys.executable, "app.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        env={
            **{k: v for k, v in os.environ.items() if k not in ("AWS_REGION", "AWS_DEFAULT_REGION")},
            "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
        },
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    template = json.loads((tmp_path / "cdk.out" / "Serving.template.json").read_text())
    types = {r["Type"] for r in template["Resources"].values()}
    assert {"AWS::SageMaker::Endpoint", "AWS::SageMaker::EndpointConfig", "AWS::IAM::Role"} <= types
    report = json.loads((tmp_path / "cdk.out" / "validation-report.json").read_text())
    assert all(plugin["violations"] == [] for plugin in report["pluginReports"])
    assert any(plugin.get("suppressedViolations") for plugin in report["pluginReports"])
    latency = next(r for key, r in template["Resources"].items() if "LatencyP99" in key)
    assert latency["Properties"]["Threshold"] < 48_000_000  # derived from the estimate, not the 48 s ceiling


@pytest.mark.slow
def test_make_demo_runs_every_step_and_leaves_no_process_behind(tmp_path: Path) -> None:
    tag = uuid.uuid4().hex
    # from a shell with no virtual environment active, as after a fresh clone: `cdk synth` runs cdk.json's
    # `python3 app.py` with the system Python, and app.py enters .venv itself
    plain = {**env(tag), "PATH": f"{Path(sys._base_executable).parent}:/usr/bin:/bin"}
    plain.pop("VIRTUAL_ENV", None)
    out = subprocess.run(
        [sys.executable, "-m", "examples.demo", "--out", str(tmp_path)],
        cwd=ROOT,
        env=plain,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
    assert "demo passed" in out.stdout
    for name in (
        "precheck.json",
        "container-precheck.json",
        "attributions.csv",
        "record-0.png",
        "summary.png",
        "report.html",
        "explained.csv",
        "smoke-junit.xml",
        "cdk.out/ClarifyKitBinary.template.json",
    ):
        assert (tmp_path / name).exists(), name
    assert not left_behind(tag)
