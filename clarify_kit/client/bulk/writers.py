"""Writing a bulk run's outcomes: one row per input record, CSV (defused for spreadsheets) or JSON Lines."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from clarify_kit.client.bulk.outcomes import BulkSummary, RecordOutcome
from clarify_kit.core.codecs import spreadsheet_safe

__all__ = ["write_outcomes"]


def write_outcomes(summary: BulkSummary, output: str | Path, labels: tuple[str, ...] | None = None) -> Path:
    """Write one row per input record: CSV (one column per feature and label) or JSON Lines (.jsonl).

    The file appears complete or not at all: it is written beside the output and renamed into place.
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
    except BaseException:  # a full disk, Ctrl-C: no half-written file is left behind
        partial.unlink(missing_ok=True)
        raise
    return output


def _as_row(o: RecordOutcome) -> dict[str, Any]:
    return {"record": o.index, "status": o.status, "reason": o.reason, "scores": o.scores,
            "attributions": o.attributions, "units": o.units or None}


def _csv_text(outcomes: list[RecordOutcome], labels: tuple[str, ...] | None) -> str:
    features: list[str] = []
    width = 0
    for o in outcomes:
        for name, values in o.attributions.items():
            if name not in features:
                features.append(name)
            width = max(width, len(values))
    columns = [f"{f}" if width <= 1 else f"{f}|{labels[k] if labels and k < len(labels) else k}"
               for f in features for k in range(max(width, 1))]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["record", "status", "reason", "scores", *[spreadsheet_safe(c) for c in columns]])
    for o in outcomes:
        cells: list[Any] = []
        for f in features:
            values = o.attributions.get(f, [])
            cells.extend(values[k] if k < len(values) else "" for k in range(max(width, 1)))
        scores = json.dumps(o.scores) if o.scores is not None else ""
        writer.writerow([o.index, o.status, spreadsheet_safe(o.reason), scores, *[spreadsheet_safe(c) for c in cells]])
    return buffer.getvalue()
