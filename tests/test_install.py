"""The install by job: a small core that runs what pipelines run, extras named for their jobs, and a complete wheel."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
import zipfile
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

import pytest

from clarify_kit.core.extras import EXTRAS
from clarify_kit.explainer.image import distribution_closure
from tests.helpers import ROOT, example_path, run_cli

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
# Every optional module: an install of the core alone has none of them.
OPTIONAL = sorted({*EXTRAS, "scipy", "moto", "pytest", "shap"})
LOCAL_ENV = {"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "PATH": "/usr/bin:/bin"}
GOOD = "39,7,1,10,0,4,0,1,2174,40"


def _size(distribution: str) -> int:
    files = metadata.files(distribution) or []
    return sum(f.size or 0 for f in files if ".dist-info" not in str(f) and "__pycache__" not in str(f))


def test_the_core_install_is_small() -> None:
    # GIVEN the core dependencies of pyproject.toml, resolved against the pinned lock installed here
    core = distribution_closure(PYPROJECT["project"]["dependencies"])
    # THEN they are at most 20 packages and 100 MB of site-packages, and none of them is an extra's module
    megabytes = sum(_size(name) for name in core) / 1e6
    assert len(core) + 1 <= 20, sorted(core)  # + clarify-kit itself
    assert megabytes <= 100, f"{megabytes:.0f} MB"
    assert not core & {"numpy", "starlette", "uvicorn", "spacy", "pandas", "matplotlib", "aws-cdk-lib"}
    # AND the README's figures are today's (a stale number is a quiet lie)
    readme = (ROOT / "README.md").read_text()
    said = re.search(r"(\d+) packages besides the kit, about (\d+) MB of package files", readme)
    assert said is not None and int(said.group(1)) == len(core), (said, len(core))
    assert abs(int(said.group(2)) - megabytes) <= 0.15 * megabytes, (said.group(2), megabytes)


def test_every_extra_named_in_the_error_map_exists_in_pyproject() -> None:
    extras = PYPROJECT["project"]["optional-dependencies"]
    everything = extras["all"][0]
    for module, (extra, _) in EXTRAS.items():
        assert extra in extras and extra in everything, (module, extra)
    assert "clarify-kit[all]" in extras["test"]


@pytest.mark.parametrize("kind", ["binary", "multiclass", "nlp", "regression", "mme"])
def test_the_static_precheck_runs_on_the_core_alone(kind: str) -> None:
    out = run_cli("precheck", str(example_path(kind)), "--json", hide=OPTIONAL)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["ok"] is True


def test_schema_expression_and_parse_run_on_the_core_alone(tmp_path: Path) -> None:
    assert json.loads(run_cli("schema", hide=OPTIONAL).stdout)["type"] == "object"
    out = run_cli("expression", "[1]>`0.5`", "--output", "1,0.6", "--json", hide=OPTIONAL)
    assert out.returncode == 0 and json.loads(out.stdout)["value"] is True, out.stdout + out.stderr
    response = {
        "version": "1.0",
        "predictions": {"content_type": "text/csv", "data": "0.9\n"},
        "explanations": {
            "kernel_shap": [[{"attributions": [{"attribution": [0.4]}]}, {"attributions": [{"attribution": [0.1]}]}]]
        },
    }
    saved = tmp_path / "response.json"
    saved.write_text(json.dumps(response))
    for fmt in ("table", "csv", "json"):
        out = run_cli("parse", str(saved), "--format", fmt, hide=OPTIONAL)
        assert out.returncode == 0, out.stderr
        assert "0.4" in out.stdout


def test_invoke_explain_and_smoke_run_on_the_core_alone(
    local_endpoint: Callable[[str], tuple[str, str]], tmp_path: Path
) -> None:
    # GIVEN a local endpoint (served by this process) and a CLI process without any optional module
    url, name = local_endpoint("binary")
    common = ("--config", str(example_path("binary")), "--endpoint-url", url)
    records = tmp_path / "records.csv"
    records.write_text(f"{GOOD}\n{GOOD}\n")
    # THEN invoke, explain and smoke (with JUnit XML) all run
    out = run_cli("invoke", name, *common, "--body", GOOD, "--json", env=LOCAL_ENV, hide=OPTIONAL)
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)["rows"]
    assert len(rows) == 10 and all(isinstance(r["attribution"], float) for r in rows)  # one per feature
    out = run_cli(
        "explain",
        name,
        *common,
        "--input",
        str(records),
        "--output",
        str(tmp_path / "out.jsonl"),
        "--quiet",
        env=LOCAL_ENV,
        hide=OPTIONAL,
    )
    assert out.returncode == 0, out.stderr
    assert len((tmp_path / "out.jsonl").read_text().splitlines()) == 2
    out = run_cli(
        "smoke",
        name,
        *common,
        "--records",
        str(records),
        "--iterations",
        "1",
        "--junit-xml",
        str(tmp_path / "smoke.xml"),
        env=LOCAL_ENV,
        hide=OPTIONAL,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert (tmp_path / "smoke.xml").read_text().startswith("<?xml")


@pytest.mark.parametrize(
    ("args", "hidden", "extra"),
    [
        (("serve-local", "{binary}", "--model-url", "http://127.0.0.1:9"), OPTIONAL, "local"),
        (("precheck", "{binary}", "--container-url", "http://127.0.0.1:9"), OPTIONAL, "local"),
        (("precheck", "{nlp}", "--container-url", "http://127.0.0.1:9"), ["spacy"], "nlp"),
        # once: not "local" (numpy) first, then "plots"
        (("report", "{output}", "--output", "r.html"), OPTIONAL, "plots"),
        (("explain", "ep", "--input", "{records}", "--output", "{output}", "--report", "r.html"), OPTIONAL, "plots"),
        (("smoke", "ep", "--records", "{records}", "--report", "r.html"), OPTIONAL, "plots"),
    ],
)
def test_a_command_whose_extra_is_missing_names_the_extra_in_one_line(
    args: tuple[str, ...], hidden: list[str], extra: str
) -> None:
    records = str(example_path("binary").parent / "records.csv")
    output = "/nonexistent/out.csv"  # nothing is read or sent before the extra is checked
    argv = [
        a.format(binary=example_path("binary"), nlp=example_path("nlp"), records=records, output=output) for a in args
    ]
    out = run_cli(*argv, hide=hidden, env={**LOCAL_ENV, "AWS_DEFAULT_REGION": "us-east-1"})
    assert out.returncode == 2, out.stderr
    assert out.stderr.count("\n") == 1 and "Traceback" not in out.stderr, out.stderr
    assert f"pip install 'clarify-kit[{extra}]'" in out.stderr and "not installed" in out.stderr


def test_the_library_imports_without_optional_modules() -> None:
    code = (
        "import importlib.abc, sys\n"
        f"HIDDEN = {set(OPTIONAL)!r}\n"
        "class Hide(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path, target=None):\n"
        "        if name.split('.')[0] in HIDDEN: raise ModuleNotFoundError(name, name=name)\n"
        "sys.meta_path.insert(0, Hide())\n"
        "import clarify_kit.core.config, clarify_kit.core.response, clarify_kit.precheck, clarify_kit.client\n"
        "import clarify_kit.client.bulk, clarify_kit.client.smoke, clarify_kit.cli\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", str(ROOT), "-w", str(out)],
        check=True,
        capture_output=True,
        cwd=ROOT,
    )
    (built,) = out.glob("clarify_kit-*.whl")
    return built


def test_the_wheel_installs_one_import_name_holding_every_package_typed(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    info = next(n.split("/")[0] for n in names if n.endswith(".dist-info/METADATA"))
    tops = {n.split("/")[0] for n in names} - {info}
    assert tops == {"clarify_kit"}
    assert zipfile.ZipFile(wheel).read(f"{info}/top_level.txt").decode().split() == ["clarify_kit"]
    # every package of the checkout is in it, the linked stacks/ and precheck/ folders as clarify_kit.stacks and
    # clarify_kit.precheck, with every module (plain files, not links)
    folders = {
        "clarify_kit": ROOT / "clarify_kit",
        "clarify_kit/stacks": ROOT / "stacks",
        "clarify_kit/precheck": ROOT / "precheck",
    }
    for prefix, folder in folders.items():
        for module in folder.rglob("*.py"):
            if "__pycache__" not in module.parts and module.relative_to(folder).parts[0] not in ("stacks", "precheck"):
                assert f"{prefix}/{module.relative_to(folder)}" in names, module
    assert {
        "clarify_kit/__main__.py",
        "clarify_kit/cli/__init__.py",
        "clarify_kit/stacks/clarify_endpoint.py",
        "clarify_kit/core/rules/__init__.py",
        "clarify_kit/py.typed",
    } <= names
    # nothing a user does not import: no tests, examples, notebooks or caches
    assert not [
        n
        for n in names
        if n.split("/")[0] in ("tests", "examples", "notebooks", "bench", "tools") or "__pycache__" in n
    ]
    info = next(n.split("/")[0] for n in names if n.endswith(".dist-info/METADATA"))
    license_text = zipfile.ZipFile(wheel).read(f"{info}/licenses/LICENSE").decode()
    assert "Apache License" in license_text and "Version 2.0" in license_text
    meta = zipfile.ZipFile(wheel).read(f"{info}/METADATA").decode()
    assert PYPROJECT["project"]["license"] == "Apache-2.0" and "License-Expression: Apache-2.0" in meta
    assert {e for e in re.findall(r"^Provides-Extra: (\S+)$", meta, re.M)} >= {
        "local",
        "nlp",
        "plots",
        "cdk",
        "sdk",
        "examples",
        "test",
        "all",
    }
    entry_points = zipfile.ZipFile(wheel).read(f"{info}/entry_points.txt").decode()
    assert "clarify-kit = clarify_kit.cli.main:entry" in entry_points


def test_the_ci_entry_point_is_a_valid_script_that_runs_make_test() -> None:
    script = ROOT / ".ci" / "run"
    out = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    commands = [line.strip() for line in script.read_text().splitlines() if not line.lstrip().startswith("#")]
    assert [c for c in commands if c.startswith("make ")] == ["make test", "make coverage"]
