"""The coalitions Kernel SHAP evaluates (clarify_kit.core.kernel_shap): a plan of masks, their kernel weights and
the inverse of their weighted design's gram matrix, for a number of features and a sample budget.

The sample budget is ``n_samples(M, NumberOfSamples)`` (docs/explainer.md 3.3). When it covers all ``2^M - 2``
proper coalitions they are all enumerated and the result equals the exact Shapley values. Otherwise whole subset
sizes are enumerated while the budget allots them enough samples (smallest and largest sizes first, which carry
most kernel weight), and the rest is drawn in complementary pairs from the Shapley kernel, deterministically for a
given ``Seed``. A plan holds exactly the budget's coalitions (duplicate draws included, as the service's synthetic
dataset has ``n_samples`` records per baseline record), and is cached with its solver matrix for a given seed, so
explaining a record costs one matrix product. Without a ``Seed`` every call draws afresh, as the service does
(attributions then vary slightly between calls); the enumerated sizes and their part of the gram matrix stay
cached, so a fresh plan costs only its draws, their co-occurrence counts (a coalition and its complement count
once) and one small inverse. Small fresh plans are drawn eight at a time, which divides numpy's per-call overhead
among them: about 0.18 ms a plan at 20 features, 0.42 ms at 50.

The full and the empty coalition are not part of a plan: the value of the full coalition is the prediction itself,
and the value of the empty one the expected value over the baseline, which a caller can score once and keep.
"""

from __future__ import annotations

import itertools
import math
import threading
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

from clarify_kit.core.blas import one_thread
from clarify_kit.core.synthetic import n_samples as sample_budget

__all__ = ["BLOCK_CELLS", "Coalitions", "coalitions", "gram_inverse", "plan"]

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
        return _fresh_plan(m, budget)
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
    return _sampled_plans(m, budget, seed, 1)[0]


def _fresh_plan(m: int, budget: int) -> Coalitions:
    """A plan drawn afresh (no seed). Small plans are drawn ``_FRESH_BATCH`` at a time and handed out one by one:
    each is an independent draw all the same, and one vectorized draw of several plans costs little more than one
    (most of a single plan's time is numpy's per-call overhead on small arrays)."""
    key = (m, budget)
    with _FRESH_LOCK:
        ready = _FRESH.get(key)
        if ready:
            return ready.pop()
    count = _FRESH_BATCH if budget * m * _FRESH_BATCH <= _FRESH_MAX_CELLS else 1
    plans = _sampled_plans(m, budget, None, count)
    if count > 1:
        with _FRESH_LOCK:
            if key not in _FRESH and len(_FRESH) >= _FRESH_KEYS:
                _FRESH.clear()  # a process explaining many shapes keeps a few plans of the latest only
            _FRESH.setdefault(key, []).extend(plans[1:])
    return plans[0]


# Fresh plans drawn together, for plans of at most _FRESH_MAX_CELLS mask cells all told (a few of them at 50
# features and the default budget: about 0.9 MB), kept for at most _FRESH_KEYS shapes (kit).
_FRESH_BATCH = 8
_FRESH_MAX_CELLS = 1 << 20
_FRESH_KEYS = 8
_FRESH: dict[tuple[int, int], list[Coalitions]] = {}
_FRESH_LOCK = threading.Lock()


def _sampled_plans(m: int, budget: int, seed: int | None, count: int) -> list[Coalitions]:
    """``count`` plans of independent draws (from one generator: a seed gives the same plans every time)."""
    part = _enumerated(m, budget)
    if part.sizes_done >= math.ceil((m - 1) / 2) or part.remaining == 0:
        # Whole sizes only, short of every coalition: no draw to resample, so every coalition counts as one
        # (a conservative standard error for a plan whose error is bias, not chance).
        whole = _plan(part.masks, part.weights, part.gram, exhaustive=False, units=np.arange(len(part.masks)))
        return [whole] * count
    rng = np.random.default_rng(None if seed is None else seed % 2**32)  # numpy takes non-negative seeds
    pairs, single = divmod(part.remaining, 2)
    n = pairs + single
    drawn = _draws(m, n * count, part.sizes_done, rng).reshape(count, n, m)
    share = part.drawn_share / part.remaining
    weights = np.concatenate([part.weights, np.full(n + pairs, share)])
    units = np.concatenate([np.full(len(part.masks), -1), np.arange(n), np.arange(pairs)])
    # A coalition and its complement have opposite design rows, so the same outer product: the gram of the draws
    # is twice the paired half's plus the unpaired draw's, counted exactly in float32 (small integers).
    if count == 1:
        counts = _cooccurrence(drawn[0, :pairs])[None] * 2
    else:
        halves = drawn[:, :pairs].astype(np.float32)
        counts = np.matmul(halves.transpose(0, 2, 1), halves).astype(np.float64) * 2
    if single:
        last = drawn[:, pairs].astype(np.float64)
        counts += last[:, :, None] * last[:, None, :]
    inverses = _inverses(part.gram + share * _design_gram(counts))
    for array in (weights, units):
        array.setflags(write=False)
    plans = []
    for i, (inverse, identified) in enumerate(inverses):
        masks = np.concatenate([part.masks, drawn[i], ~drawn[i, :pairs]])
        masks.setflags(write=False)
        plans.append(Coalitions(masks, weights, inverse, False, units, identified))
    return plans


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


