"""Kernel SHAP with the Clarify explainer's semantics, vectorized with numpy.

The value of a coalition ``z`` (a boolean mask over the M features) is the model output on records that take the
features in ``z`` from the explained record and the others from a baseline record, averaged over the baseline
records. Attributions solve the Shapley-kernel weighted least squares problem under the efficiency constraint
``sum(phi) = v(all) - v(none)``, so they add up to the prediction minus the expected value over the baseline.

Coalitions: the sample budget is ``n_samples(M, NumberOfSamples)`` (docs/explainer.md 3.3). When it covers all
``2^M - 2`` proper coalitions they are all enumerated and the result equals the exact Shapley values. Otherwise
whole subset sizes are enumerated while the budget allots them enough samples (smallest and largest sizes first,
which carry most kernel weight), and the rest is drawn in complementary pairs from the Shapley kernel,
deterministically for a given ``Seed``. A plan holds exactly the budget's coalitions (duplicate draws included, as
the service's synthetic dataset has ``n_samples`` records per baseline record), and is cached with its solver matrix
for a given seed, so explaining a record costs one matrix product. Without a ``Seed`` every call draws afresh, as the
service does (attributions then vary slightly between calls); the enumerated sizes and their part of the gram
matrix stay cached, so a fresh plan costs only its draws, their co-occurrence counts (a coalition and its complement
count once) and one small inverse: about 0.3 ms at 20 features, 0.6 ms at 50 (``make bench``).

The full and the empty coalition are not part of a plan: the value of the full coalition is the prediction itself,
and the value of the empty one the expected value over the baseline, which a caller can score once and keep.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

from clarify_kit.core.blas import one_thread
from clarify_kit.core.limits import LOGIT_EPS
from clarify_kit.core.synthetic import n_samples as sample_budget

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
_MAX_ENUMERATED = 1 << 20  # never enumerate more coalitions than this, whatever the budget says


@dataclass(frozen=True)
class Coalitions:
    """A sampling plan: coalition masks, their kernel weights and the matrix that turns values into attributions."""

    masks: BoolArray  # (n, M)
    weights: FloatArray  # (n,)
    gram_inverse: FloatArray  # (M - 1, M - 1): the inverse of the weighted design's gram matrix
    exhaustive: bool
    # The random draw each coalition belongs to (a complementary pair is one draw), -1 for an enumerated one:
    # what ``standard_errors`` resamples. None: nothing is random (the plan is exhaustive).
    units: NDArray[np.int64] | None = None
    # False when the coalitions do not pin every attribution down (a singular gram matrix, answered with its
    # pseudo-inverse): the least-squares answer then fits them exactly, so no error can be measured from them.
    identified: bool = True

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


def plan(m: int, number_of_samples: int | None = None, seed: int | None = None) -> Coalitions:
    """The coalitions to evaluate for ``m`` features: exactly ``n_samples(m, NumberOfSamples)`` of them.

    With a seed the plan is cached (the same seed gives the same plan); without one it is drawn afresh.
    """
    with one_thread():  # the gram product and its inverse: tiny, and slow on threads waiting for busy cores
        return coalitions(m, sample_budget(m, number_of_samples), seed)


def coalitions(m: int, budget: int, seed: int | None) -> Coalitions:
    """The coalition plan for ``m`` features and ``budget`` model evaluations (seed None draws afresh)."""
    if m < 2 or budget < 1:
        empty = np.zeros((0, m), dtype=bool)
        k = max(m - 1, 0)
        return Coalitions(empty, np.zeros(0), np.zeros((k, k)), True)
    full = 2**m - 2 if m < 62 else None
    if full is not None and budget >= full and full <= _MAX_ENUMERATED:
        return _exhaustive_plan(m)
    if seed is None:
        return _sampled_plan(m, budget, None)
    return _seeded_plan(m, budget, seed)


@lru_cache(maxsize=64)
def _exhaustive_plan(m: int) -> Coalitions:
    masks = _all_masks(m)
    sizes = masks.sum(axis=1)
    weights = np.array([0.0] + [_kernel_weight(m, s) for s in range(1, m)])[sizes]
    return _plan(masks, weights, _gram(masks, weights), exhaustive=True)


@lru_cache(maxsize=64)
def _seeded_plan(m: int, budget: int, seed: int) -> Coalitions:
    return _sampled_plan(m, budget, seed)


def _sampled_plan(m: int, budget: int, seed: int | None) -> Coalitions:
    part = _enumerated(m, budget)
    if part.sizes_done >= math.ceil((m - 1) / 2) or part.remaining == 0:
        # Whole sizes only, short of every coalition: no draw to resample, so every coalition counts as one
        # (a conservative standard error for a plan whose error is bias, not chance).
        return _plan(part.masks, part.weights, part.gram, exhaustive=False, units=np.arange(len(part.masks)))
    drawn, pairs = _draws(m, part.remaining, part.sizes_done, seed)
    share = part.drawn_share / part.remaining
    masks = np.concatenate([part.masks, drawn, ~drawn[:pairs]])
    weights = np.concatenate([part.weights, np.full(len(drawn) + pairs, share)])
    # A coalition and its complement have opposite design rows, so the same outer product: the gram of the draws
    # is twice the paired half's plus the unpaired draw's, counted exactly in float32 (small integers).
    counts = _cooccurrence(drawn[:pairs]) * 2
    if pairs < len(drawn):
        counts += np.outer(drawn[pairs], drawn[pairs])
    units = np.concatenate([np.full(len(part.masks), -1), np.arange(len(drawn)), np.arange(pairs)])
    return _plan(masks, weights, part.gram + share * _design_gram(counts), exhaustive=False, units=units)


def _size_weights(m: int) -> FloatArray:
    """The kernel weight of each subset size 1..ceil((m-1)/2), a paired size counting its complement too."""
    n_sizes = math.ceil((m - 1) / 2)
    n_paired = (m - 1) // 2
    weight = np.array([(m - 1) / (s * (m - s)) for s in range(1, n_sizes + 1)])
    weight[:n_paired] *= 2
    return np.asarray(weight / weight.sum(), dtype=np.float64)


@dataclass(frozen=True)
class _Enumerated:
    """The whole subset sizes a budget affords: their masks, weights and gram contribution."""

    masks: BoolArray
    weights: FloatArray
    gram: FloatArray
    sizes_done: int  # sizes 1..sizes_done (and their complements) are enumerated
    remaining: int  # the budget left for draws
    drawn_share: float  # the kernel weight those draws stand for


@lru_cache(maxsize=64)
def _enumerated(m: int, budget: int) -> _Enumerated:
    """The whole subset sizes the budget can afford (smallest first). Cached: it needs no randomness."""
    n_paired = (m - 1) // 2
    size_weight = _size_weights(m)
    blocks: list[BoolArray] = [np.zeros((0, m), dtype=bool)]
    weights: list[FloatArray] = [np.zeros(0)]
    remaining, left, done = budget, size_weight.copy(), 0
    for i in range(len(size_weight)):
        s, paired = i + 1, i < n_paired
        count = math.comb(m, s) * (2 if paired else 1)
        if left[i] * remaining + 1e-9 < count or count > remaining:
            break
        masks = _size_masks(m, s)
        w = size_weight[i] / math.comb(m, s) / (2 if paired else 1)
        blocks.extend([masks, ~masks] if paired else [masks])
        weights.extend([np.full(len(masks), w)] * (2 if paired else 1))
        remaining -= count
        done = i + 1
        if left[i] < 1:
            left = left / (1 - left[i])
    masks, weight = np.concatenate(blocks), np.concatenate(weights)
    gram = _gram(masks, weight)
    for array in (masks, weight, gram):
        array.setflags(write=False)
    return _Enumerated(masks, weight, gram, done, remaining, float(size_weight[done:].sum()))


def _draws(m: int, count: int, done: int, seed: int | None) -> tuple[BoolArray, int]:
    """``count`` coalitions drawn from the Shapley kernel over the sizes not enumerated, in complementary pairs
    (plus one unpaired draw when ``count`` is odd): the drawn halves and how many of them are paired. Duplicates
    are kept, as in the service's synthetic data."""
    rng = np.random.default_rng(None if seed is None else seed % 2**32)  # numpy takes non-negative seeds
    size_weight = _size_weights(m)[done:]
    pairs, single = divmod(count, 2)
    n = pairs + single
    cumulative = np.cumsum(size_weight)
    picks = np.searchsorted(cumulative, rng.random(n) * cumulative[-1], side="right")
    sizes = done + 1 + np.minimum(picks, len(size_weight) - 1)  # a size with probability its kernel weight
    # A uniformly random subset of each size: the features whose random keys are among the size smallest.
    # 16-bit keys are quick to draw and sort; a row whose size-th and next key tie (about one row in 1,300 at
    # 50 features) would get a wrong size, and is drawn again with float64 keys.
    # Block by block, so that no temporary is large enough to cost fresh pages (see _BLOCK_CELLS).
    drawn = np.empty((n, m), dtype=bool)
    step = max(1, 4 * _BLOCK_CELLS // m)
    for start in range(0, n, step):
        keys = rng.integers(0, 0xFFFF, (min(step, n - start), m), dtype=np.uint16, endpoint=True)
        rows = np.arange(len(keys))
        threshold = np.sort(keys, axis=1)[rows, sizes[start : start + len(keys)] - 1]
        np.less_equal(keys, threshold[:, None], out=drawn[start : start + len(keys)])
    tied = np.flatnonzero(drawn.sum(axis=1) != sizes)
    if len(tied):
        again = rng.random((len(tied), m))
        cut = np.sort(again, axis=1)[np.arange(len(tied)), sizes[tied] - 1]
        drawn[tied] = again <= cut[:, None]
    return drawn, pairs


def _design_gram(counts: FloatArray) -> FloatArray:
    """sum d d^T over coalitions, with d = z[:-1] - z[-1] (the last feature eliminated by the efficiency
    constraint), from the co-occurrence counts C = sum z z^T of the same coalitions."""
    last = counts[-1, :-1]
    return np.asarray(counts[:-1, :-1] - last[:, None] - last[None, :] + counts[-1, -1], dtype=np.float64)


def _gram(masks: BoolArray, weights: FloatArray) -> FloatArray:
    """The weighted design's gram matrix, sum w d d^T (cached plans only: it is computed in float64)."""
    if len(masks) == 0:
        k = max(masks.shape[1] - 1, 0)
        return np.zeros((k, k))
    m = masks.shape[1]
    counts = np.zeros((m, m))
    step = max(1, _BLOCK_CELLS // m)
    for start in range(0, len(masks), step):
        block = masks[start : start + step].astype(np.float64)
        counts += (block * weights[start : start + step, None]).T @ block
    return _design_gram(counts)


# Rows per block in the products with the masks: a block's float copy stays well under glibc's mmap threshold
# (128 KiB), so it reuses heap memory instead of faulting in fresh pages on every call (a whole 2,148 x 50 float64
# copy cost 0.9 ms of page faults against 0.04 ms for the arithmetic).
_BLOCK_CELLS = 8192


def masked_sums(masks: BoolArray, values: FloatArray) -> FloatArray:
    """``masks.T @ values`` in float64, (M, K) from masks (n, M) and values (n, K), block by block."""
    n, m = masks.shape
    out = np.zeros((m, values.shape[1]))
    step = max(1, _BLOCK_CELLS // max(m, 1))
    for start in range(0, n, step):
        out += masks[start : start + step].T.astype(np.float64) @ values[start : start + step]
    return out


def _cooccurrence(masks: BoolArray) -> FloatArray:
    """``masks.T @ masks`` (how often two features are in the same coalition), exact: float32 holds integer sums
    exactly up to 2^24, and computes them in half the time of float64 (float64 beyond that many coalitions)."""
    m = masks.shape[1]
    out = np.zeros((m, m), dtype=np.float32 if len(masks) < 1 << 24 else np.float64)
    step = max(1, 2 * _BLOCK_CELLS // max(m, 1))
    for start in range(0, len(masks), step):
        block = masks[start : start + step].astype(out.dtype)
        out += block.T @ block
    return out.astype(np.float64)


def _plan(
    masks: BoolArray,
    weights: FloatArray,
    gram: FloatArray,
    *,
    exhaustive: bool,
    units: NDArray[np.int64] | None = None,
) -> Coalitions:
    for array in (masks, weights):
        array.setflags(write=False)
    inverse, identified = _inverse(gram)
    return Coalitions(masks, weights, inverse, exhaustive, units, identified)


def gram_inverse(gram: FloatArray) -> FloatArray:
    """inv(gram) when it is well conditioned (fast); the pseudo-inverse when a budget too small to pin every
    feature down leaves it singular or nearly so (least squares still answers, as before)."""
    return _inverse(gram)[0]


def _inverse(gram: FloatArray) -> tuple[FloatArray, bool]:
    """gram_inverse's answer, and whether it is the true inverse (False: the pseudo-inverse of a singular gram)."""
    try:
        inverse = np.linalg.inv(gram)
        # gram @ inverse == I, checked on one fixed vector: two matrix-vector products instead of a full product
        probe = np.linspace(1.0, 2.0, len(gram))
        residual = float(np.abs(gram @ (inverse @ probe) - probe).max(initial=0.0))
        if residual <= 1e-8:  # False for NaN too: an inverse with a non-finite entry fails here
            return np.asarray(inverse, dtype=np.float64), True
    except np.linalg.LinAlgError:
        pass
    return np.asarray(np.linalg.pinv(gram, hermitian=True), dtype=np.float64), False


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
    # the draws' rows, grouped by draw (a pair's two rows side by side), so that np.add.reduceat sums each group
    drawn = drawn[np.argsort(units[drawn], kind="stable")]
    starts = np.flatnonzero(np.diff(units[drawn], prepend=-1))
    n = len(starts)
    delta = result.prediction - result.expected_value
    k_out = phi.shape[1]
    total, squares = np.zeros((k_out, phi.shape[0])), np.zeros((k_out, phi.shape[0]))
    # Block by block (as masked_sums: no temporary large enough to cost fresh pages), each draw's influence on the
    # solution: the sum of w * d * e over its coalitions, through the inverse gram matrix; summed and squared.
    step = max(1, _BLOCK_CELLS // phi.shape[0])  # draws per block (measured: 2x and 1/2x were slower)
    with one_thread():
        for first in range(0, n, step):
            rows = drawn[starts[first] : starts[first + step] if first + step < n else len(drawn)]
            z = masks[rows]
            design = z[:, :-1].astype(np.float64) - z[:, -1:]
            target = (values[rows] - result.expected_value) - z[:, -1:] * delta
            residual = (target - design @ phi[:-1]) * coalitions_plan.weights[rows, None]
            local = starts[first : first + step] - starts[first]
            for k in range(k_out):
                head = np.add.reduceat(design * residual[:, k : k + 1], local, axis=0) @ coalitions_plan.gram_inverse
                influence = np.concatenate([head, -head.sum(axis=1, keepdims=True)], axis=1)
                total[k] += influence.sum(axis=0)
                squares[k] += (influence**2).sum(axis=0)
    spread = np.maximum(squares - total**2 / n, 0.0) / (n - 1)  # the draws' variance, times n: the sum's
    return np.asarray(np.sqrt(spread * n).T, dtype=np.float64)
