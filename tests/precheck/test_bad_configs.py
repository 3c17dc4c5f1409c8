"""The catalogue of bad configs: each must fail with an error that names its field path."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from clarify_kit.core.config import config_from_dict
from clarify_kit.core.errors import ConfigError
from clarify_kit.precheck import static_precheck
from tests.helpers import FIXTURES, edited, expand

CASES: list[dict[str, Any]] = yaml.safe_load((FIXTURES / "bad_configs.yaml").read_text())


def findings_of(data: dict[str, Any]) -> list[tuple[str, str]]:
    try:
        config = config_from_dict(data)
    except ConfigError as err:
        return [(i.path, i.message) for i in err.issues]
    return [(f.path, f.message) for f in static_precheck(config).errors]


def test_the_catalogue_holds_at_least_forty_distinct_cases() -> None:
    ids = [c["id"] for c in CASES]
    assert len(ids) >= 40
    assert len(set(ids)) == len(ids)


@pytest.mark.parametrize("case", [pytest.param(c, id=c["id"]) for c in CASES])
def test_bad_config_is_rejected_at_its_field_path(case: dict[str, Any]) -> None:
    # GIVEN an example config with one mistake
    data = edited(case)
    # WHEN it is prechecked
    errors = findings_of(data)
    # THEN an error names the field path and says what is wrong
    wanted_path = expand(case["path"])
    at_path = [message for path, message in errors if path == wanted_path]
    assert at_path, f"no error at {wanted_path}; got {errors}"
    assert any(case["message"] in m for m in at_path), f"{case['message']!r} not in {at_path}"


def test_every_catalogue_case_gives_json_errors_through_the_cli_without_traceback(tmp_path: Path) -> None:
    # GIVEN every bad config written to disk
    paths = []
    for case in CASES:
        path = tmp_path / f"{case['id']}.json"
        path.write_text(json.dumps(edited(case)))
        paths.append((case, path))
    # WHEN the CLI prechecks them (one process, the same entry point as the console script)
    script = (
        "import sys, json\nfrom clarify_kit.cli import main\n"
        "for p in sys.argv[1:]:\n    code = main(['precheck', p, '--json'])\n    print('EXIT', code, flush=True)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, *[str(p) for _, p in paths]], capture_output=True, text=True, check=False
    )
    # THEN each exits 1 with a JSON report naming the path, and nothing was a traceback
    assert "Traceback" not in out.stderr + out.stdout
    chunks = out.stdout.split("EXIT ")
    assert len(chunks) == len(paths) + 1
    for (case, _), chunk, following in zip(paths, chunks[:-1], chunks[1:], strict=True):
        report = json.loads(chunk[chunk.index("{") :] if "{" in chunk else "{}")
        assert following.startswith("1"), case["id"]
        assert report["ok"] is False
        assert expand(case["path"]) in [e["path"] for e in report["errors"]], case["id"]
