"""Reading the records of a bulk input: CSV rows or JSON Lines, as request lines."""

from __future__ import annotations

import json
from pathlib import Path

from clarify_kit.adapters.files import read_text
from clarify_kit.core.codecs import CSV, JSONLINES, base_content_type, format_csv_row, read_csv_rows
from clarify_kit.core.errors import KitError

__all__ = ["MAX_INPUT_BYTES", "read_records"]

# The records are held in memory (a line each) for planning, retries and resuming: a larger input is split first.
MAX_INPUT_BYTES = 512 * 1024 * 1024


def read_records(path: str | Path, content_type: str | None = None, *, header: bool = False) -> tuple[list[str], str]:
    """The records of a file as request lines, and its content type (from the extension when not given).

    Raises
    ------
    KitError: the file is not a regular file, is too large, is not UTF-8, or holds a line that is not JSON.
    """
    path = Path(path)
    kind = base_content_type(content_type) or (JSONLINES if path.suffix.lower() in (".jsonl", ".jsonlines") else CSV)
    text = read_text(path, what="records file", max_bytes=MAX_INPUT_BYTES, error=KitError)
    if kind == CSV:
        rows = read_csv_rows(text)
        if header and rows:
            rows = rows[1:]
        return [format_csv_row(r) for r in rows], kind
    lines = [line for line in text.splitlines() if line.strip()]
    for number, line in enumerate(lines, start=1):
        try:
            json.loads(line)
        except ValueError as err:
            raise KitError(f"{path}: line {number} is not valid JSON: {err}") from err
    return lines, kind
