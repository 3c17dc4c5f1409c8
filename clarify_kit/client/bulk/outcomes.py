"""The fate of every record of a bulk run: explained, not explained, or failed with the reason."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal

from clarify_kit.client.result import InvokeResult
from clarify_kit.core.errors import Interrupted

__all__ = ["STATUSES", "BulkInterrupted", "BulkSummary", "RecordOutcome", "Status", "record_outcome"]

Status = Literal["explained", "not_explained", "failed"]
STATUSES: tuple[Status, ...] = ("explained", "not_explained", "failed")


@dataclass
class RecordOutcome:
    """The fate of one input record."""

    index: int
    status: Status
    reason: str = ""
    scores: list[float] | None = None
    attributions: dict[str, list[float]] = field(default_factory=dict)
    units: list[dict[str, Any]] = field(default_factory=list)
    # the self-hosted explainer's standard errors, per feature (several units of a text feature combined as
    # independent: the root of their sum of squares); empty from Clarify
    standard_errors: dict[str, list[float]] = field(default_factory=dict)


@dataclass
class BulkSummary:
    outcomes: list[RecordOutcome]
    requests: int
    retries: int
    seconds: float
    latencies_ms: list[float] = field(default_factory=list)  # of every answered request, as the client saw it
    failed_calls: int = 0  # requests that failed for good (each then split, or its records failed)
    splits: int = 0  # failed requests split in two to isolate the records that fail

    def count(self, status: Status) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    def count_finished(self) -> int:
        return len(self.outcomes)

    def failure_reasons(self, most: int = 3) -> list[tuple[str, int]]:
        """The commonest reasons records failed, with their counts, most frequent first."""
        return Counter(o.reason for o in self.outcomes if o.status == "failed").most_common(most)

    def as_dict(self) -> dict[str, Any]:
        return {
            "records": len(self.outcomes),
            "explained": self.count("explained"),
            "not_explained": self.count("not_explained"),
            "failed": self.count("failed"),
            "requests": self.requests,
            "retries": self.retries,
            "failed_calls": self.failed_calls,
            "splits": self.splits,
            "seconds": round(self.seconds, 3),
            "failure_reasons": [{"reason": r, "records": n} for r, n in self.failure_reasons()],
        }


class BulkInterrupted(Interrupted):
    """Ctrl-C during a bulk run: ``summary`` holds the records finished before it (the others have no outcome)."""

    def __init__(self, summary: BulkSummary, message: str) -> None:
        super().__init__(message)
        self.summary = summary


def record_outcome(index: int, record: Any, result: InvokeResult) -> RecordOutcome:
    """The outcome of one record of an explainer response (``index``: its place in the whole input)."""
    scores = list(record.scores) if record.scores is not None else None
    if not record.explained:
        reason = "EnableExplanations evaluated to false for this record"
        return RecordOutcome(index, "not_explained", reason, scores)
    attributions: dict[str, list[float]] = {}
    errors: dict[str, list[float]] = {}
    units: list[dict[str, Any]] = []
    for feature in record.features or ():
        name = str(feature.name)
        totals = [0.0] * len(feature.attributions[0].values) if feature.attributions else []
        squares = [0.0] * len(totals)
        for unit in feature.attributions:
            totals = [a + b for a, b in zip(totals, unit.values, strict=False)]
            if unit.standard_errors is not None:
                squares = [a + b * b for a, b in zip(squares, unit.standard_errors, strict=False)]
                errors[name] = [math.sqrt(s) for s in squares]
            if unit.partial_text is not None:
                units.append(
                    {
                        "feature": name,
                        "partial_text": unit.partial_text,
                        "start_idx": unit.start_idx,
                        "attribution": list(unit.values),
                    }
                )
        attributions[name] = totals
    return RecordOutcome(index, "explained", "", scores, attributions, units, errors)
