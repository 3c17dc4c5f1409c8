"""Shared fixtures: the bundled example configs as data, and helpers to edit them by dotted path."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

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


@pytest.fixture
def binary_dict() -> dict[str, Any]:
    return example_dict("binary")
