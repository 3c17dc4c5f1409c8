"""Explanation drift from the explanations an endpoint already served (data capture), as Model Monitor measures it.

Global attribution of a feature, per label: the mean absolute attribution over a window's explained records. The
drift of a window against a baseline window is the NDCG of the window's feature ranking, with the baseline's global
attributions as gains: DCG = sum over rank i (1-based) of a(f'_i) / log2(i + 1), f' the features ordered by the
window's global attributions and a(.) the baseline's; divided by the ideal DCG (the baseline's own order). Model
Monitor flags NDCG below 0.90. NDCG ignores magnitude (every attribution x 0.1 still scores 1.0), so the total
attribution mass and the mean prediction are compared too, each against a threshold of its own.

Streaming and exact merging: a window is read line by line into a ``Partial`` (counts and sums), one per file or
shard; partials merge by addition. The sums are exact (each float is added as an integer multiple of 2^-1074, the
smallest float64 step), so however a window is split across files, workers or Lambda invocations, the merged result is
bit for bit the same; the mean is the exact sum divided by the count, rounded once.

This module is standard-library Python (numpy is not needed), so that the scheduled drift function runs it on AWS
Lambda's Python runtime as it is.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import operator
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "DEFAULT_MASS_THRESHOLD",
    "DEFAULT_NDCG_THRESHOLD",
    "DEFAULT_PREDICTION_THRESHOLD",
    "DriftError",
    "DriftResult",
    "Partial",
    "compare",
    "ndcg",
    "read_capture_line",
]

DEFAULT_NDCG_THRESHOLD = 0.90  # Model Monitor's
DEFAULT_MASS_THRESHOLD = 0.5  # relative change of the total global attribution (kit)
DEFAULT_PREDICTION_THRESHOLD = 0.1  # absolute change of the mean prediction (kit)


def _json_loads(data: str | bytes) -> Any:
    try:
        return json.loads(data)
    except RecursionError:  # nesting deeper than any capture line: not one
        raise ValueError("JSON nested too deeply") from None


_NUMBERS = {float, int}
_SCALE = 1074  # 2^-1074 is the smallest positive float64: every float is an integer multiple of it

try:  # orjson (with the kit's local extra) reads capture lines several times faster; the standard library else
    import orjson as _orjson

    def _loads(data: str | bytes) -> Any:
        try:
            return _orjson.loads(data)
        except _orjson.JSONDecodeError:
            return _json_loads(data)  # what orjson refuses and json takes (NaN, a lone surrogate) is read the same

except ModuleNotFoundError:  # AWS Lambda's Python runtime

    def _loads(data: str | bytes) -> Any:
        return _json_loads(data)


class DriftError(ValueError):
    """Input the drift measure cannot use (mixed feature sets, nothing explained); the message says what."""


def _exact(value: float) -> int:
    """``value`` (finite) as an exact integer multiple of 2^-1074."""
    numerator, denominator = value.as_integer_ratio()  # the denominator is a power of two
    return numerator << (_SCALE + 1 - denominator.bit_length())


_BATCH = 1023  # rows summed at once by numpy: 1023 mantissas below 2^53 cannot overflow an int64


def _exact_column_sums(rows: Any, width: int) -> list[int]:
    """The exact sum of each column of ``rows`` (finite floats), in 2^-1074 units."""
    try:
        import numpy as np
    except ModuleNotFoundError:  # Lambda's runtime: the same integers, one value at a time
        return [sum(_exact(row[j]) for row in rows) for j in range(width)]
    totals = [0] * width
    values = np.asarray(rows, dtype=np.float64).reshape(len(rows), width)
    for start in range(0, len(values), _BATCH):
        block = values[start : start + _BATCH]
        mantissas, exponents = np.frexp(block)
        whole = (mantissas * 2.0**53).astype(np.int64)
        shifts = exponents.astype(np.int64) - 53 + _SCALE
        tiny = shifts < 0  # subnormals: their own path (exact too)
        for j in range(width):
            column, shift = whole[:, j], shifts[:, j]
            if tiny[:, j].any():
                totals[j] += sum(_exact(float(v)) for v in block[tiny[:, j], j])
                column, shift = column[~tiny[:, j]], shift[~tiny[:, j]]
            kinds, where = np.unique(shift, return_inverse=True)
            sums = np.zeros(len(kinds), dtype=np.int64)
            np.add.at(sums, where, column)
            totals[j] += sum(int(total) << int(kind) for total, kind in zip(sums, kinds, strict=True))
    return totals


def _mean(total: int, count: int) -> float:
    return total / (count << _SCALE) if count else 0.0  # int / int: one correct rounding


@dataclass
class Partial:
    """Counts and exact sums of one part of a window (a file, a shard); ``merge`` adds another part."""

    features: tuple[str, ...] | None = None
    labels: tuple[str, ...] | None = None
    lines: int = 0
    explained: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    # per label: per feature, the exact sum of |attribution| (2^-1074 units); and the sum of the predictions
    sums: list[list[int]] = field(default_factory=list)
    predictions: list[int] = field(default_factory=list)
    predicted: int = 0  # records whose prediction was read
    # absolute attributions not yet summed, per label (summed in batches: see _exact_column_sums)
    pending: list[list[list[float]]] = field(default_factory=list, repr=False)
    pending_predictions: list[list[float]] = field(default_factory=list, repr=False)
    blocks: list[list[Any]] = field(default_factory=list, repr=False)  # numpy (records x features) arrays, per label
    blocked: int = field(default=0, repr=False)  # records in ``blocks``

    def skip(self, reason: str, count: int = 1) -> None:
        self.skipped[reason] += count

    def start(self, features: Sequence[str], labels: Sequence[str]) -> None:
        """Fix the window's feature and label headers (its first explained record's)."""
        self.features, self.labels = tuple(features), tuple(labels)
        self.sums = [[0] * len(features) for _ in labels]
        self.predictions = [0] * len(labels)
        self.pending = [[] for _ in labels]
        self.blocks = [[] for _ in labels]

    def buffers(self) -> None:
        """The pending lists, one per label (a merged or loaded partial starts without them)."""
        if len(self.pending) != len(self.labels or ()):
            self.pending = [[] for _ in self.labels or ()]
            self.blocks = [[] for _ in self.labels or ()]

    def add_record(self, features: Sequence[str], labels: Sequence[str], values: Sequence[Sequence[float]]) -> None:
        """One explained record: ``values[k][j]`` the attribution of feature ``j`` to label ``k``."""
        if self.features is None:
            self.start(features, labels)
        elif tuple(features) != self.features:
            self.skip("feature headers differ from the window's first explained record")
            return
        elif tuple(labels) != self.labels:
            self.skip("label headers differ from the window's first explained record")
            return
        if not all(math.isfinite(v) for row in values for v in row):
            self.skip("an attribution that is not a finite number")
            return
        self.buffers()
        for k, row in enumerate(values):
            self.pending[k].append([abs(v) for v in row])
        self.explained += 1
        if len(self.pending[0]) >= 8 * _BATCH:
            self.flush()

    def flush(self) -> None:
        """Sum the pending attributions into the exact sums."""
        width = len(self.features or ())
        for k, blocks in enumerate(self.blocks):
            if blocks:
                import numpy as np  # blocks exist only where numpy does

                for j, total in enumerate(_exact_column_sums(np.concatenate(blocks), width)):
                    self.sums[k][j] += total
                blocks.clear()
        self.blocked = 0
        for k, rows in enumerate(self.pending):
            if rows:
                for j, total in enumerate(_exact_column_sums(rows, width)):
                    self.sums[k][j] += total
                rows.clear()
        if self.pending_predictions:
            finite = [[v if math.isfinite(v) else 0.0 for v in row] for row in self.pending_predictions]
            for k, total in enumerate(_exact_column_sums(finite, len(self.labels or ()))):
                self.predictions[k] += total
            self.pending_predictions.clear()

    def add_prediction(self, scores: Sequence[float]) -> None:
        if self.labels is None or len(scores) < len(self.labels):
            return
        for k in range(len(self.labels)):
            if math.isfinite(scores[k]):
                self.predictions[k] += _exact(scores[k]) if scores[k] >= 0 else -_exact(-scores[k])
        self.predicted += 1

    def merge(self, other: Partial) -> Partial:
        """This part and ``other`` as one (exact: any split of a window merges to the same result)."""
        self.flush()
        other.flush()
        if (
            other.features is not None
            and self.features is not None
            and (other.features != self.features or other.labels != self.labels)
        ):  # counted and named like a record of another feature set within one file, never averaged in
            moved = Partial(self.features, self.labels, other.lines, 0, other.skipped.copy())
            what = "feature" if other.features != self.features else "label"
            moved.skip(f"{what} headers differ from the window's first explained record", other.explained)
            other = moved
        out = Partial(
            self.features or other.features,
            self.labels or other.labels,
            self.lines + other.lines,
            self.explained + other.explained,
            self.skipped + other.skipped,
            predicted=self.predicted + other.predicted,
        )
        width = len(out.features or ())
        out.sums = [
            [_at(self.sums, k, j) + _at(other.sums, k, j) for j in range(width)] for k in range(len(out.labels or ()))
        ]
        out.predictions = [_at1(self.predictions, k) + _at1(other.predictions, k) for k in range(len(out.labels or ()))]
        return out

    def global_attributions(self) -> dict[str, list[float]]:
        """Per label, the mean absolute attribution of each feature over the explained records."""
        self.flush()
        return {label: [_mean(s, self.explained) for s in self.sums[k]] for k, label in enumerate(self.labels or ())}

    def mean_predictions(self) -> dict[str, float]:
        return {label: _mean(self.predictions[k], self.predicted) for k, label in enumerate(self.labels or ())}

    def as_dict(self) -> dict[str, Any]:
        """A JSON-safe form (exact sums as decimal strings), for partial results passed between workers."""
        self.flush()
        return {
            "features": list(self.features) if self.features is not None else None,
            "labels": list(self.labels) if self.labels is not None else None,
            "lines": self.lines,
            "explained": self.explained,
            "skipped": dict(self.skipped),
            "sums": [[str(v) for v in row] for row in self.sums],
            "predictions": [str(v) for v in self.predictions],
            "predicted": self.predicted,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Partial:
        """A partial from its ``as_dict`` form.

        Raises
        ------
        DriftError: ``data`` is not a partial result (a field missing or of the wrong type).
        """
        try:
            part = cls._from_dict(data)
        except (KeyError, TypeError, ValueError, AttributeError) as err:
            raise DriftError(f"not a partial result of clarify-kit drift ({type(err).__name__}: {err})") from None
        width, labels = len(part.features or ()), len(part.labels or ())
        if len(part.sums) != labels or any(len(row) != width for row in part.sums) or len(part.predictions) != labels:
            raise DriftError("not a partial result of clarify-kit drift (sums of another shape than its headers)")
        return part

    @classmethod
    def _from_dict(cls, data: dict[str, Any]) -> Partial:
        if not isinstance(data, dict):
            raise TypeError(f"expected an object, got {type(data).__name__}")
        return cls(
            tuple(data["features"]) if data.get("features") is not None else None,
            tuple(data["labels"]) if data.get("labels") is not None else None,
            int(data["lines"]),
            int(data["explained"]),
            Counter({str(k): int(v) for k, v in data.get("skipped", {}).items()}),
            [[int(v) for v in row] for row in data.get("sums", [])],
            [int(v) for v in data.get("predictions", [])],
            int(data.get("predicted", 0)),
        )


def _at(rows: list[list[int]], k: int, j: int) -> int:
    return rows[k][j] if k < len(rows) and j < len(rows[k]) else 0


def _at1(row: list[int], k: int) -> int:
    return row[k] if k < len(row) else 0


# --- reading capture files --------------------------------------------------------------------------------------


def _decode(part: dict[str, Any]) -> str:
    data, encoding = part.get("data"), str(part.get("encoding", "")).upper()
    if not isinstance(data, str):
        raise ValueError("no data")
    if encoding == "BASE64":
        return base64.b64decode(data, validate=True).decode("utf-8")
    return data  # CSV and JSON are stored as the text itself


def read_capture_line(line: str | bytes, into: Partial) -> dict[str, Any] | None:
    """Add one capture line (SageMaker data capture JSON) to ``into``; returns its captured input (``{"data",
    "contentType"}``) when the output carries no explanation, for re-explaining, else None. Problems are counted in
    ``into.skipped`` by reason, never raised."""
    into.lines += 1
    try:
        event = _loads(line)
    except ValueError:
        into.skip("not JSON")
        return None
    capture = event.get("captureData") if isinstance(event, dict) else None
    if not isinstance(capture, dict):
        into.skip("not a data capture line (no captureData)")
        return None
    output = capture.get("endpointOutput")
    if not isinstance(output, dict):
        into.skip("no captured output (CaptureModes without Output)")
        return None
    try:
        envelope = _loads(_decode(output))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        into.skip("the captured output is not JSON (not the explainer's response)")
        return None
    if not isinstance(envelope, dict) or "predictions" not in envelope or "explanations" not in envelope:
        into.skip("the captured output is not the explainer's response envelope")
        return _input(capture)
    add_envelope(envelope, into)
    return None


def _input(capture: dict[str, Any]) -> dict[str, Any] | None:
    part = capture.get("endpointInput")
    if not isinstance(part, dict):
        return None
    try:
        return {"data": _decode(part), "contentType": str(part.get("observedContentType", "text/csv"))}
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None


def add_envelope(envelope: dict[str, Any], into: Partial) -> None:
    """Add every explained record of one explainer response to ``into``, and its predictions."""
    explanations = envelope.get("explanations")
    records = explanations.get("kernel_shap") if isinstance(explanations, dict) else None
    scores = _scores(envelope.get("predictions"))
    if not isinstance(records, list) or not records:
        into.skip("not explained (EnableExplanations was false for the record)", max(1, len(scores)))
        return
    headers = envelope.get("label_headers")
    if _add_tabular(records, headers, scores, into):
        return
    for position, record in enumerate(records):
        if record is None:
            into.skip("not explained (EnableExplanations was false for the record)")
            continue
        parsed = _record(record, headers)
        if parsed is None:
            into.skip("an explanation that does not follow the explainer's schema")
            continue
        before = into.explained
        into.add_record(*parsed)
        if into.explained > before and position < len(scores):
            into.add_prediction(scores[position])


def _add_tabular(records: list[Any], headers: Any, scores: list[list[float]], into: Partial) -> bool:
    """The fast path for the explainer's tabular envelopes (every record explained, one attribution entry per
    feature, the same headers in every record): one array for the whole response. False (nothing added) when the
    envelope is not of that shape or numpy is not installed; the general path then reads it record by record."""
    read = _cube(records)
    if read is None:
        return False
    names, cube = read
    width = cube.shape[2]
    labels = _labels(headers, width)
    if into.features is None:
        into.start(names, labels)
    if tuple(names) != into.features or tuple(labels) != into.labels:
        return False  # the general path counts each record as of another feature set
    into.buffers()
    import numpy as np

    if not np.isfinite(cube).all():
        return False  # the general path counts the records with a NaN or an infinity
    magnitudes = np.abs(cube)
    for k in range(width):
        into.blocks[k].append(magnitudes[:, :, k])
    into.explained += len(records)
    readable = [row[:width] for row in scores[: len(records)] if len(row) >= width]
    if len(readable) == min(len(records), len(scores)):
        into.pending_predictions.extend(readable)
        into.predicted += len(readable)
    else:
        for position in range(min(len(records), len(scores))):
            into.add_prediction(scores[position])
    into.blocked += len(records)
    if into.blocked >= 8 * _BATCH:
        into.flush()
    return True


def _cube(records: list[Any]) -> tuple[list[str], Any] | None:
    """The feature headers and the (records, features, labels) attributions of a tabular response, or None."""
    try:
        import numpy as np
    except ModuleNotFoundError:
        return None
    try:
        first = records[0]
        headers = [f.get("feature_header") for f in first]
        # text features carry several units per feature (partial_text): the general path reads those
        if any(len(f["attributions"]) != 1 or "partial_text" in f["attributions"][0] for f in first):
            return None
        header = operator.methodcaller("get", "feature_header")
        if any(list(map(header, record)) != headers for record in records[1:]):
            return None  # another feature set in the same response: the general path counts it
        if len(first[0]["attributions"][0]["attribution"]) == 1:  # one explained score: a flat list, unpacked
            flat = [v for r in records for f in r for (v,) in (f["attributions"][0]["attribution"],)]
            if not set(map(type, flat)) <= _NUMBERS:  # no null (numpy would read NaN), no text, no true/false
                return None
            cube = np.array(flat, dtype=np.float64).reshape(len(records), len(headers), 1)
        else:
            cube = np.asarray([[f["attributions"][0]["attribution"] for f in r] for r in records], dtype=np.float64)
    except (TypeError, KeyError, IndexError, AttributeError, ValueError):
        return None
    if cube.ndim != 3:
        return None
    return [str(h) if h is not None else str(j) for j, h in enumerate(headers)], cube


def _record(record: Any, headers: Any) -> tuple[list[str], list[str], list[list[float]]] | None:
    try:  # the common shape, checked as it is read: one attribution entry of K numbers per feature
        columns = [feature["attributions"][0]["attribution"] for feature in record]
        if all(len(feature["attributions"]) == 1 for feature in record) and columns:
            width = len(columns[0])
            flat = [v for column in columns for v in column]
            if all(len(c) == width for c in columns) and all(type(v) in (float, int) for v in flat):
                names = [str(f.get("feature_header", j)) for j, f in enumerate(record)]
                return names, _labels(headers, width), [[column[k] for column in columns] for k in range(width)]
    except (TypeError, KeyError, IndexError, AttributeError):
        pass
    return _record_general(record, headers)


def _labels(headers: Any, width: int) -> list[str]:
    if isinstance(headers, list) and len(headers) == width:
        return [str(h) for h in headers]
    return [f"label{k}" for k in range(width)]


def _record_general(record: Any, headers: Any) -> tuple[list[str], list[str], list[list[float]]] | None:
    if not isinstance(record, list) or not record:
        return None
    names: list[str] = []
    columns: list[list[float]] = []
    width = None
    for j, feature in enumerate(record):
        if not isinstance(feature, dict) or not isinstance(feature.get("attributions"), list):
            return None
        total: list[float] | None = None
        for unit in feature["attributions"]:  # text features: one entry per unit, their absolute values summed
            values = unit.get("attribution") if isinstance(unit, dict) else None
            if not isinstance(values, list) or not all(type(v) in (float, int) for v in values):
                return None
            magnitudes = [abs(float(v)) for v in values]
            total = magnitudes if total is None else [a + b for a, b in zip(total, magnitudes, strict=False)]
        if total is None or (width is not None and len(total) != width):
            return None
        width = len(total)
        header = feature.get("feature_header")
        names.append(str(header) if header is not None else str(j))
        columns.append(total)
    return names, _labels(headers, width or 0), [[column[k] for column in columns] for k in range(width or 0)]


def _scores(predictions: Any) -> list[list[float]]:
    """The numbers of each output record (one per line; CSV cells or a JSON line's numbers); [] where unreadable."""
    if not isinstance(predictions, dict) or not isinstance(predictions.get("data"), str):
        return []
    data = predictions["data"]
    if "[" not in data and "{" not in data and '"' not in data:
        try:  # plain numeric CSV, the common case: one conversion for the whole answer
            import numpy as np

            rows = [line.split(",") for line in data.split()]
            return list(np.asarray(rows, dtype=np.float64).tolist())
        except (ModuleNotFoundError, ValueError):
            pass
    out: list[list[float]] = []
    for line in data.splitlines():
        if not line.strip():
            continue
        try:
            value = json.loads(line) if line.lstrip()[:1] in "[{" else [float(c) for c in line.split(",")]
        except ValueError:
            out.append([])
            continue
        if isinstance(value, dict):
            value = next((v for v in value.values() if isinstance(v, (int, float, list))), [])
        out.append([float(v) for v in (value if isinstance(value, list) else [value]) if isinstance(v, (int, float))])
    return out


# --- the measure ------------------------------------------------------------------------------------------------


def ndcg(baseline: Sequence[float], current: Sequence[float]) -> float:
    """NDCG of ``current``'s ranking with ``baseline``'s values as gains (1.0 when the baseline has no mass)."""

    def dcg(order: Iterable[int]) -> float:
        return math.fsum(baseline[j] / math.log2(i + 2) for i, j in enumerate(order))

    ideal = dcg(sorted(range(len(baseline)), key=lambda j: (-baseline[j], j)))
    if ideal == 0:
        return 1.0
    return dcg(sorted(range(len(current)), key=lambda j: (-current[j], j))) / ideal


@dataclass
class DriftResult:
    """The comparison of two windows; ``violation`` when any measure crosses its threshold."""

    features: tuple[str, ...]
    labels: tuple[str, ...]
    ndcg: dict[str, float]
    baseline_global: dict[str, list[float]]
    current_global: dict[str, list[float]]
    mass_change: dict[str, float]
    prediction_change: dict[str, float | None]
    thresholds: dict[str, float]
    baseline: Partial
    current: Partial

    @property
    def violations(self) -> list[str]:
        out = []
        for label in self.labels:
            if self.ndcg[label] < self.thresholds["ndcg"]:
                out.append(f"{label}: NDCG {self.ndcg[label]:.4f} below {self.thresholds['ndcg']:.2f}")
            if abs(self.mass_change[label]) > self.thresholds["mass"]:
                out.append(
                    f"{label}: total attribution changed {self.mass_change[label]:+.1%} (threshold "
                    f"{self.thresholds['mass']:.0%})"
                )
            change = self.prediction_change[label]
            if change is not None and abs(change) > self.thresholds["prediction"]:
                out.append(
                    f"{label}: mean prediction changed {change:+.4g} (threshold {self.thresholds['prediction']:g})"
                )
        return out

    @property
    def violation(self) -> bool:
        return bool(self.violations)

    def as_dict(self) -> dict[str, Any]:
        first = self.labels[0]
        return {
            "ndcg": self.ndcg[first],
            "violation": self.violation,
            "violations": self.violations,
            "thresholds": self.thresholds,
            "labels": {
                label: {
                    "ndcg": self.ndcg[label],
                    "mass_change": self.mass_change[label],
                    "mean_prediction_change": self.prediction_change[label],
                    "features": [
                        {
                            "name": name,
                            "baseline": self.baseline_global[label][j],
                            "current": self.current_global[label][j],
                            "baseline_rank": _ranks(self.baseline_global[label])[j],
                            "current_rank": _ranks(self.current_global[label])[j],
                        }
                        for j, name in enumerate(self.features)
                    ],
                }
                for label in self.labels
            },
            "baseline": _counts(self.baseline),
            "current": _counts(self.current),
        }

    def render(self) -> str:
        lines = []
        for label in self.labels:
            base, cur = self.baseline_global[label], self.current_global[label]
            lines.append(
                f"{label}: NDCG {self.ndcg[label]:.4f} (threshold {self.thresholds['ndcg']:.2f}); total attribution "
                f"{self.mass_change[label]:+.1%}"
                + (
                    f"; mean prediction {self.prediction_change[label]:+.4g}"
                    if self.prediction_change[label] is not None
                    else ""
                )
            )
            lines.append(f"  {'feature':24s} {'baseline':>10s} {'current':>10s} {'rank':>9s}")
            base_rank, cur_rank = _ranks(base), _ranks(cur)
            for j in sorted(range(len(self.features)), key=lambda j: base_rank[j]):
                move = base_rank[j] - cur_rank[j]
                arrow = f"{base_rank[j]}->{cur_rank[j]}" + (f" ({move:+d})" if move else "")
                lines.append(f"  {self.features[j][:24]:24s} {base[j]:10.4g} {cur[j]:10.4g} {arrow:>9s}")
        for name, part in (("baseline", self.baseline), ("current", self.current)):
            skipped = ", ".join(f"{n} {reason}" for reason, n in part.skipped.most_common())
            lines.append(
                f"{name}: {part.lines} lines, {part.explained} records explained"
                + (f"; skipped {skipped}" if skipped else "")
            )
        lines.append("violation: " + "; ".join(self.violations) if self.violation else "no violation")
        return "\n".join(lines)


def _ranks(values: Sequence[float]) -> list[int]:
    order = sorted(range(len(values)), key=lambda j: (-values[j], j))
    ranks = [0] * len(values)
    for rank, j in enumerate(order, 1):
        ranks[j] = rank
    return ranks


def _counts(part: Partial) -> dict[str, Any]:
    return {"lines": part.lines, "explained": part.explained, "skipped": dict(part.skipped)}


def compare(
    baseline: Partial,
    current: Partial,
    *,
    ndcg_threshold: float = DEFAULT_NDCG_THRESHOLD,
    mass_threshold: float = DEFAULT_MASS_THRESHOLD,
    prediction_threshold: float = DEFAULT_PREDICTION_THRESHOLD,
) -> DriftResult:
    """The drift of ``current`` against ``baseline``.

    Raises
    ------
    DriftError: a window explained nothing, or the windows explain different features or labels.
    """
    for name, part in (("baseline", baseline), ("current", current)):
        if not part.explained or part.features is None or part.labels is None:
            reasons = ", ".join(f"{n} {reason}" for reason, n in part.skipped.most_common(3)) or "no line"
            raise DriftError(f"the {name} window has no explained record ({part.lines} lines: {reasons})")
    assert baseline.features is not None and baseline.labels is not None
    assert current.features is not None and current.labels is not None
    if current.features != baseline.features:
        raise DriftError(
            f"the windows explain different features: baseline {list(baseline.features)}, current "
            f"{list(current.features)}"
        )
    if current.labels != baseline.labels:
        raise DriftError(
            f"the windows explain different labels: baseline {list(baseline.labels)}, current {list(current.labels)}"
        )
    base, cur = baseline.global_attributions(), current.global_attributions()
    base_pred, cur_pred = baseline.mean_predictions(), current.mean_predictions()
    mass_change, prediction_change = {}, {}
    for label in baseline.labels:
        before, after = math.fsum(base[label]), math.fsum(cur[label])
        mass_change[label] = (after - before) / before if before else 0.0
        known = baseline.predicted and current.predicted
        prediction_change[label] = cur_pred[label] - base_pred[label] if known else None
    return DriftResult(
        baseline.features,
        baseline.labels,
        {label: ndcg(base[label], cur[label]) for label in baseline.labels},
        base,
        cur,
        mass_change,
        prediction_change,
        {"ndcg": ndcg_threshold, "mass": mass_threshold, "prediction": prediction_threshold},
        baseline,
        current,
    )
