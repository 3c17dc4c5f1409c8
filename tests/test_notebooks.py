"""The notebooks are committed with their outputs (plots and tables visible where the repository is browsed), and
those outputs are current: executed again here, offline, each notebook has the same cells and every cell gives
outputs of the same kinds, none of them an error. `make notebooks` re-executes them."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import nbformat
import pytest

from tests.helpers import ROOT

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def _runner() -> Any:
    spec = importlib.util.spec_from_file_location("run_notebooks", ROOT / "tools" / "run_notebooks.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _shape(book: Any) -> list[tuple[str, str, list[tuple[str, ...]]]]:
    """Each cell's type, source and the kinds of its outputs (stream name, or the MIME types shown)."""
    shape = []
    for cell in book.cells:
        kinds = [(o.output_type, o.get("name", ""), *sorted(o.get("data", {}))) for o in cell.get("outputs", [])]
        shape.append((cell.cell_type, cell.source, kinds))
    return shape


def test_there_are_the_five_walkthroughs() -> None:
    assert [p.name[:2] for p in NOTEBOOKS] == ["01", "02", "03", "04", "05"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_the_committed_notebooks_show_their_outputs_and_no_error(path: Path) -> None:
    book = nbformat.read(path, as_version=4)
    nbformat.validate(book)
    code = [c for c in book.cells if c.cell_type == "code"]
    assert all(c.execution_count == i for i, c in enumerate(code, 1)), f"{path.name}: run `make notebooks`"
    assert any(c.outputs for c in code), f"{path.name}: run `make notebooks`"
    assert not [o for c in code for o in c.outputs if o.output_type == "error"]
    assert not [o for c in code for o in c.outputs if "Traceback" in str(o.get("text", ""))]
    if path.stem in ("01-quickstart", "02-multiclass-jsonlines", "04-nlp"):  # the ones that plot
        assert any("image/png" in o.get("data", {}) for c in code for o in c.outputs), "plots are not shown"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_the_committed_outputs_are_current(path: Path) -> None:
    # GIVEN the notebook executed again now, top to bottom, offline
    fresh = _runner().execute(path)
    committed = nbformat.read(path, as_version=4)
    # THEN it has the committed cells, each with outputs of the committed kinds (values such as ports and
    # timings may differ; a new, missing or failing output means the committed copy is stale)
    assert _shape(fresh) == _shape(committed), f"{path.name} is stale: run `make notebooks`"
