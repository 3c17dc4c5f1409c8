"""A drift window's counts and exact sums (``Partial``), mergeable by addition, and its checked JSON form.

One part per file, shard or Lambda run; ``merge`` adds parts exactly (``clarify_kit.core.exact_sums``), so however a
window is split, the merged result is bit for bit the same. ``median`` keeps every signed value (8 bytes per
attribution); the other aggregations keep sums only.
"""

from __future__ import annotations

import math
import re
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from clarify_kit.core.errors import DriftError
from clarify_kit.core.exact_sums import exact_column_sums, exact_mean

__all__ = ["AGGREGATIONS", "DEFAULT_AGGREGATION", "Aggregation", "Partial"]

Aggregation = Literal["mean_abs", "median", "mean_sq"]
AGGREGATIONS: tuple[Aggregation, ...] = ("mean_abs", "median", "mean_sq")  # Clarify's methods.shap.agg_method
DEFAULT_AGGREGATION: Aggregation = "mean_abs"
# A partial's exact sum is at most (2^63 records) x (2^1024 / 2^-1074) units: about 650 decimal digits.
_MAX_SUM_DIGITS = 700
_MAX_COUNT = 2**63
_MAX_NAME = 4096  # characters of a feature or label name in a partial
_PENDING = 8 * 1023  # records held before their values are summed exactly


def _magnitudes(values: Sequence[Sequence[float]], aggregation: str) -> list[list[float]] | None:
    """What the aggregation sums of one record: |v| (mean_abs and median's mass), v*v (mean_sq); None when a
    square is not finite."""
    if aggregation == "mean_sq":
        rows = [[v * v for v in row] for row in values]
        return rows if all(math.isfinite(v) for row in rows for v in row) else None
    return [[abs(v) for v in row] for row in values]


