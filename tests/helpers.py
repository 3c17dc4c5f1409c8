"""Test helpers (plain functions, imported by the tests): the bundled examples as data, edits by dotted path,
boto3 clients for local servers and the CLI run as a subprocess."""

from __future__ import annotations

import copy
import re
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import boto3
import yaml
from botocore.config import Config

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
CLARIFY = "EndpointConfig.ExplainerConfig.ClarifyExplainerConfig"
EXAMPLE_NAMES = sorted(p.parent.name for p in EXAMPLES.glob("*/config.yaml"))


def example_path(name: str) -> Path:
    return EXAMPLES / name / "config.yaml"


def example_dict(name: str) -> dict[str, Any]:
    return copy.deepcopy(_load(name))


_CACHE: dict[str, Any] = {}


def _load(name: str) -> Any:
    if name not in _CACHE:
        _CACHE[name] = yaml.safe_load(example_path(name).read_text())
    return _CACHE[name]


def expand(path: str) -> str:
    return CLARIFY + path[1:] if path.startswith("C.") else path


def _steps(path: str) -> list[str | int]:
    steps: list[str | int] = []
    for part in expand(path).split("."):
        name, *indexes = re.split(r"\[", part)
        if name:
            steps.append(name)
        steps.extend(int(i.rstrip("]")) for i in indexes)
    return steps


def materialize(value: Any) -> Any:
    """Expand the generator shorthands of the fixture files ({repeat, times}, {repeat_list, times}...)."""
    if isinstance(value, dict):
        if "repeat" in value:
            return value["repeat"] * value["times"]
        if "repeat_list" in value:
            return [f"{value['repeat_list']}{i}" for i in range(value["times"])]
        if "repeat_list_of" in value:
            return [copy.deepcopy(value["repeat_list_of"]) for _ in range(value["times"])]
        return {k: materialize(v) for k, v in value.items()}
    if isinstance(value, list):
        return [materialize(v) for v in value]
    return value


def set_path(data: Any, path: str, value: Any) -> None:
    *parents, last = _steps(path)
    for step in parents:
        if isinstance(step, str) and step not in data:
            data[step] = {}
        data = data[step]
    data[last] = materialize(value)


def delete_path(data: Any, path: str) -> None:
    *parents, last = _steps(path)
    for step in parents:
        data = data[step]
    del data[last]


def rename_path(data: Any, path: str, new_name: str) -> None:
    *parents, last = _steps(path)
    for step in parents:
        data = data[step]
    data[new_name] = data.pop(last)


def edited(case: dict[str, Any]) -> dict[str, Any]:
    """The base example of a catalogue case with its edits applied."""
    data = example_dict(case.get("base", "binary"))
    for path in case.get("delete", []):
        delete_path(data, path)
    for path, value in (case.get("set") or {}).items():
        set_path(data, path, value)
    for path, new_name in (case.get("rename") or {}).items():
        rename_path(data, path, new_name)
    return data


def runtime_client(url: str, *, region_name: str = "eu-west-1", **config: Any) -> Any:
    """A real boto3 sagemaker-runtime client pointed at a local endpoint (dummy credentials, any region)."""
    return boto3.client(
        "sagemaker-runtime",
        endpoint_url=url,
        region_name=region_name,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"max_attempts": 1, "mode": "standard"}, read_timeout=70, **config),
    )


# Run the CLI with some top-level modules unimportable, as in an install without the extras that bring them.
_HIDING = """
import importlib.abc, runpy, sys
HIDDEN = set(sys.argv[1].split(","))
class Hide(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in HIDDEN:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
sys.meta_path.insert(0, Hide())
sys.argv = ["clarify-kit", *sys.argv[2:]]
runpy.run_module("cli", run_name="__main__", alter_sys=True)
"""


def run_cli(*args: str, env: dict[str, str] | None = None, timeout: float = 300,
            input: str | None = None, hide: Iterable[str] = ()) -> subprocess.CompletedProcess[str]:
    """Run ``clarify-kit ARGS`` as a user would, in a subprocess of this interpreter (``python -m cli``).

    ``hide``: top-level modules that cannot be imported in that process (an install without their extra).
    """
    hidden = ",".join(hide)
    command = [sys.executable, "-c", _HIDING, hidden] if hidden else [sys.executable, "-m", "cli"]
    return subprocess.run([*command, *args], capture_output=True, text=True, check=False,
                          cwd=ROOT, env=env, timeout=timeout, input=input)
