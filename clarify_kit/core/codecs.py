"""Record codecs for the two formats the explainer speaks: ``text/csv`` and ``application/jsonlines``."""

from __future__ import annotations

import ast
import csv
import io
import json
import math
from typing import Any

from clarify_kit.core.errors import CodecError

__all__ = [
    "CSV",
    "people_csv",
    "spreadsheet_safe",
    "spreadsheet_text",
    "FEATURES_PLACEHOLDER",
    "JSONLINES",
    "SUPPORTED_CONTENT_TYPES",
    "base_content_type",
    "cell_value",
    "deserialize_output_record",
    "encode_record",
    "format_csv_row",
    "is_numeric",
    "parse_list_cell",
    "read_csv_rows",
    "read_jsonlines",
    "ONE_LINE",
    "output_records",
    "split_output_records",
    "split_single_line",
    "template_parts",
]

CSV = "text/csv"
JSONLINES = "application/jsonlines"
# The only formats documented for online explainability (docs/explainer.md 3.5).
SUPPORTED_CONTENT_TYPES = (CSV, JSONLINES)
_MAX_LITERAL_CELL = 100_000


def base_content_type(value: str | None) -> str:
    """``"text/csv; charset=utf-8"`` -> ``"text/csv"`` (lower case, parameters dropped)."""
    return (value or "").split(";", 1)[0].strip().lower()


# What a spreadsheet may read as the start of a formula (OWASP, CSV injection), tab and carriage return included;
# and the apostrophe itself, so that the one the kit adds can always be taken off again.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "'")


def spreadsheet_safe(cell: Any) -> Any:
    """A text cell defused for spreadsheets: one that could start a formula gets a leading apostrophe (numbers are
    kept as they are). Every CSV the kit writes for people goes through this; ``spreadsheet_text`` undoes it."""
    if isinstance(cell, str) and cell.startswith(_FORMULA_STARTS):
        return "'" + cell
    return cell


def spreadsheet_text(cell: str) -> str:
    """The text a ``spreadsheet_safe`` cell stands for."""
    return cell[1:] if cell.startswith("'") and cell[1:].startswith(_FORMULA_STARTS) else cell


def people_csv(stream: Any, **options: Any) -> Any:
    """A CSV writer for files people open: every text cell quoted, so that a carriage return or a delimiter inside
    one cannot break its row (the csv module leaves a lone CR unquoted when rows end in LF)."""
    return csv.writer(stream, lineterminator="\n", quoting=csv.QUOTE_NONNUMERIC, **options)


def read_csv_rows(payload: str) -> list[list[str]]:
    """Parse CSV records into rows of cell strings, skipping blank lines; quoted cells may hold newlines."""
    try:
        return [row for row in csv.reader(io.StringIO(payload), strict=True) if row and row != [""]]
    except csv.Error as err:
        raise CodecError(f"not valid CSV: {err}") from err


def format_csv_row(cells: list[Any]) -> str:
    """Write one CSV record (no line terminator), quoting only cells that need it (newlines included)."""
    out = io.StringIO()
    # The csv module quotes only the characters of its line terminator: keep "\r\n" so that cells with a
    # newline are quoted, then drop the terminator.
    csv.writer(out, lineterminator="\r\n").writerow(cells)
    return out.getvalue()[:-2]


# The placeholder of ClarifyInferenceConfig.ContentTemplate, replaced by the JSON list of features (BOTO-SM).
FEATURES_PLACEHOLDER = "$features"


def template_parts(content_template: str | None) -> tuple[str, str]:
    """What a JSON Lines record holds before and after its feature list: ``'{"f":$features}'`` -> ``('{"f":', '}')``.

    No template means the record is the bare JSON list of features.
    """
    head, _, tail = (content_template or FEATURES_PLACEHOLDER).partition(FEATURES_PLACEHOLDER)
    return head, tail