@dataclass
class Partial:
    """Counts and exact sums of one part of a window (a file, a shard); ``merge`` adds another part."""

    features: tuple[str, ...] | None = None
    labels: tuple[str, ...] | None = None
    lines: int = 0
    explained: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    aggregation: str = DEFAULT_AGGREGATION
    # per label: per feature, the exact sum of |attribution| (mean_abs) or of its square (mean_sq), 2^-1074 units
    sums: list[list[int]] = field(default_factory=list)
    values: list[list[list[float]]] = field(default_factory=list, repr=False)  # median: every signed value
    predictions: list[int] = field(default_factory=list)  # per label, the exact sum of the explained scores
    expected: list[int] = field(default_factory=list)  # per label, the exact sum of score - sum of attributions
    predicted: int = 0  # records whose explained score was read
    truncated: bool = False  # a time budget stopped the reading before the window's end
    pending: list[list[list[float]]] = field(default_factory=list, repr=False)
    pending_scores: list[list[float]] = field(default_factory=list, repr=False)  # scores then expected values

    def __post_init__(self) -> None:
        if self.aggregation not in AGGREGATIONS:
            raise DriftError(f"aggregation {self.aggregation!r} is not one of {', '.join(AGGREGATIONS)}")

    def skip(self, reason: str, count: int = 1) -> None:
        self.skipped[reason] += count

    def start(self, features: Sequence[str], labels: Sequence[str]) -> None:
        """Fix the window's feature and label headers (its first explained record's)."""
        self.features, self.labels = tuple(features), tuple(labels)
        self.sums = [[0] * len(features) for _ in labels]
        self.values = [[[] for _ in features] for _ in labels] if self.aggregation == "median" else []
        self.predictions = [0] * len(labels)
        self.expected = [0] * len(labels)
        self.pending = [[] for _ in labels]

    def add_record(
        self,
        features: Sequence[str],
        labels: Sequence[str],
        values: Sequence[Sequence[float]],
        scores: Sequence[float] | None = None,
    ) -> None:
        """One explained record: ``values[k][j]`` the attribution of feature ``j`` to label ``k``, and the record's
        explained scores when they were read (one per label)."""
        if not self._accepts(features, labels):
            return
        rows = _magnitudes(values, self.aggregation)
        if rows is None:
            self.skip("an attribution too large to square (mean_sq)")
            return
        if len(self.pending) != len(rows):
            self.pending = [[] for _ in rows]
        for k, row in enumerate(rows):
            self.pending[k].append(row)
        if self.aggregation == "median":
            for k, signed in enumerate(values):
                for j, v in enumerate(signed):
                    self.values[k][j].append(float(v))
        self.explained += 1
        if scores is not None:
            self._add_scores(scores, values)
        if len(self.pending[0]) >= _PENDING:
            self.flush()

    def _accepts(self, features: Sequence[str], labels: Sequence[str]) -> bool:
        """Whether a record of these headers belongs to the window (the first explained record fixes them)."""
        if self.features is None:
            self.start(features, labels)
        elif tuple(features) != self.features:
            self.skip("feature headers differ from the window's first explained record")
            return False
        elif tuple(labels) != self.labels:
            self.skip("label headers differ from the window's first explained record")
            return False
        return True

    def _add_scores(self, scores: Sequence[float], values: Sequence[Sequence[float]]) -> None:
        width = len(self.labels or ())
        if len(scores) != width:
            self.skipped["prediction not read: the score count differs from the explained count"] += 1
            return
        if not all(math.isfinite(v) for v in scores):
            self.skipped["prediction left out of the mean: not a finite number"] += 1
            return
        base = [s - math.fsum(row) for s, row in zip(scores, values, strict=True)]
        if not all(math.isfinite(v) for v in base):
            self.skipped["prediction left out of the mean: not a finite number"] += 1
            return
        self.pending_scores.append([*scores, *base])
        self.predicted += 1

    def flush(self) -> None:
        """Sum the pending values into the exact sums."""
        width = len(self.features or ())
        for k, rows in enumerate(self.pending):
            if rows:
                for j, total in enumerate(exact_column_sums(rows, width)):
                    self.sums[k][j] += total
                rows.clear()
        if self.pending_scores:
            labels = len(self.labels or ())
            totals = exact_column_sums(self.pending_scores, 2 * labels)
            for k in range(labels):
                self.predictions[k] += totals[k]
                self.expected[k] += totals[labels + k]
            self.pending_scores.clear()

    def merge(self, other: Partial) -> Partial:
        """This part and ``other`` as one (exact: any split of a window merges to the same result).

        Raises
        ------
        DriftError: the parts were aggregated differently.
        """
        if other.aggregation != self.aggregation:
            raise DriftError(
                f"partials of different aggregations cannot be merged: {self.aggregation} and {other.aggregation}"
            )
        self.flush()
        other.flush()
        if (
            other.features is not None
            and self.features is not None
            and (other.features != self.features or other.labels != self.labels)
        ):  # counted and named like a record of another feature set within one file, never averaged in
            moved = Partial(self.features, self.labels, other.lines, 0, other.skipped.copy(), self.aggregation)
            what = "feature" if other.features != self.features else "label"
            moved.skip(f"{what} headers differ from the window's first explained record", other.explained)
            moved.truncated = other.truncated
            other = moved
        out = Partial(
            self.features or other.features,
            self.labels or other.labels,
            self.lines + other.lines,
            self.explained + other.explained,
            self.skipped + other.skipped,
            self.aggregation,
            predicted=self.predicted + other.predicted,
            truncated=self.truncated or other.truncated,
        )
        width, labels = len(out.features or ()), len(out.labels or ())
        out.sums = [[_at(self.sums, k, j) + _at(other.sums, k, j) for j in range(width)] for k in range(labels)]
        out.predictions = [_at1(self.predictions, k) + _at1(other.predictions, k) for k in range(labels)]
        out.expected = [_at1(self.expected, k) + _at1(other.expected, k) for k in range(labels)]
        if self.aggregation == "median":
            out.values = [
                [_values(self.values, k, j) + _values(other.values, k, j) for j in range(width)] for k in range(labels)
            ]
        return out

    def global_attributions(self) -> dict[str, list[float]]:
        """Per label, the aggregate (``aggregation``) of each feature's attributions over the explained records."""
        self.flush()
        labels = self.labels or ()
        if self.aggregation == "median":
            return {
                label: [statistics.median(v) if v else 0.0 for v in self.values[k]] for k, label in enumerate(labels)
            }
        return {label: [exact_mean(s, self.explained) for s in self.sums[k]] for k, label in enumerate(labels)}

    def mean_predictions(self) -> dict[str, float]:
        self.flush()
        return {label: exact_mean(self.predictions[k], self.predicted) for k, label in enumerate(self.labels or ())}

    def expected_values(self) -> dict[str, float]:
        """Per label, the mean of (explained score - sum of attributions): the explainer's base value."""
        self.flush()
        return {label: exact_mean(self.expected[k], self.predicted) for k, label in enumerate(self.labels or ())}

    def as_dict(self) -> dict[str, Any]:
        """A JSON-safe form (exact sums as decimal strings), for partial results passed between workers."""
        self.flush()
        out: dict[str, Any] = {
            "features": list(self.features) if self.features is not None else None,
            "labels": list(self.labels) if self.labels is not None else None,
            "aggregation": self.aggregation,
            "lines": self.lines,
            "explained": self.explained,
            "skipped": dict(self.skipped),
            "sums": [[str(v) for v in row] for row in self.sums],
            "predictions": [str(v) for v in self.predictions],
            "expected": [str(v) for v in self.expected],
            "predicted": self.predicted,
            "truncated": self.truncated,
        }
        if self.aggregation == "median":
            out["values"] = self.values
        return out

    @classmethod
    def from_dict(cls, data: Any) -> Partial:
        """A partial from its ``as_dict`` form, every field checked (types, finite, non-negative, sizes).

        Raises
        ------
        DriftError: ``data`` is not a partial result; the message names the field.
        """
        return _PartialReader(data).read()


