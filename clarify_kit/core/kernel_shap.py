"""Kernel SHAP with the Clarify explainer's semantics, vectorized with numpy.

The value of a coalition ``z`` (a boolean mask over the M features) is the model output on records that take the
features in ``z`` from the explained record and the others from a baseline record, averaged over the baseline
records. Attributions solve the Shapley-kernel weighted least squares problem under the efficiency constraint
``sum(phi) = v(all) - v(none)``, so they add up to the prediction minus the expected value over the baseline.

The coalitions evaluated, their weights and the solver matrix come from a plan (clarify_kit.core.shap_plans).

The full and the empty coalition are not part of a plan: the value of the full coalition is the prediction itself,
and the value of the empty one the expected value over the baseline, which a caller can score once and keep.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from clarify_kit.core.blas import one_thread
from clarify_kit.core.limits import LOGIT_EPS
from clarify_kit.core.shap_plans import BLOCK_CELLS, Coalitions, coalitions, gram_inverse, plan

__all__ = [
    "Coalitions",
    "ShapResult",
    "attribute",
    "coalitions",
    "evaluation_masks",
    "explain",
    "gram_inverse",
    "logit",
    "plan",
    "standard_errors",
]

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]


@dataclass(frozen=True)
class ShapResult:
    """Attributions ``phi`` (M, K), the expected value over the baseline (K,) and the explained output (K,)."""

    phi: FloatArray
    expected_value: FloatArray
    prediction: FloatArray
    exhaustive: bool

    def additivity_error(self) -> float:
        """max |expected_value + sum(phi) - prediction| over outputs (0 up to rounding)."""
        if self.phi.size == 0:
            return float(np.max(np.abs(self.prediction - self.expected_value), initial=0.0))
        return float(np.max(np.abs(self.expected_value + self.phi.sum(axis=0) - self.prediction)))


def logit(p: FloatArray) -> FloatArray:
    """log(p / (1 - p)) with p clipped to [1e-7, 1 - 1e-7]."""
    q = np.clip(p, LOGIT_EPS, 1 - LOGIT_EPS)
    return np.asarray(np.log(q / (1 - q)), dtype=np.float64)


def masked_sums(masks: BoolArray, values: FloatArray) -> FloatArray:
    """``masks.T @ values`` in float64, (M, K) from masks (n, M) and values (n, K), block by block."""
    n, m = masks.shape
    out = np.zeros((m, values.shape[1]))
    step = max(1, BLOCK_CELLS // max(m, 1))
    for start in range(0, n, step):
        out += masks[start : start + step].T.astype(np.float64) @ values[start : start + step]
    return out


def evaluation_masks(m: int, number_of_samples: int | None = None, seed: int | None = None) -> BoolArray:
    """A seeded plan's coalitions followed by the full and the empty one: the masks ``explain`` evaluates."""
    return _with_ends(plan(m, number_of_samples, seed))


def _with_ends(coalitions_plan: Coalitions) -> BoolArray:
    m = coalitions_plan.masks.shape[1]
    ends = np.zeros((2, m), dtype=bool)
    ends[0] = True
    return np.concatenate([coalitions_plan.masks, ends])


def explain(
    m: int,
    evaluate: Callable[[BoolArray], FloatArray],
    *,
    number_of_samples: int | None = None,
    seed: int | None = None,
    use_logit: bool = False,
) -> ShapResult:
    """Attribute a model output to ``m`` features.

    Parameters
    ----------
    m: number of features (or text units) of the explained record.
    evaluate: maps boolean masks (n, m) to model outputs (n, K), each averaged over the baseline records; True
        takes the feature from the explained record, False from the baseline. Called once, with the plan's
        coalitions followed by the full and the empty coalition.
    number_of_samples: ``ShapConfig.NumberOfSamples`` (None: the documented default).
    seed: ``ShapConfig.Seed``; the same seed gives the same attributions, None draws afresh.
    use_logit: explain log-odds instead of probabilities (``ShapConfig.UseLogit``).
    """
    coalitions_plan = plan(m, number_of_samples, seed)
    values = np.asarray(evaluate(_with_ends(coalitions_plan)), dtype=np.float64)
    if values.ndim == 1:
        values = values[:, None]
    return attribute(coalitions_plan, values[:-2], values[-2], values[-1], use_logit=use_logit)