def _draws(m: int, n: int, done: int, rng: np.random.Generator) -> BoolArray:
    """``n`` coalitions drawn from the Shapley kernel over the sizes not enumerated (the caller pairs them with
    their complements). Duplicates are kept, as in the service's synthetic data."""
    size_weight = _size_weights(m)[done:]
    cumulative = np.cumsum(size_weight)
    picks = np.searchsorted(cumulative, rng.random(n) * cumulative[-1], side="right")
    sizes = done + 1 + np.minimum(picks, len(size_weight) - 1)  # a size with probability its kernel weight
    # A uniformly random subset of each size by selection sampling (Knuth's algorithm S), all rows at once and a
    # feature at a time: feature j joins a row with probability (features still to take) / (features left), so
    # every row gets exactly its size and every subset of that size is equally likely. Sorting random keys per row
    # took 4-5x as long (numpy sorts each short row on its own: 13 ms for 8,000 rows of 50 features, this 2.6 ms).
    drawn = np.empty((n, m), dtype=bool)
    step = max(1, _DRAW_CELLS // m)
    for start in range(0, n, step):
        rows = min(step, n - start)
        need = sizes[start : start + rows].astype(np.float32)
        keys = rng.random((m, rows), dtype=np.float32)  # feature-major: each step reads one contiguous row
        taken = np.empty((m, rows), dtype=bool)
        for j in range(m):
            # keys < 1 and need / left is exactly 1 when a row needs every feature left: it takes them all
            np.less(keys[j], need / np.float32(m - j), out=taken[j])
            need -= taken[j]
        drawn[start : start + rows] = taken.T
    return drawn


def _design_gram(counts: FloatArray) -> FloatArray:
    """sum d d^T over coalitions, with d = z[:-1] - z[-1] (the last feature eliminated by the efficiency
    constraint), from the co-occurrence counts C = sum z z^T of the same coalitions."""
    last = counts[..., -1, :-1]
    corner = counts[..., -1, -1, None, None]
    return np.asarray(counts[..., :-1, :-1] - last[..., :, None] - last[..., None, :] + corner, dtype=np.float64)


def _gram(masks: BoolArray, weights: FloatArray) -> FloatArray:
    """The weighted design's gram matrix, sum w d d^T (cached plans only: it is computed in float64)."""
    if len(masks) == 0:
        k = max(masks.shape[1] - 1, 0)
        return np.zeros((k, k))
    m = masks.shape[1]
    counts = np.zeros((m, m))
    step = max(1, BLOCK_CELLS // m)
    for start in range(0, len(masks), step):
        block = masks[start : start + step].astype(np.float64)
        counts += (block * weights[start : start + step, None]).T @ block
    return _design_gram(counts)


# Rows per block in the products with the masks: a block's float copy stays well under glibc's mmap threshold
# (128 KiB), so it reuses heap memory instead of faulting in fresh pages on every call (a whole 2,148 x 50 float64
# copy cost 0.9 ms of page faults against 0.04 ms for the arithmetic).
BLOCK_CELLS = 8192
# Cells per block of coalitions drawn: the per-feature steps cost the same for a block of any size, so blocks are
# large (2 MiB of keys; the explainer's processes keep such blocks on the heap, clarify_kit.core.blas).
_DRAW_CELLS = 1 << 19


def _cooccurrence(masks: BoolArray) -> FloatArray:
    """``masks.T @ masks`` (how often two features are in the same coalition), exact: float32 holds integer sums
    exactly up to 2^24, and computes them in half the time of float64 (float64 beyond that many coalitions)."""
    m = masks.shape[1]
    out = np.zeros((m, m), dtype=np.float32 if len(masks) < 1 << 24 else np.float64)
    step = max(1, 2 * BLOCK_CELLS // max(m, 1))
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


def _inverses(grams: FloatArray) -> list[tuple[FloatArray, bool]]:
    """_inverse of each of a stack of gram matrices (k, M - 1, M - 1), inverted together where all are regular."""
    if len(grams) == 1:
        return [_inverse(grams[0])]
    try:
        inverses = np.linalg.inv(grams)
    except np.linalg.LinAlgError:
        return [_inverse(gram) for gram in grams]
    probe = np.linspace(1.0, 2.0, grams.shape[-1])
    residuals = np.abs(grams @ (inverses @ probe)[..., None] - probe[:, None]).max(axis=(1, 2), initial=0.0)
    return [
        (np.asarray(inverse, dtype=np.float64), True) if residual <= 1e-8 else _inverse(gram)
        for gram, inverse, residual in zip(grams, inverses, residuals, strict=True)
    ]


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
