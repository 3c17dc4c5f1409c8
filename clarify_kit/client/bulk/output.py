"""The explain output format, written and read here only: one row per input record, CSV or JSON Lines (.jsonl).

CSV columns: ``record, status, reason, scores`` and one column per feature (and per label, ``feature|label``, when
the model has several scores). In a column name ``\\`` and ``|`` are escaped with a backslash, so every name reads
back as it was written, whatever it holds. Text cells are quoted and defused for spreadsheets (a cell that could
start a formula gets a leading apostrophe, taken off again when read). Files appear complete or not at all.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from pathlib import Path
from typing import Any

from clarify_kit.adapters.files import read_text
from clarify_kit.client.bulk.outcomes import STATUSES, BulkSummary, RecordOutcome
from clarify_kit.core.codecs import people_csv, spreadsheet_safe, spreadsheet_text
from clarify_kit.core.errors import KitError

__all__ = ["HEAD", "MAX_OUTPUT_BYTES", "column_name", "read_explain_output", "split_column", "write_outcomes"]

HEAD = ["record", "status", "reason", "scores"]
# An explain output is read back whole (the report): a larger one is a mistaken path, or for a report of its own.
MAX_OUTPUT_BYTES = 1024 * 1024 * 1024
_UNESCAPED_BAR = re.compile(r"(?<!\\)((?:\\\\)*)\|")


def column_name(feature: str, label: str | None = None) -> str:
    """The CSV column of a feature (and label): each part escaped, joined by ``|``."""
    parts = [feature] if label is None else [feature, label]
    return "|".join(p.replace("\\", "\\\\").replace("|", "\\|") for p in parts)


def split_column(column: str) -> tuple[str, str | None]:
    """(feature, label or None) of a CSV column written by ``column_name``."""
    match = _UNESCAPED_BAR.search(column)
    if match is None:
        return _unescape(column), None
    cut = match.end() - 1
    return _unescape(column[:cut]), _unescape(column[cut + 1 :])


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def write_outcomes(summary: BulkSummary, output: str | Path, labels: tuple[str, ...] | None = None) -> Path:
    """Write one row per input record: CSV (one column per feature and label) or JSON Lines (.jsonl).

    The file appears complete or not at all: it is written beside the output and renamed into place, and the
    partial file is removed when writing fails (a full disk, Ctrl-C).
    """
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(f".{output.name}.writing")
    if output.suffix.lower() in (".jsonl", ".jsonlines"):
        text = "".join(json.dumps(_as_row(o)) + "\n" for o in summary.outcomes)
    else:
        text = _csv_text(summary.outcomes, labels)
    try:
        partial.write_text(text, encoding="utf-8")
        partial.replace(output)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return output


def _as_row(o: RecordOutcome) -> dict[str, Any]:
    return {
        "record": o.index,
        "status": o.status,
        "reason": o.reason,
        "scores": o.scores,
        "attributions": o.attributions,
        "units": o.units or None,
        **({"standard_errors": o.standard_errors} if o.standard_errors else {}),
    }


def _csv_text(outcomes: list[RecordOutcome], labels: tuple[str, ...] | None) -> str:
    features: list[str] = []
    width = 0
    for o in outcomes:
        for name, values in o.attributions.items():
            if name not in features:
                features.append(name)
            width = max(width, len(values))
    columns = [
        column_name(f) if width <= 1 else column_name(f, labels[k] if labels and k < len(labels) else str(k))
        for f in features
        for k in range(max(width, 1))
    ]
    buffer = io.StringIO()
    writer = people_csv(buffer)
    writer.writerow([*HEAD, *[spreadsheet_safe(c) for c in columns]])
    for o in outcomes:
        cells: list[Any] = []
        for f in features:
            values = o.attributions.get(f, [])
            cells.extend(values[k] if k < len(values) else "" for k in range(max(width, 1)))
        scores = json.dumps(o.scores) if o.scores is not None else ""
        writer.writerow([o.index, o.status, spreadsheet_safe(o.reason), scores, *cells])
    return buffer.getvalue()


def read_explain_output(path: str | Path) -> list[RecordOutcome]:
    """The outcomes an ``explain`` output file holds (CSV, or JSON Lines for .jsonl), each row checked.

    Raises
    ------
    KitError: the file is not a regular file, too large, or not an explain output (the row and column named).
    """
    path = Path(path)
    text = read_text(path, what="explain output", max_bytes=MAX_OUTPUT_BYTES, error=KitError)
    if path.suffix.lower() in (".jsonl", ".jsonlines"):
        return [_from_json(line, path, n) for n, line in enumerate(text.splitlines(), 1) if line.strip()]
    return _from_csv(text, path)


def _status(value: Any, where: str) -> Any:
    if value not in STATUSES:
        raise KitError(f"{where}: status {str(value)[:40]!r} is not one of {', '.join(STATUSES)}")
    return value


def _number(value: Any, where: str) -> float:
    number = float(value)
    if not math.isfinite(number):
        raise KitError(f"{where}: {value!r} is not a finite number; an explain output holds finite attributions")
    return number


def _scores(value: Any, where: str) -> list[float] | None:
    if value is None:
        return None
    if not isinstance(value, list):
        raise KitError(f"{where}: scores must be a list of numbers")
    return [_number(v, where) for v in value]


def _from_json(line: str, path: Path, number: int) -> RecordOutcome:
    where = f"{path}:{number}"
    try:
        row = json.loads(line)
        attributions = {
            str(k): [_number(x, f"{where}: {k}") for x in v] for k, v in (row.get("attributions") or {}).items()
        }
        return RecordOutcome(
            int(row["record"]),
            _status(row["status"], where),
            str(row.get("reason") or ""),
            _scores(row.get("scores"), f"{where}: scores"),
            attributions,
            row.get("units") or [],
            {str(k): [_number(x, f"{where}: {k}") for x in v] for k, v in (row.get("standard_errors") or {}).items()},
        )
    except (ValueError, KeyError, TypeError, AttributeError) as err:
        raise KitError(f"{where}: not a line of an explain output ({err})") from err


def _from_csv(text: str, path: Path) -> list[RecordOutcome]:
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or rows[0][:4] != HEAD:
        raise KitError(f"{path}: not an explain output (its header must start with record,status,reason,scores)")
    columns = [split_column(spreadsheet_text(c))[0] for c in rows[0][4:]]
    outcomes = []
    for number, row in enumerate(rows[1:], 2):
        where = f"{path}:{number}"
        try:
            attributions: dict[str, list[float]] = {}
            for column, cell in zip(columns, row[4:], strict=False):
                if cell != "":
                    attributions.setdefault(column, []).append(_number(cell, f"{where}: column {column!r}"))
            scores = _scores(json.loads(row[3]), f"{where}: scores") if row[3] else None
            outcomes.append(
                RecordOutcome(int(row[0]), _status(row[1], where), spreadsheet_text(row[2]), scores, attributions)
            )
        except (ValueError, IndexError) as err:
            raise KitError(f"{where}: not a row of an explain output ({err})") from err
    return outcomes