def attribute(
    coalitions_plan: Coalitions,
    values: FloatArray,
    prediction: FloatArray,
    expected: FloatArray,
    *,
    use_logit: bool = False,
) -> ShapResult:
    """Attributions from the plan's values (n, K), the prediction (K,) and the expected value over the baseline
    (K,), all model outputs (probabilities when ``use_logit``, which explains their log-odds)."""
    m = coalitions_plan.masks.shape[1]
    prediction = np.asarray(prediction, dtype=np.float64).reshape(-1)
    values = np.asarray(values, dtype=np.float64).reshape(len(coalitions_plan.masks), len(prediction))
    prediction = np.asarray(prediction, dtype=np.float64).reshape(-1)
    expected = np.asarray(expected, dtype=np.float64).reshape(-1)
    if use_logit:
        values, prediction, expected = logit(values), logit(prediction), logit(expected)
    delta = prediction - expected
    if m == 0:
        return ShapResult(np.zeros((0, len(prediction))), expected, prediction, True)
    if m == 1:
        return ShapResult(delta[None, :], expected, prediction, True)
    masks = coalitions_plan.masks
    target = (values - expected) - masks[:, -1:] * delta
    with one_thread():  # tiny products: a BLAS thread per core only waits for the model's cores
        # the weighted design's transpose times the target, with d = z[:-1] - z[-1]
        summed = masked_sums(masks, target * coalitions_plan.weights[:, None])
        head = coalitions_plan.gram_inverse @ (summed[:-1] - summed[-1])
    phi = np.vstack([head, delta - head.sum(axis=0)])
    return ShapResult(phi, expected, prediction, coalitions_plan.exhaustive)


def standard_errors(
    coalitions_plan: Coalitions, values: FloatArray, result: ShapResult, *, use_logit: bool = False
) -> FloatArray | None:
    """Standard errors (M, K) of ``result``'s attributions over the plan's random draws: each draw's influence
    on the solution (its coalitions' weighted residuals through the inverse gram matrix), whose spread over the
    draws estimates the solution's (a sandwich estimate; docs/explainer.md 3.10). Zero for an exhaustive plan.
    None when the plan does not identify the attributions (``Coalitions.identified``): its residuals are zero
    whatever the error, so no standard error can be claimed."""
    if not coalitions_plan.identified:
        return None
    phi = result.phi
    units = coalitions_plan.units
    if units is None or phi.shape[0] < 2 or int(units.max(initial=-1)) < 1:
        return np.zeros_like(phi)  # nothing random, or a single draw: no spread to measure
    masks = coalitions_plan.masks
    values = np.asarray(values, dtype=np.float64).reshape(len(masks), -1)
    if use_logit:
        values = logit(values)
    drawn = np.flatnonzero(units >= 0)
    # the draws' rows, grouped by draw: a pair's two rows side by side
    drawn = drawn[np.argsort(units[drawn], kind="stable")]
    grouped = units[drawn]
    starts = np.flatnonzero(np.concatenate([[True], grouped[1:] != grouped[:-1]]))
    n = len(starts)
    delta = result.prediction - result.expected_value
    k_out = phi.shape[1]
    total, squares = np.zeros((k_out, phi.shape[0])), np.zeros((k_out, phi.shape[0]))
    # Each draw's influence on the solution: the sum of w * d * e over its coalitions (a pair's two rows, or one),
    # through the inverse gram matrix; summed and squared over the draws. A draw's rows are consecutive, so its sum
    # is its first row plus, where it has one, its second (np.add.reduceat along the rows took ten times as long).
    count = np.diff(np.append(starts, len(drawn)))
    with one_thread():
        z = masks[drawn]
        design = z[:, :-1].astype(np.float64) - z[:, -1:]
        target = (values[drawn] - result.expected_value) - z[:, -1:] * delta
        residual = (target - design @ phi[:-1]) * coalitions_plan.weights[drawn, None]
        for k in range(k_out):
            rows = design * residual[:, k : k + 1]
            summed = rows[starts]
            for extra in range(1, int(count.max())):
                more = np.flatnonzero(count > extra)
                summed[more] += rows[starts[more] + extra]
            head = summed @ coalitions_plan.gram_inverse
            influence = np.concatenate([head, -head.sum(axis=1, keepdims=True)], axis=1)
            total[k] = influence.sum(axis=0)
            squares[k] = (influence**2).sum(axis=0)
    spread = np.maximum(squares - total**2 / n, 0.0) / (n - 1)  # the draws' variance, times n: the sum's
    return np.asarray(np.sqrt(spread * n).T, dtype=np.float64)
