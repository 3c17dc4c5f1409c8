"""Explanation drift from the explanations an endpoint already served (data capture), as Model Monitor measures it.

Global attribution of a feature, per label: an aggregate of the per-record attributions of a window, by Model
Monitor's ``agg_method``: ``mean_abs`` (the default: mean of absolute values), ``median`` (of the signed values) or
``mean_sq`` (mean of squares). The drift of a window against a baseline window is scikit-learn's ``ndcg_score``, which
AWS's violations page links as the definition: the window's global attributions rank the features, the baseline's are
the gains, tied scores share their gains (averaged over the tie), and a baseline with no mass scores 0. Model Monitor
flags NDCG below 0.90. NDCG ignores magnitude (every attribution x 0.1 still scores 1.0), so the total attribution
mass and the mean explained score are compared too, each against a threshold of its own (the kit's, not Model
Monitor's). The expected value (Model Monitor's ``ExpectedValue``) follows from additivity: the mean over records of
the explained score minus the sum of its attributions.

Streaming and exact merging: a window is read line by line into a ``Partial`` (counts and sums), one per file or
shard; partials merge by addition. The sums are exact (each float is added as an integer multiple of 2^-1074, the
smallest float64 step), so however a window is split across files, workers or Lambda invocations, the merged result is
bit for bit the same; a mean is the exact sum divided by the count, rounded once. ``median`` keeps every value (8
bytes per attribution in memory; its partials list them).

The envelope is read by ``clarify_kit.core.response`` and the scores by ``clarify_kit.core.scores``, the readers every
other part of the kit uses. Standard library (and jmespath, which AWS Lambda's Python runtime ships with boto3):
numpy and orjson speed it up where installed.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from clarify_kit.core.drift_partial import AGGREGATIONS, DEFAULT_AGGREGATION, Partial
from clarify_kit.core.errors import DriftError, ResponseParseError
from clarify_kit.core.response import explained_records, load_envelope, load_json
from clarify_kit.core.scores import ScoreSelector, record_scores

__all__ = [
    "AGGREGATIONS",
    "DEFAULT_AGGREGATION",
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
DEFAULT_PREDICTION_THRESHOLD = 0.1  # absolute change of the mean explained score (kit)


# --- reading capture lines --------------------------------------------------------------------------------------

_INDEXES = re.compile(r"\[\d+\]")
_GOT = re.compile(r", got .*$")


def _reason(err: Exception) -> str:
    """A schema problem as a skip reason: the JSON path without record indexes and without the value, so that
    one reason counts every line with that problem."""
    return "not the explainer's response: " + _GOT.sub("", _INDEXES.sub("[*]", str(err)))[:200]


def _decode(part: dict[str, Any]) -> str:
    data, encoding = part.get("data"), str(part.get("encoding", "")).upper()
    if not isinstance(data, str):
        raise ValueError("no data")
    if encoding == "BASE64":
        return base64.b64decode(data, validate=True).decode("utf-8")
    return data  # CSV and JSON are stored as the text itself


def read_capture_line(line: str | bytes, into: Partial, selector: ScoreSelector | None = None) -> dict[str, Any] | None:
    """Add one capture line (SageMaker data capture JSON) to ``into``; returns its captured input (``{"data",
    "contentType"}``) when the output carries no explanation, for re-explaining, else None. Problems are counted in
    ``into.skipped`` by reason, never raised. ``selector`` reads the explained score (default: assumed, see
    ``ScoreSelector.describe``)."""
    into.lines += 1
    try:
        event = load_json(line)
    except ResponseParseError:
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
        envelope = load_envelope(_decode(output))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        into.skip("the captured output is not JSON (not the explainer's response)")
        return None
    except ResponseParseError as err:  # the body as a whole is not JSON (its text is in the message): one reason
        whole = str(err).startswith(("$: not JSON", "$: the body"))
        into.skip("the captured output is not JSON (not the explainer's response)" if whole else _reason(err))
        return _input(capture)
    if "explanations" not in envelope:
        into.skip("the captured output is not the explainer's response envelope")
        return _input(capture)
    add_envelope(envelope, into, selector or ScoreSelector(assumed=True))
    return None


def _input(capture: dict[str, Any]) -> dict[str, Any] | None:
    part = capture.get("endpointInput")
    if not isinstance(part, dict):
        return None
    try:
        return {"data": _decode(part), "contentType": str(part.get("observedContentType", "text/csv"))}
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None


def add_envelope(envelope: dict[str, Any], into: Partial, selector: ScoreSelector) -> None:
    """Add every explained record of one explainer response (``load_envelope``) to ``into``, with its score."""
    try:
        records = explained_records(envelope)
    except ResponseParseError as err:
        into.skip(_reason(err))
        return
    predictions = envelope["predictions"]
    count = len(records) or None
    scores, problem = record_scores(predictions["data"], predictions["content_type"], count, selector)
    if not records:
        into.skip("not explained (EnableExplanations was false for the record)", max(1, len(scores)))
        return
    if problem is not None:
        into.skipped[f"prediction not read: {problem[:120]}"] += sum(r is not None for r in records)
    headers = envelope.get("label_headers")
    for record in records:
        if record is None:
            into.skip("not explained (EnableExplanations was false for the record)")
            continue
        position, names, values = record
        labels = _labels(headers, len(values))
        score = scores[position] if position < len(scores) else None
        if score is None and problem is None:
            into.skipped["prediction not read: the selector finds no number"] += 1
        into.add_record(names, labels, values, score)


def _labels(headers: Any, width: int) -> list[str]:
    if isinstance(headers, list) and len(headers) == width:
        return [str(h) for h in headers]
    return [f"label{k}" for k in range(width)]


# --- the measure ------------------------------------------------------------------------------------------------


def ndcg(baseline: Sequence[float], current: Sequence[float]) -> float:
    """scikit-learn's ``ndcg_score([baseline], [current])``: ``current`` ranks, ``baseline`` gives the gains
    (non-negative), tied scores share the mean gain of their tie over the tie's discounts, and a baseline without
    mass scores 0.0."""
    if len(baseline) != len(current):
        raise DriftError(f"NDCG of {len(baseline)} gains against {len(current)} scores")
    discounts = [1.0 / math.log2(i + 2) for i in range(len(baseline))]
    ideal = math.fsum(g * d for g, d in zip(sorted(baseline, reverse=True), discounts, strict=True))
    if ideal == 0:
        return 0.0
    order = sorted(range(len(current)), key=lambda j: -current[j])
    gain, position = [], 0
    while position < len(order):
        end = position
        while end + 1 < len(order) and current[order[end + 1]] == current[order[position]]:
            end += 1
        tie = order[position : end + 1]
        mean_gain = math.fsum(baseline[j] for j in tie) / len(tie)
        gain.append(mean_gain * math.fsum(discounts[position : end + 1]))
        position = end + 1
    return math.fsum(gain) / ideal


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
    expected_value: dict[str, float | None]
    thresholds: dict[str, float]
    baseline: Partial
    current: Partial
    selector: str = ""

    @property
    def violations(self) -> list[str]:
        out = []
        for label in self.labels:
            if self.ndcg[label] < self.thresholds["ndcg"]:
                zero = not any(self.baseline_global[label])
                why = " (the baseline's global attributions are all zero)" if zero else ""
                out.append(f"{label}: NDCG {self.ndcg[label]:.4f} below {self.thresholds['ndcg']:.2f}{why}")
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
            "aggregation": self.current.aggregation,
            "predictions": self.selector,
            "labels": {
                label: {
                    "ndcg": self.ndcg[label],
                    "mass_change": self.mass_change[label],
                    "mean_prediction_change": self.prediction_change[label],
                    "expected_value": self.expected_value[label],
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
        lines.append(f"global attribution: {self.current.aggregation}; {self.selector}")
        for name, part in (("baseline", self.baseline), ("current", self.current)):
            skipped = ", ".join(f"{n} {reason}" for reason, n in part.skipped.most_common())
            lines.append(
                f"{name}: {part.lines} lines, {part.explained} records explained, {part.predicted} predictions read"
                + (" (window truncated by the time budget)" if part.truncated else "")
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
    return {
        "lines": part.lines,
        "explained": part.explained,
        "predicted": part.predicted,
        "skipped": dict(part.skipped),
        "truncated": part.truncated,
    }


def _check_comparable(baseline: Partial, current: Partial) -> None:
    """DriftError unless both windows explained something, the same features and labels, aggregated alike."""
    for name, part in (("baseline", baseline), ("current", current)):
        if not part.explained or part.features is None or part.labels is None:
            reasons = ", ".join(f"{n} {reason}" for reason, n in part.skipped.most_common(3)) or "no line"
            raise DriftError(f"the {name} window has no explained record ({part.lines} lines: {reasons})")
    if current.aggregation != baseline.aggregation:
        raise DriftError(
            f"the windows are aggregated differently: baseline {baseline.aggregation}, current {current.aggregation}"
        )
    if current.features != baseline.features:
        raise DriftError(
            f"the windows explain different features: baseline {list(baseline.features or ())}, current "
            f"{list(current.features or ())}"
        )
    if current.labels != baseline.labels:
        raise DriftError(
            f"the windows explain different labels: baseline {list(baseline.labels or ())}, current "
            f"{list(current.labels or ())}"
        )


def compare(
    baseline: Partial,
    current: Partial,
    *,
    ndcg_threshold: float = DEFAULT_NDCG_THRESHOLD,
    mass_threshold: float = DEFAULT_MASS_THRESHOLD,
    prediction_threshold: float = DEFAULT_PREDICTION_THRESHOLD,
    selector: ScoreSelector | None = None,
) -> DriftResult:
    """The drift of ``current`` against ``baseline``.

    Raises
    ------
    DriftError: a window explained nothing, the windows explain different features or labels, or were aggregated
    differently.
    """
    _check_comparable(baseline, current)
    assert baseline.features is not None and baseline.labels is not None
    base, cur = baseline.global_attributions(), current.global_attributions()
    base_pred, cur_pred = baseline.mean_predictions(), current.mean_predictions()
    expected = current.expected_values()
    mass_change, prediction_change, expected_value = {}, {}, {}
    for label in baseline.labels:
        before, after = math.fsum(map(abs, base[label])), math.fsum(map(abs, cur[label]))
        mass_change[label] = (after - before) / before if before else 0.0  # no baseline mass: NDCG is 0 already
        known = baseline.predicted and current.predicted
        prediction_change[label] = cur_pred[label] - base_pred[label] if known else None
        expected_value[label] = expected[label] if current.predicted else None
    return DriftResult(
        baseline.features,
        baseline.labels,
        # NDCG's gains are non-negative: a median of signed values ranks by magnitude
        {label: ndcg([abs(v) for v in base[label]], [abs(v) for v in cur[label]]) for label in baseline.labels},
        base,
        cur,
        mass_change,
        prediction_change,
        expected_value,
        {"ndcg": ndcg_threshold, "mass": mass_threshold, "prediction": prediction_threshold},
        baseline,
        current,
        (selector or ScoreSelector(assumed=True)).describe(),
    )
