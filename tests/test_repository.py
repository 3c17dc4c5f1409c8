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


# The test files that stand at the top because they test the repository as a whole, not one package.
_WHOLE = {
    "conftest.py",
    "helpers.py",
    "test_import_guard.py",
    "test_install.py",
    "test_notebooks.py",
    "test_pipelines.py",
    "test_readme_and_demo.py",
    "test_repository.py",
}


def test_the_tests_mirror_the_packages_they_test() -> None:
    package = ROOT / "clarify_kit"
    for path in sorted((ROOT / "tests").rglob("*.py")):
        relative = path.relative_to(ROOT / "tests")
        if len(relative.parts) == 1:
            assert relative.name in _WHOLE or relative.name == "__init__.py", (
                f"tests/{relative} tests one package: move it to the folder that mirrors it"
            )
        elif relative.parts[0] != "compat":  # the third-party servers' tests, beside their locks
            folder = package.joinpath(*relative.parts[:-1])
            assert folder.is_dir(), f"tests/{relative} is in a folder that mirrors no package ({folder})"


def test_tests_share_helpers_through_one_module() -> None:
    """tests/helpers.py, and tests/compat/servers.py for the third-party servers' own tests."""
    for path in sorted((ROOT / "tests").rglob("*.py")):
        text = path.read_text()
        for imported in re.findall(r"^\s*from (tests\.[\w.]+|examples\.runner) import", text, re.M):
            assert imported in {"tests.helpers", "tests.compat"} or path.name == "helpers.py", (
                f"{path.relative_to(ROOT)} imports from {imported}: shared helpers live in tests/helpers.py"
            )


def test_no_hand_written_source_file_is_over_500_lines() -> None:
    """A file a maintainer reads whole stays under 500 lines (generated files, marked "Do not edit", excepted)."""
    long = {}
    for folder in ("clarify_kit", "precheck", "stacks", "tools", "bench", "examples"):
        for path in (ROOT / folder).rglob("*.py"):
            text = path.read_text()
            if path.is_file() and "Do not edit" not in text[:1000] and text.count("\n") > 500:
                long[str(path.relative_to(ROOT))] = text.count("\n")
    assert not long, f"split these by what they hold: {long}"


def test_mypy_reads_every_cdk_module_the_stacks_import() -> None:
    import ast
    import tomllib

    imported = set()
    for path in [*sorted((ROOT / "clarify_kit" / "stacks").glob("*.py")), ROOT / "app.py"]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module == "aws_cdk":
                imported |= {f"aws_cdk.{alias.name}" for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("aws_cdk."):
                imported.add(node.module or "")
            elif isinstance(node, ast.Import):
                imported |= {a.name for a in node.names if a.name.startswith("aws_cdk.")}
    overrides = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]["overrides"]
    read = {m for o in overrides if o.get("follow_imports") == "normal" for m in o["module"]}
    assert imported, "the scan found no CDK import"
    assert imported | {"aws_cdk"} == read, "list these (and only these) in pyproject's mypy override"
