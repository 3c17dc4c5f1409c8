"""Execute the notebooks in place, so that the committed copies show their outputs (tables and plots) where the
repository is browsed: `make notebooks`. tests/test_notebooks.py checks that the committed outputs are current.

Outputs are kept; what changes on every run without meaning anything (execution timestamps, the kernel's own
metadata) is not recorded, so that a re-run changes only what the notebooks really print.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
# Figures as inline PNG outputs (make exports MPLBACKEND=Agg for everything else, which would show none).
INLINE = "module://matplotlib_inline.backend_inline"


def execute(path: Path, *, timeout: int = 300) -> Any:
    """The notebook at ``path`` executed top to bottom in a python3 kernel of this interpreter, offline."""
    import nbformat
    from nbclient import NotebookClient

    os.environ["MPLBACKEND"] = INLINE
    os.environ.pop("CLARIFY_KIT_AWS_PROFILE", None)  # the notebooks' AWS cells stay skipped
    book = nbformat.read(path, as_version=4)
    client = NotebookClient(
        book,
        timeout=timeout,
        kernel_name="python3",
        record_timing=False,
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()
    for cell in book.cells:
        cell.metadata.pop("execution", None)
    book.metadata.pop("widgets", None)
    return book


def main(argv: list[str] | None = None) -> int:
    import nbformat

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="notebook file names (default: all)")
    args = parser.parse_args(argv)
    chosen = [p for p in NOTEBOOKS if not args.names or p.name in args.names or p.stem in args.names]
    for path in chosen:
        book = execute(path)
        errors = [o for c in book.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
        if errors:
            print(f"{path.name}: {errors[0].ename}: {errors[0].evalue}", file=sys.stderr)
            return 1
        nbformat.write(book, path)
        print(f"executed {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