def encode_record(features: list[Any], content_type: str, content_template: str | None = None) -> str:
    """One record (no line terminator) as the explainer writes it: a CSV line, or the ContentTemplate with the
    JSON list of features in place of ``$features``."""
    if base_content_type(content_type) == CSV:
        return format_csv_row(features)
    head, tail = template_parts(content_template)
    return f"{head}{json.dumps(features, separators=(',', ':'))}{tail}"


def read_jsonlines(payload: str) -> list[Any]:
    """Parse JSON Lines into one JSON value per non-blank line."""
    records = []
    for number, line in enumerate(payload.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except (ValueError, RecursionError) as err:
            raise CodecError(f"line {number} is not valid JSON: {err}") from err
    return records


def cell_value(cell: str) -> Any:
    """Type one CSV cell as the explainer does: a JSON number when it reads as one, else the string."""
    text = cell.strip()
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        return cell
    return number if math.isfinite(number) else cell


def is_numeric(value: Any) -> bool:
    """Whether a feature value is a number, or a string that reads as one; booleans are not numbers."""
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return True
    try:
        float(str(value))
    except ValueError:
        return False
    return True


def parse_list_cell(cell: str) -> list[Any] | None:
    """A cell holding a list (``[0.1,0.6]`` or ``['cat','dog']``, Autopilot style), else None."""
    text = cell.strip()
    if not (text.startswith("[") and text.endswith("]")) or len(text) > _MAX_LITERAL_CELL:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError, MemoryError, RecursionError, TypeError):
            return None
    return list(value) if isinstance(value, (list, tuple)) else None


def split_output_records(payload: str, content_type: str) -> list[str]:
    """Split a container response into its records (one per line; CSV quoting respected)."""
    kind = base_content_type(content_type)
    if kind == JSONLINES or kind == "application/json":
        return [line for line in payload.splitlines() if line.strip()]
    if kind == CSV:
        return [format_csv_row(row) for row in read_csv_rows(payload)]
    raise CodecError(f"unsupported content type {content_type!r}; use one of {', '.join(SUPPORTED_CONTENT_TYPES)}")


def deserialize_output_record(record: str, content_type: str) -> Any:
    """A container output record as the explainer sees it: CSV -> JSON array, JSON Lines -> JSON value."""
    kind = base_content_type(content_type)
    if kind == CSV:
        rows = read_csv_rows(record)
        if len(rows) != 1:
            raise CodecError(f"expected one CSV record, found {len(rows)}")
        return [cell_value(c) for c in rows[0]]
    if kind in (JSONLINES, "application/json"):
        try:
            return json.loads(record)
        except (ValueError, RecursionError) as err:
            raise CodecError(f"not valid JSON: {err}") from err
    raise CodecError(f"unsupported content type {content_type!r}; use one of {', '.join(SUPPORTED_CONTENT_TYPES)}")


ONE_LINE = "one CSV line for the batch"  # the documented form of SageMaker's XGBoost container (DG-PRECHECK)


def output_records(payload: str, content_type: str, count: int) -> tuple[list[str], str | None]:
    """A container's answer to ``count`` records as the explainer reads it: one record per line, or the documented
    one-line CSV form (``0.6,0.3`` for two single-score records), split into one record per value. Returns the
    records and the form when it is not one line per record (``ONE_LINE``); the caller compares the count.

    Raises
    ------
    CodecError: the answer cannot be split in its content type.
    """
    outputs = split_output_records(payload, content_type)
    split = split_single_line(outputs, count, content_type)
    return (split, ONE_LINE) if split is not None else (outputs, None)


def split_single_line(outputs: list[str], count: int, content_type: str) -> list[str] | None:
    """The documented CSV answer ``0.6,0.3`` for ``count`` single-score records on one line, one record per value.

    None when ``outputs`` is not that form (docs/explainer.md 3.7).
    """
    if len(outputs) != 1 or count < 2 or base_content_type(content_type) != CSV:
        return None
    cells = read_csv_rows(outputs[0])[0]
    return [format_csv_row([cell]) for cell in cells] if len(cells) == count else None
