"""Write a generated section of README.md between its two markers, or check that it is current (--check)."""

from __future__ import annotations

import sys
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def update(start: str, end: str, rendered: str) -> int:
    """Replace the README's text between ``start`` and ``end`` with ``rendered`` (markers included in it); with
    ``--check`` on the command line, only compare. Returns the exit code."""
    text = README.read_text()
    if start not in text:
        print(f"README.md has no {start} marker", file=sys.stderr)
        return 1
    head, _, rest = text.partition(start)
    _, _, tail = rest.partition(end)
    updated = head + rendered + tail
    if "--check" in sys.argv:
        return 0 if updated == text else 1
    README.write_text(updated)
    return 0