class _PartialReader:
    """Reads a partial's JSON form, refusing anything ``as_dict`` would not write."""

    def __init__(self, data: Any) -> None:
        if not isinstance(data, dict):
            raise DriftError(f"not a partial result of clarify-kit drift: expected an object, got {_kind(data)}")
        self.data = data

    def fail(self, name: str, problem: str) -> DriftError:
        return DriftError(f"not a partial result of clarify-kit drift: {name}: {problem}")

    def names(self, name: str) -> tuple[str, ...] | None:
        value = self.data.get(name)
        if value is None:
            return None
        if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
            raise self.fail(name, f"expected a non-empty list of strings, got {_kind(value)}")
        if any(len(v) > _MAX_NAME for v in value):
            raise self.fail(name, f"a name longer than {_MAX_NAME} characters")
        return tuple(value)

    def count(self, name: str, default: int | None = None) -> int:
        value = self.data.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < _MAX_COUNT:
            raise self.fail(name, f"expected a whole number from 0 to 2^63, got {_kind(value)} {_short(value)}")
        return value

    def sum_(self, name: str, value: Any, signed: bool) -> int:
        pattern = r"-?[0-9]{1,%d}" if signed else r"[0-9]{1,%d}"
        if not isinstance(value, str) or not re.fullmatch(pattern % _MAX_SUM_DIGITS, value):
            raise self.fail(
                name,
                f"expected an exact sum as a string of at most {_MAX_SUM_DIGITS} digits"
                + ("" if signed else " (not negative)")
                + f", got {_kind(value)} {_short(value)}",
            )
        return int(value)

    def row(self, name: str, width: int, signed: bool) -> list[int]:
        value = self.data.get(name, [] if width == 0 else None)
        if not isinstance(value, list) or len(value) != width:
            raise self.fail(name, f"expected a list of {width} sums (one per label)")
        return [self.sum_(name, v, signed) for v in value]

    def read(self) -> Partial:
        features, labels = self.names("features"), self.names("labels")
        if (features is None) != (labels is None):
            raise self.fail("features", "features and labels are given together or not at all")
        aggregation = self.data.get("aggregation", DEFAULT_AGGREGATION)
        if aggregation not in AGGREGATIONS:
            raise self.fail("aggregation", f"{_short(aggregation)} is not one of {', '.join(AGGREGATIONS)}")
        skipped = self.data.get("skipped", {})
        if not isinstance(skipped, dict):
            raise self.fail("skipped", f"expected an object of counts, got {_kind(skipped)}")
        part = Partial(
            features,
            labels,
            self.count("lines"),
            self.count("explained"),
            Counter({str(k)[:_MAX_NAME]: self.count_of("skipped", v) for k, v in skipped.items()}),
            aggregation,
            predicted=self.count("predicted", 0),
        )
        truncated = self.data.get("truncated", False)
        if not isinstance(truncated, bool):
            raise self.fail("truncated", f"expected true or false, got {_kind(truncated)}")
        part.truncated = truncated
        width, count = len(features or ()), len(labels or ())
        sums = self.data.get("sums", [])
        if not isinstance(sums, list) or len(sums) != count or any(not isinstance(r, list) for r in sums):
            raise self.fail("sums", f"expected {count} lists (one per label) of {width} sums (one per feature)")
        if any(len(r) != width for r in sums):
            raise self.fail("sums", f"expected {width} sums per label (one per feature)")
        part.sums = [[self.sum_("sums", v, signed=False) for v in r] for r in sums]
        part.predictions = self.row("predictions", count, signed=True)
        part.expected = self.row("expected", count, signed=True) if "expected" in self.data else [0] * count
        part.pending = [[] for _ in range(count)]
        if part.predicted > part.explained:
            raise self.fail("predicted", "more records with a prediction than explained records")
        if aggregation == "median":
            part.values = self.values(width, count, part.explained)
        return part

    def count_of(self, name: str, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < _MAX_COUNT:
            raise self.fail(name, f"expected whole numbers from 0 to 2^63, got {_kind(value)} {_short(value)}")
        return value

    def values(self, width: int, count: int, explained: int) -> list[list[list[float]]]:
        values = self.data.get("values")
        shaped = isinstance(values, list) and len(values) == count
        if not shaped or not all(isinstance(r, list) and len(r) == width for r in values or []):
            raise self.fail("values", f"expected {count} lists of {width} value lists (median)")
        assert isinstance(values, list)
        for row in values:
            for column in row:
                if not isinstance(column, list) or len(column) != explained:
                    raise self.fail("values", f"expected {explained} values per feature (one per explained record)")
                if not all(type(v) in (int, float) and math.isfinite(v) for v in column):
                    raise self.fail("values", "expected finite numbers")
        return [[[float(v) for v in column] for column in row] for row in values]


def _kind(value: Any) -> str:
    return {bool: "a boolean", int: "a number", float: "a number", str: "a string", list: "a list",
            dict: "an object", type(None): "null"}.get(type(value), type(value).__name__)  # fmt: skip


def _short(value: Any, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _at(rows: list[list[int]], k: int, j: int) -> int:
    return rows[k][j] if k < len(rows) and j < len(rows[k]) else 0


def _at1(row: list[int], k: int) -> int:
    return row[k] if k < len(row) else 0


def _values(rows: list[list[list[float]]], k: int, j: int) -> list[float]:
    return rows[k][j] if k < len(rows) and j < len(rows[k]) else []
