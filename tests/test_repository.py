"""The repository stands on its own: every document the code cites is in it, and the sections it cites exist."""

from __future__ import annotations

import re
import subprocess

from tests.helpers import ROOT

CITATION = re.compile(r"docs/explainer\.md (\d+\.\d+)")


def _tracked_text() -> dict[str, str]:
    names = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    out = {}
    for name in names:
        path = ROOT / name
        if path.suffix in {".py", ".md", ".toml", ".yaml", ".yml", ".json", ".sh", ".cfg", ".txt"} or name in (
            "Makefile",
            ".ci/run",
        ):
            try:
                out[name] = path.read_text(encoding="utf-8")
            except (UnicodeDecodeError, FileNotFoundError):
                continue
    return out


def test_nothing_cites_a_file_outside_the_repository() -> None:
    forbidden = ("shared" + "/reference", "../" + "shared")  # spelt apart, so that this file does not cite them
    outside = [name for name, text in _tracked_text().items() if any(f in text for f in forbidden)]
    assert outside == [], outside


def test_every_cited_section_of_the_explainer_page_exists() -> None:
    page = (ROOT / "docs" / "explainer.md").read_text()
    sections = set(re.findall(r"^### (\d+\.\d+)", page, flags=re.MULTILINE))
    cited = {(name, s) for name, text in _tracked_text().items() for s in CITATION.findall(text)}
    missing = sorted((name, s) for name, s in cited if s not in sections)
    assert cited and missing == [], missing
