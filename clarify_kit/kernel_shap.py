"""Kernel SHAP with the Clarify explainer's semantics, vectorized with numpy.

The value of a coalition ``z`` (a boolean mask over the M features) is the model output on records that take the
features in ``z`` from the explained record and the others from a baseline record, averaged over the baseline
records. Attributions solve the Shapley-kernel weighted least squares problem under the efficiency constraint
``sum(phi) = v(all) - v(none)``, so they add up to the prediction minus the expected value over the baseline.

Coalitions: the sample budget is ``n_samples(M, NumberOfSamples)`` (clarify-explainer.md 3.3). When it covers all
``2^M - 2`` proper coalitions they are all enumerated and the result equals the exact Shapley values. Otherwise
whole subset sizes are enumerated while the budget allots them enough samples (smallest and largest sizes first,
which carry most kernel weight), and the rest is drawn in complementary pairs from the Shapley kernel,
deterministically for a given ``Seed``. A plan depends only on (M, budget, seed) and is cached with its solver
matrix, so explaining a record costs one matrix product. Without a ``Seed`` the plan is drawn once per process and
reused: the service draws per call (its attributions then vary slightly between calls), the kit's stay stable
within a run.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

from clarify_kit.limits import LOGIT_EPS
from clarify_kit.synthetic import n_samples as sample_budget

__all__ = ["Coalitions", "ShapResult", "coalitions", "evaluation_masks", "explain", "logit"]

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
_MAX_ENUMERATED = 1 << 20  # never enumerate more coalitions than this, whatever the budget says


@dataclass(frozen=True)
class Coalitions:
    """A sampling plan: coalition masks, their kernel weights and the matrix that turns values into attributions."""

    masks: BoolArray  # (n, M)
    weights: FloatArray  # (n,)
    solver: FloatArray  # (M - 1, n): phi[:-1] = solver @ (v - masks[:, -1] * delta)
    exhaustive: bool

    @property
    def size(self) -> int:
        return int(self.masks.shape[0])


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


def _kernel_weight(m: int, s: int) -> float:
    """Shapley kernel weight of one coalition of size s among m features."""
    return (m - 1) / (math.comb(m, s) * s * (m - s))


def _all_masks(m: int) -> BoolArray:
    codes = np.arange(1, 2**m - 1, dtype=np.int64)
    return np.asarray(((codes[:, None] >> np.arange(m)) & 1).astype(bool))


def _size_masks(m: int, s: int) -> BoolArray:
    rows = np.zeros((math.comb(m, s), m), dtype=bool)
    for i, combo in enumerate(itertools.combinations(range(m), s)):
        rows[i, list(combo)] = True
    return rows


@lru_cache(maxsize=64)
def coalitions(m: int, budget: int, seed: int | None) -> Coalitions:
    """The coalition plan for ``m`` features and ``budget`` model evaluations (cached; seed None is random)."""
    if m < 2 or budget < 1:
        empty = np.zeros((0, m), dtype=bool)
        return Coalitions(empty, np.zeros(0), np.zeros((max(m - 1, 0), 0)), True)
    full = 2**m - 2 if m < 62 else None
    if full is not None and budget >= full and full <= _MAX_ENUMERATED:
        masks = _all_masks(m)
        sizes = masks.sum(axis=1)
        weights = np.array([0.0] + [_kernel_weight(m, s) for s in range(1, m)])[sizes]
        return _plan(masks, weights, exhaustive=True)
    return _sampled_plan(m, budget, seed)


def _sampled_plan(m: int, budget: int, seed: int | None) -> Coalitions:
    n_sizes = math.ceil((m - 1) / 2)
    n_paired = (m - 1) // 2
    size_weight = np.array([(m - 1) / (s * (m - s)) for s in range(1, n_sizes + 1)])
    size_weight[:n_paired] *= 2  # a paired size stands for itself and its complement
    size_weight /= size_weight.sum()
    blocks: list[BoolArray] = []
    block_weights: list[FloatArray] = []
    remaining = budget
    left = size_weight.copy()
    done = 0
    for i in range(n_sizes):
        s = i + 1
        paired = i < n_paired
        count = math.comb(m, s) * (2 if paired else 1)
        if left[i] * remaining + 1e-9 < count or count > remaining:
            break
        masks = _size_masks(m, s)
        w = size_weight[i] / math.comb(m, s) / (2 if paired else 1)
        blocks.append(masks)
        block_weights.append(np.full(len(masks), w))
        if paired:
            blocks.append(~masks)
            block_weights.append(np.full(len(masks), w))
        remaining -= count
        done = i + 1
        if left[i] < 1:
            left = left / (1 - left[i])
    if done < n_sizes and remaining > 0:
        # Seed is any 32-bit integer the API accepts; numpy takes non-negative seeds, so fold negatives.
        rng = np.random.default_rng(None if seed is None else seed % 2**32)
        probs = size_weight[done:] / size_weight[done:].sum()
        n_pairs = max(1, remaining // 2)
        sizes = rng.choice(np.arange(done + 1, n_sizes + 1), size=n_pairs, p=probs)
        ranks = np.argsort(rng.random((n_pairs, m)), axis=1).argsort(axis=1)
        drawn = ranks < sizes[:, None]
        draws = np.concatenate([drawn, ~drawn]) if remaining >= 2 else drawn
        unique, counts = np.unique(draws, axis=0, return_counts=True)
        leftover = size_weight[done:].sum()
        blocks.append(unique)
        block_weights.append(counts / counts.sum() * leftover)
    masks = np.concatenate(blocks) if blocks else np.zeros((0, m), dtype=bool)
    weights = np.concatenate(block_weights) if block_weights else np.zeros(0)
    return _plan(masks, weights, exhaustive=False)


def _plan(masks: BoolArray, weights: FloatArray, *, exhaustive: bool) -> Coalitions:
    z = masks.astype(np.float64)
    design = z[:, :-1] - z[:, -1:]  # eliminate the last feature with the efficiency constraint
    weighted = design * weights[:, None]
    gram = design.T @ weighted
    solver = np.linalg.pinv(gram, hermitian=True) @ weighted.T
    masks.setflags(write=False)
    return Coalitions(masks, weights, solver, exhaustive)


def evaluation_masks(m: int, number_of_samples: int | None = None, seed: int | None = None) -> BoolArray:
    """The masks ``explain`` passes to ``evaluate``: the plan's coalitions, then the full and the empty one.

    Callers that batch many records compute their synthetic rows from these ahead of ``explain``.
    """
    plan = coalitions(m, sample_budget(m, number_of_samples), seed)
    ends = np.zeros((2, m), dtype=bool)
    ends[0] = True
    return np.concatenate([plan.masks, ends])


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
    seed: ``ShapConfig.Seed``; the same seed gives the same attributions.
    use_logit: explain log-odds instead of probabilities (``ShapConfig.UseLogit``).
    """
    plan = coalitions(m, sample_budget(m, number_of_samples), seed)
    values = np.asarray(evaluate(evaluation_masks(m, number_of_samples, seed)), dtype=np.float64)
    if values.ndim == 1:
        values = values[:, None]
    if use_logit:
        values = logit(values)
    prediction, expected = values[-2], values[-1]
    delta = prediction - expected
    if m == 0:
        return ShapResult(np.zeros((0, values.shape[1])), expected, prediction, True)
    if m == 1:
        return ShapResult(delta[None, :], expected, prediction, True)
    v = values[:-2] - expected
    target = v - plan.masks[:, -1:].astype(np.float64) * delta
    head = plan.solver @ target
    phi = np.vstack([head, delta - head.sum(axis=0)])
    return ShapResult(phi, expected, prediction, plan.exhaustive)
